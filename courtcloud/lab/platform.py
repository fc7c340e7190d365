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
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Estate, HostRole, SiteRole
from . import router
from .plan import LabPlan
from .podman import LABEL, RECIPE, LabError, exists, podman, podman_json, remove_containers
from .pods import APP_LABEL, WORKER_LABEL, PodSpec, pod_specs, spec_from_dict
from .state import running_pid, stop_daemon

PODS_FILE = "pods.json"
AGENT_PID = "node-agent.pid"
AGENT_LOG = "node-agent.log"
AGENT_PERIOD_S = 3.0


@dataclass
class PlatformPlan:
    pods: list[PodSpec] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # apps placed but with no chart yet
    # (site, app) -> the rendered manifests
    manifests: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)


def workers_of(plan: LabPlan, estate: Estate, site_name: str, pool: str) -> list[tuple[str, str]]:
    """(container, app-zone address) of the pool's worker hosts, in pool order."""
    site = estate.site(site_name)
    zone = site.pool(pool).home_zone
    return [(h.container, dict(h.zone_addresses)[zone]) for h in plan.hosts
            if h.site == site_name and h.pool == pool
            and str(HostRole.k8s_worker) in h.roles]


def platform_plan(estate: Estate, plan: LabPlan, directory: Path,
                  witness_keys: dict[str, str] | None = None) -> PlatformPlan:
    """Every replica of every app placed in the lab stack, from its rendered chart."""
    from .. import charts

    result = PlatformPlan()
    for site in estate.sites:
        clusters = {c.name: c for c in site.kubernetes}
        for app in site.apps:
            if charts.chart_path(app) is None:
                result.skipped.append(f"{site.name}/{app.name}")
                continue
            cluster = clusters[app.cluster]
            workers = workers_of(plan, estate, site.name, cluster.worker_pool)
            manifests = charts.render(estate, site, app, witness_keys=witness_keys)
            namespace = charts.namespace_name(app)
            result.manifests[(site.name, str(app.name))] = manifests
            result.pods += pod_specs(
                estate.name, site.name, str(app.name), manifests, workers,
                secrets_dir=directory / "k8s-secrets" / site.name / namespace,
                config_dir=directory / "k8s-config" / site.name / namespace)
    return result


def ingress_routes(estate: Estate, site_name: str, pods: list[PodSpec]) -> list[dict[str, Any]]:
    """What each worker's ingress routes (roles/ingress): per app of the site, its published
    name and the site's own name for it, its port and readiness path, and its replicas."""
    from ..charts import site_service_name
    from ..model.published import published_names

    site = estate.site(site_name)
    published = {p.app: p.name for p in published_names(estate, site)}
    routes = []
    for app in site.apps:
        replicas = [p for p in pods if p.site == site_name and p.app == str(app.name)]
        if not replicas:
            continue
        first = replicas[0]
        routes.append({
            "app": first.app,
            "names": [published[first.app], site_service_name(first.app, site, estate)],
            "port": first.port,
            "readiness": first.readiness.path if first.readiness else "/",
            "replicas": [f"{p.worker_address}:{p.port}" for p in replicas]})
    return routes


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


# Where the lab finds each Secret the charts name: the stand-in for a court's secret store.
# Database passwords and S3 keys are the ones the roles generated on the controller when
# they made the logins; the rest the lab makes itself, once.
def secret_value(directory: Path, estate: Estate, site: str, secret: str, key: str) -> bytes:
    from . import identity

    generated = directory / "secrets"
    source: Path | None = None
    if secret.endswith("-database") and key == "password":
        source = generated / "postgresql_ha" / f"app-{secret.removesuffix('-database')}"
    elif secret == "litigation-s3" and key in ("access-key", "secret-key"):
        source = generated / "ceph" / site / f"evidence-{key}"
    elif secret == "chain-signing-key" and key == "signing.key":
        source = directory / CHAIN_KEYS / site / "signing.key"
    elif secret == "litigation-jwks" and key == "jwks.json":
        return json.dumps(identity.jwks(directory), indent=1).encode()
    elif secret == "courtcloud-ca" and key == "ca.crt":
        cas = [directory / "pki" / s.name / "ca.crt" for s in estate.sites]
        missing = [str(c) for c in cas if not c.exists()]
        if missing:
            raise LabError(f"Secret courtcloud-ca: {', '.join(missing)} missing; the pki role "
                           "makes the sites' CAs: run `courtcloud lab configure` first")
        return b"".join(c.read_bytes() for c in cas)
    if source is None:
        raise LabError(f"site {site}: the charts ask for Secret {secret} key {key}, which the lab "
                       "does not know how to make: add it to secret_value() in "
                       "courtcloud/lab/platform.py")
    if not source.exists():
        raise LabError(f"site {site}: Secret {secret} key {key} comes from {source}, which is "
                       "missing: the role that makes the login generates it; run "
                       "`courtcloud lab configure` first")
    return source.read_text().split()[0].encode()


def write_secrets(directory: Path, estate: Estate, platform: PlatformPlan) -> int:
    """Every Secret key the rendered pods mount, as a file in the pods' namespace folder,
    readable by the pod's group only. Returns how many files changed."""
    from ..charts import secrets_of

    written = 0
    for (site, _app), manifests in platform.manifests.items():
        deployment = next(m for m in manifests if m.get("kind") == "Deployment")
        sc = deployment["spec"]["template"]["spec"].get("securityContext") or {}
        gid = int(sc.get("runAsGroup", sc.get("runAsUser", 0)))
        namespace = deployment["metadata"]["namespace"]  # `charts.render` sets it
        folder = directory / "k8s-secrets" / site / namespace
        for secret, keys in secrets_of(manifests).items():
            for key in keys:
                value = secret_value(directory, estate, site, secret, key)
                written += write_secret(folder, secret, key, value, gid)
    return written


CHAIN_KEYS = Path("secrets") / "chain"
# Run inside the chain's own image: its own code makes the key (no SM2 code on this side).
_MAKE_CHAIN_KEY = ("import sys; from chain.domain.signing import Signer; "
                   "s = Signer.generate(sys.argv[1]); print(s.private_hex(), s.public_key.hex())")


def chain_keys(estate: Estate, directory: Path, log: Callable[[str], None]) -> dict[str, str]:
    """Each chain site's signing key, made once; the public halves by site (what the other
    sites' nodes pin as this node's witness key)."""
    from ..apps import releases
    from ..charts import chain_sites, chart_defaults

    if not chain_sites(estate):
        return {}
    release = releases()["chain"]
    algorithm = str(chart_defaults("chain")["signingAlgorithm"])
    keys = {}
    for site in chain_sites(estate):
        folder = directory / CHAIN_KEYS / site.name
        private, public = folder / "signing.key", folder / "signing.pub"
        if not (private.exists() and public.exists()):
            log(f"chain signing key of {site.name} ({algorithm}, made by the chain's own code)")
            proc = podman("run", "--rm", "--network", "none", "--entrypoint",
                          "/opt/chain/bin/python", release.image, "-c", _MAKE_CHAIN_KEY,
                          algorithm)
            private_hex, public_hex = proc.stdout.split()
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(private_hex + "\n")
            public.write_text(public_hex + "\n")
        keys[site.name] = public.read_text().strip()
    return keys


# --- pods -------------------------------------------------------------------------------

def _inspect(container: str, attempts: int = 3) -> dict[str, Any] | None:
    """The container's record, or None if it is gone. The node agent removes and recreates
    pods while others look: one can vanish between listing and inspecting (`lab status`), or
    be gone and already back under the same name (`lab apps`, a warm-standby pod the agent
    keeps recreating): then the new one is inspected."""
    for attempt in range(attempts):
        try:
            return podman_json("container", "inspect", container)[0]  # type: ignore[no-any-return]
        except LabError:
            if not exists("container", container):
                return None
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    return None


def _running_pid(container: str) -> int | None:
    info = _inspect(container)
    if info is None:
        return None
    state = info["State"]
    if not state.get("Running") or not Path(f"/proc/{state.get('Pid', 0)}").exists():
        return None
    return int(state["Pid"])


def _netns(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


@dataclass(frozen=True)
class Seen:
    """One container as a single `podman ps -a` listed it."""

    pid: int  # 0 unless it runs
    labels: dict[str, str]


def containers_now() -> dict[str, Seen]:
    """Every container by name, from one `podman ps -a` (the node agent's round and a
    convergence read all pods and workers at once: one podman process, not four per pod,
    which on 2 cores took a core from everything else the lab runs)."""
    seen = {}
    for c in podman_json("ps", "-a"):
        running = c.get("State") == "running" and Path(f"/proc/{c.get('Pid', 0)}").exists()
        for name in c.get("Names") or []:
            seen[name] = Seen(int(c.get("Pid") or 0) if running else 0, c.get("Labels") or {})
    return seen


def pod_action(spec: PodSpec, image_id: str, seen: dict[str, Seen]) -> str | None:
    """What the pod needs, from the containers as `seen`: create, recreate (changed, or cut
    off from a restarted worker), restart (it exited), wait (its worker is down), or nothing."""
    worker = seen.get(spec.worker)
    worker_pid = worker.pid if worker is not None and worker.pid else None
    pod = seen.get(spec.container)
    if pod is None:
        return "create" if worker_pid else "wait"
    if pod.labels.get(LABEL) != spec.estate:
        raise LabError(f"container {spec.container} exists but is not the lab's: remove or "
                       "rename it")
    if worker_pid is None:
        return "wait"
    if (pod.labels.get(RECIPE) != spec.recipe
            or pod.labels.get("io.courtcloud.image") != image_id):
        return "recreate"
    if not pod.pid:
        return "restart"  # it exited (crashed, or stopped with its worker)
    if _netns(pod.pid) != _netns(worker_pid):
        return "recreate"  # its worker was restarted: it sits in a namespace no one routes
    return None


def apply(spec: PodSpec, action: str, image_id: str) -> str:
    if action not in ("create", "recreate", "restart"):
        return ""
    if action != "create":
        remove_containers(spec.container)
    podman(*spec.run_args(image_id))
    return f"{action.removesuffix('e')}ed pod {spec.container} on {spec.worker}"


def image_ids(specs: list[PodSpec]) -> dict[str, str]:
    """The short id of each pod's image, from one `podman images`."""
    have = {}
    for image in podman_json("images"):
        for name in (image.get("Names") or []) + (image.get("RepoTags") or []):
            have[name] = str(image["Id"])[:12]
    ids = {}
    for image in sorted({s.image for s in specs}):
        if image not in have:
            raise LabError(f"image {image} is missing: `courtcloud lab images` builds it")
        ids[image] = have[image]
    return ids


def converge_pods(specs: list[PodSpec], log: Callable[[str], None]) -> list[str]:
    """Make the running pods match the specs: stale pods removed, each pod created or
    recreated as needed. Returns what changed."""
    changed = []
    wanted = {s.container for s in specs}
    estates = {s.estate for s in specs}
    for estate in estates:
        for ctr in pods_of(estate):
            name = ctr["Names"][0]
            if name not in wanted:
                remove_containers(name)
                changed.append(f"removed pod {name}")
    ids = image_ids(specs)
    seen = containers_now()
    for spec in specs:
        action = pod_action(spec, ids[spec.image], seen)
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


def remove_pods_on(worker: str) -> list[str]:
    """The pods sharing a worker's network, before the worker is removed or remade (podman
    refuses to remove a container whose network others share)."""
    names = [c["Names"][0] for c in podman_json("ps", "-a", "--filter",
                                                 f"label={WORKER_LABEL}={worker}")]
    if names:
        remove_containers(*names)
    return names


def remove_pods(estate: str) -> list[str]:
    """Every pod of the estate (before their workers: a worker whose network a pod shares
    cannot be removed first)."""
    names = [c["Names"][0] for c in pods_of(estate)]
    if names:
        remove_containers(*names)
    return names


_GET = ("import sys, urllib.request\n"
        "try:\n"
        "    r = urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))\n"
        "    sys.exit(0 if r.status == 200 else 1)\n"
        "except Exception:\n"
        "    sys.exit(1)\n")


def is_ready(spec: PodSpec, timeout_s: float = 2.0) -> bool:
    """The pod's readiness endpoint, asked from inside its worker's network as the ingress
    asks it; a pod without a readiness probe is ready when it runs."""
    if not exists("container", spec.container):
        return False
    pid = _running_pid(spec.container)
    if pid is None:
        return False
    if spec.readiness is None:
        return True
    url = f"http://127.0.0.1:{spec.readiness.port}{spec.readiness.path}"
    proc = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "--", sys.executable, "-c",
                           _GET, url, str(timeout_s)],
                          capture_output=True, timeout=timeout_s + 10, check=False)
    return proc.returncode == 0


def wait_ready(specs: list[PodSpec], wait_s: float,
               log: Callable[[str], None]) -> dict[str, bool]:
    """Readiness of every pod, waiting up to wait_s for all of them."""
    deadline = time.monotonic() + wait_s
    ready: dict[str, bool] = {}
    while True:
        ready = {s.container: ready.get(s.container) or is_ready(s) for s in specs}
        if all(ready.values()) or time.monotonic() > deadline:
            break
        time.sleep(2)
    for spec in specs:
        if not ready[spec.container]:
            log(f"{spec.container} is not ready after {wait_s:.0f} s: "
                f"`podman logs {spec.container}`")
    return ready


def warm_standby(estate: Estate, site: str, app: str) -> bool:
    """An app on a site whose PostgreSQL cluster follows another site's (a physical
    standby) that needs a writable database: its replicas run but cannot become ready
    until that cluster is promoted. The drills measure that switch. An app that serves
    reads from the copy (litigation) is ready there, and is not one."""
    from ..apps import releases
    from ..charts import chart_values

    shipped = releases().get(app)
    return (estate.site(site).role is not SiteRole.primary
            and not (shipped is not None and shipped.serves_from_standby)
            and "database" in chart_values(estate, estate.site(site), app))


@dataclass
class PlatformResult:
    plan: PlatformPlan
    changed: list[str] = field(default_factory=list)
    ready: dict[str, bool] = field(default_factory=dict)
    standby: list[str] = field(default_factory=list)  # pods not expected ready (warm standby)

    @property
    def serving(self) -> bool:
        """Every pod that should serve now is ready."""
        return all(ok for name, ok in self.ready.items() if name not in self.standby)


def start(estate: Estate, plan: LabPlan, directory: Path, log: Callable[[str], None], *,
          wait_s: float = 240) -> PlatformResult:
    """The apps on the workers: keys, charts rendered, Secrets as files, pods converged, the
    node agent running, then their readiness."""
    from . import identity

    keys = chain_keys(estate, directory, log)
    platform = platform_plan(estate, plan, directory, witness_keys=keys)
    result = PlatformResult(platform)
    if identity.ensure_key(directory):
        result.changed.append("made the identity provider's key")
    if write_secrets(directory, estate, platform):
        result.changed.append("wrote the apps' Secrets")
    if write_config_files(platform.pods):
        result.changed.append("wrote the apps' ConfigMaps")
    result.changed += converge_pods(platform.pods, log)
    if write_pods_file(directory, platform.pods):
        result.changed.append(f"wrote {directory / PODS_FILE}")
    if NodeAgent(directory, estate.name).ensure():
        result.changed.append("started the node agent")
    result.standby = [p.container for p in platform.pods
                      if warm_standby(estate, p.site, p.app)]
    serving = [p for p in platform.pods if p.container not in result.standby]
    result.ready = wait_ready(serving, wait_s, log)
    result.ready.update({name: is_ready(p) for p in platform.pods
                         if (name := p.container) in result.standby})
    return result


def _database_leader(estate: Estate, plan: LabPlan, site: str) -> str:
    """The site's Patroni leader (or standby leader), as Patroni itself reports it."""
    for spec in plan.hosts:
        if spec.site != site or str(HostRole.database) not in spec.roles:
            continue
        proc = podman("exec", spec.container, "patronictl", "-c", "/etc/patroni/config.yml",
                      "list", "-f", "json", check=False, timeout=30)
        if proc.returncode != 0:
            continue
        for member in json.loads(proc.stdout or "[]"):
            if member.get("Role") in ("Leader", "Standby Leader"):
                return f"{member['Member']} ({member['Role'].lower()})"
        return "none"
    return "-"


def _ceph_health(plan: LabPlan, site: str) -> str:
    for spec in plan.hosts:
        if spec.site != site or str(HostRole.ceph_mon) not in spec.roles:
            continue
        proc = podman("exec", spec.container, "ceph", "health", check=False, timeout=30)
        if proc.returncode == 0:
            return proc.stdout.strip().split()[0] if proc.stdout.strip() else "?"
    return "-"


def status(estate: Estate, plan: LabPlan, directory: Path) -> list[dict[str, Any]]:
    """Per site: each app's published URL, version and replicas ready of desired, the
    database leader, Ceph's health, and where evidence objects are copied."""
    from ..apps import releases
    from ..charts import chart_path
    from ..model.published import published_names

    specs = read_pods_file(directory)
    versions = {name: r.version for name, r in releases().items() if chart_path(name)}
    rows = []
    for site in estate.sites:
        published = {p.app: p.name for p in published_names(estate, site)}
        apps = []
        for app in site.apps:
            pods = [p for p in specs if p.site == site.name and p.app == str(app.name)]
            apps.append({
                "app": str(app.name),
                "url": f"https://{published.get(str(app.name), '?')}/",
                "version": (pods[0].image.rsplit(":", 1)[-1] if pods
                            else versions.get(str(app.name), "no chart")),
                "started": bool(pods),
                "warm_standby": warm_standby(estate, site.name, str(app.name))
                if chart_path(str(app.name)) else False,
                "desired": app.replicas,
                "ready": sum(is_ready(p) for p in pods),
                "pods": [p.container for p in pods]})
        rows.append({
            "site": site.name, "apps": apps,
            "database_leader": _database_leader(estate, plan, site.name),
            "ceph": _ceph_health(plan, site.name),
            "evidence_copied_to": (site.replication.objects_peer_site
                                   if site.replication else None)})
    return rows


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
    """`courtcloud lab agent` in the background, one per estate, started by `lab up` (and
    `lab apps`) and stopped by `lab down`."""

    def __init__(self, directory: Path, estate: str):
        self.directory, self.estate = directory, estate
        self.pidfile = directory / AGENT_PID

    def pid(self) -> int | None:
        return running_pid(self.pidfile)

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
        return stop_daemon(self.pidfile)


# A pod that keeps exiting is restarted after a growing pause, as a kubelet's back-off does:
# 10 s, 20 s, ... at most 5 min; a pod that ran for 2 min starts counting again.
BACKOFF_S = (10.0, 300.0)
BACKOFF_RESET_S = 120.0


class Backoff:
    def __init__(self, first_s: float = BACKOFF_S[0], most_s: float = BACKOFF_S[1],
                 reset_s: float = BACKOFF_RESET_S):
        self.first_s, self.most_s, self.reset_s = first_s, most_s, reset_s
        self.restarts: dict[str, int] = {}
        self.started: dict[str, float] = {}

    def may_restart(self, name: str, now: float) -> bool:
        count = self.restarts.get(name, 0)
        if count == 0:
            return True
        if now - self.started.get(name, now) >= self.reset_s + self.delay(count):
            self.restarts[name] = 0  # it ran long enough before exiting: a fresh start
            return True
        return now - self.started.get(name, 0) >= self.delay(count)

    def delay(self, count: int) -> float:
        return min(self.first_s * 2 ** (count - 1), self.most_s)

    def restarted(self, name: str, now: float) -> None:
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.started[name] = now


def run_agent(directory: Path, period_s: float = AGENT_PERIOD_S,
              rounds: int | None = None) -> None:
    """Keep every pod of pods.json attached to its running worker. Logs each repair."""
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    def say(message: str) -> None:
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {message}", flush=True)

    signal.signal(signal.SIGTERM, _stop)
    backoff = Backoff()
    done = 0
    while not stop and (rounds is None or done < rounds):
        done += 1
        try:
            bridges = directory / router.BRIDGES_FILE
            if bridges.exists() and router.enable_forwarding(json.loads(bridges.read_text())):
                say("forwarding on again between the lab's zones (a host on them restarted)")
            specs = read_pods_file(directory)
            ids = image_ids(specs) if specs else {}
            seen = containers_now() if specs else {}
            for spec in specs:
                action = pod_action(spec, ids[spec.image], seen)
                now = time.monotonic()
                if action == "restart":
                    if not backoff.may_restart(spec.container, now):
                        continue
                    backoff.restarted(spec.container, now)
                if action in ("create", "recreate", "restart"):
                    say(apply(spec, action, ids[spec.image]))
        except (LabError, subprocess.SubprocessError, OSError, KeyError) as exc:
            say(str(exc))
        time.sleep(period_s)
