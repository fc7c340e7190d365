"""The apps of every site on the lab's workers: the charts rendered with each site's values
(`courtcloud.charts`), their replicas run as pods (`pods`), their Secrets as files made from
the lab's generated secrets, and a node agent that keeps each pod attached to its worker.

The node agent does for these pods the one thing a kubelet would and podman does not: when
a worker host is stopped and started again (a drill, a crash), its network namespace is new
and the pods that shared the old one are cut off; the agent recreates them in the new one.
Readiness is not the agent's: each worker's ingress (HAProxy, the `ingress` role) checks
every replica's readiness endpoint itself and sends traffic only to those that answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Estate, HostRole
from .plan import LabPlan
from .podman import LABEL, RECIPE, LabError, exists, podman, podman_json, remove_containers
from .pods import APP_LABEL, PodSpec, pod_specs, spec_from_dict

PODS_FILE = "pods.json"
AGENT_PID = "node-agent.pid"
AGENT_LOG = "node-agent.log"
AGENT_PERIOD_S = 3.0


@dataclass
class PlatformPlan:
    pods: list[PodSpec] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # apps placed but with no chart yet


def workers_of(plan: LabPlan, estate: Estate, site_name: str, pool: str) -> list[tuple[str, str]]:
    """(container, app-zone address) of the pool's worker hosts, in pool order."""
    site = estate.site(site_name)
    zone = site.pool(pool).home_zone
    return [(h.container, dict(h.zone_addresses)[zone]) for h in plan.hosts
            if h.site == site_name and h.pool == pool
            and str(HostRole.k8s_worker) in h.roles]


def platform_plan(estate: Estate, plan: LabPlan, directory: Path) -> PlatformPlan:
    """Every replica of every app placed in the lab stack, from its rendered chart."""
    from .. import charts  # helm_python: only when the platform is wanted

    result = PlatformPlan()
    for site in estate.sites:
        clusters = {c.name: c for c in site.kubernetes}
        for app in site.apps:
            if charts.chart_path(str(app.name)) is None:
                result.skipped.append(f"{site.name}/{app.name}")
                continue
            cluster = clusters[app.cluster]
            workers = workers_of(plan, estate, site.name, cluster.worker_pool)
            manifests = charts.render(estate, site, app)
            result.pods += pod_specs(
                estate.name, site.name, str(app.name), manifests, workers,
                secrets_dir=directory / "k8s-secrets" / site.name,
                config_dir=directory / "k8s-config" / site.name / str(app.name))
    return result


# --- the pods' Secrets, as files --------------------------------------------------------

SecretSource = Callable[[], bytes]


def write_secret(directory: Path, name: str, key: str, value: bytes, gid: int) -> bool:
    """One key of a Secret as a file readable by the pod's group only (what a kubelet does
    with fsGroup). True if written."""
    folder = directory / name
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, 0, gid)
    folder.chmod(0o750)
    path = folder / key
    if path.exists() and path.read_bytes() == value and path.stat().st_gid == gid:
        return False
    tmp = path.with_name(f".{key}.new")
    tmp.write_bytes(value)
    os.chown(tmp, 0, gid)
    tmp.chmod(0o440)
    tmp.replace(path)
    return True


def mounted_secrets(spec: PodSpec) -> list[Path]:
    """The Secret files (or folders) the pod mounts, as paths under the lab's state."""
    found = []
    options = list(spec.options)
    for flag, value in itertools.pairwise(options):
        if flag == "-v" and "/k8s-secrets/" in value:
            found.append(Path(value.split(":", 1)[0]))
    return found


def write_config_files(specs: list[PodSpec]) -> int:
    written = 0
    for spec in specs:
        for path_text, text in spec.files:
            path = Path(path_text)
            if path.exists() and path.read_text() == text:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o644)
            written += 1
    return written


# --- pods -------------------------------------------------------------------------------

def _running_pid(container: str) -> int | None:
    info = podman_json("container", "inspect", container)[0]
    state = info["State"]
    if not state.get("Running") or not Path(f"/proc/{state.get('Pid', 0)}").exists():
        return None
    return int(state["Pid"])


def _netns(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


def pod_action(spec: PodSpec, image_id: str) -> str | None:
    """What the pod needs: create, recreate (changed, or cut off from a restarted worker),
    wait (its worker is down), or nothing."""
    worker_pid = _running_pid(spec.worker) if exists("container", spec.worker) else None
    if not exists("container", spec.container):
        return "create" if worker_pid else "wait"
    info = podman_json("container", "inspect", spec.container)[0]
    labels = info["Config"].get("Labels") or {}
    if labels.get(LABEL) != spec.estate:
        raise LabError(f"container {spec.container} exists but is not the lab's: remove or "
                       "rename it")
    if worker_pid is None:
        return "wait"
    if labels.get(RECIPE) != spec.recipe or labels.get("io.courtcloud.image") != image_id:
        return "recreate"
    pid = info["State"].get("Pid", 0) if info["State"].get("Running") else 0
    if not pid or _netns(pid) != _netns(worker_pid):
        return "recreate"
    return None


def apply(spec: PodSpec, action: str, image_id: str) -> str:
    if action in ("create", "recreate"):
        if action == "recreate":
            remove_containers(spec.container)
        podman(*spec.run_args(image_id))
        return f"{action}d pod {spec.container} on {spec.worker}"
    return ""


def image_ids(specs: list[PodSpec]) -> dict[str, str]:
    ids = {}
    for image in sorted({s.image for s in specs}):
        if not exists("image", image):
            raise LabError(f"image {image} is missing: `courtcloud lab images` builds it")
        ids[image] = podman_json("image", "inspect", image)[0]["Id"][:12]
    return ids


def converge_pods(specs: list[PodSpec], log: Callable[[str], None]) -> list[str]:
    """Make the running pods match the specs: stale pods removed, each pod created or
    recreated as needed. Returns what changed."""
    changed = []
    wanted = {s.container for s in specs}
    estates = {s.estate for s in specs}
    for estate in estates:
        for ctr in podman_json("ps", "-a", "--filter", f"label={LABEL}={estate}",
                               "--filter", f"label={APP_LABEL}"):
            name = ctr["Names"][0]
            if name not in wanted:
                remove_containers(name)
                changed.append(f"removed pod {name}")
    ids = image_ids(specs)
    for spec in specs:
        action = pod_action(spec, ids[spec.image])
        if action == "wait":
            log(f"{spec.container}: worker {spec.worker} is not running; the node agent starts "
                "the pod when it is")
        elif action:
            message = apply(spec, action, ids[spec.image])
            log(message)
            changed.append(message)
    return changed


def pods_of(estate: str) -> list[dict[str, Any]]:
    return podman_json("ps", "-a", "--filter", f"label={LABEL}={estate}",
                       "--filter", f"label={APP_LABEL}")


def remove_pods(estate: str) -> list[str]:
    """Every pod of the estate (before their workers: a worker whose network a pod shares
    cannot be removed first)."""
    names = [c["Names"][0] for c in pods_of(estate)]
    if names:
        remove_containers(*names)
    return names


# --- the node agent -----------------------------------------------------------------------

def write_pods_file(directory: Path, specs: list[PodSpec]) -> bool:
    """The specs the node agent keeps running, in the lab's state."""
    path = directory / PODS_FILE
    text = json.dumps([dataclasses.asdict(s) for s in specs], indent=1) + "\n"
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_suffix(".new")
    tmp.write_text(text)
    tmp.replace(path)
    return True


def read_pods_file(directory: Path) -> list[PodSpec]:
    path = directory / PODS_FILE
    if not path.exists():
        return []
    return [spec_from_dict(row) for row in json.loads(path.read_text())]


class NodeAgent:
    """`courtcloud lab agent` in the background, one per estate, started by `lab up` and
    stopped by `lab down`."""

    def __init__(self, directory: Path, estate: str):
        self.directory, self.estate = directory, estate
        self.pidfile = directory / AGENT_PID

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def ensure(self) -> bool:
        """Start the agent unless it runs. True if started."""
        if self.pid():
            return False
        log = open(self.directory / AGENT_LOG, "a")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(
            [sys.executable, "-m", "courtcloud", "lab", "agent", "--estate", self.estate],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "COURTCLOUD_STATE_DIR":
                                         str(self.directory.parent)})
        log.close()
        self.pidfile.write_text(str(proc.pid))
        return True

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        self.pidfile.unlink(missing_ok=True)
        return True


def run_agent(directory: Path, period_s: float = AGENT_PERIOD_S,
              rounds: int | None = None) -> None:
    """Keep every pod of pods.json attached to its running worker. Logs each repair."""
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    done = 0
    while not stop and (rounds is None or done < rounds):
        done += 1
        try:
            specs = read_pods_file(directory)
            ids = image_ids(specs) if specs else {}
            for spec in specs:
                action = pod_action(spec, ids[spec.image])
                if action in ("create", "recreate"):
                    message = apply(spec, action, ids[spec.image])
                    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", flush=True)
        except (LabError, subprocess.SubprocessError, OSError, KeyError) as exc:
            print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {exc}", flush=True)
        time.sleep(period_s)


def clear_state(directory: Path) -> None:
    for name in ("k8s-secrets", "k8s-config"):
        shutil.rmtree(directory / name, ignore_errors=True)
