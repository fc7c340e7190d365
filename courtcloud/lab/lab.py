"""Bringing the lab up and down: the steps, in order, each idempotent.

`up` converges the machine on the plan derived from the site model and undoes what it
created itself if a step fails; `down` removes what carries the lab's label, nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from .. import apps
from ..inventory import build_inventory
from ..model import Estate, Host, estate_hosts
from . import access, hostprep, identity, images, platform, router
from .plan import BASE_IMAGE, HOST_IMAGE, SERVER_IMAGE, BenchSpec, HostSpec, LabPlan, lab_plan
from .podman import (
    LABEL,
    RECIPE,
    LabError,
    exists,
    labelled,
    podman,
    podman_json,
    remove_containers,
)
from .proxy import PackageProxy
from .state import Undo, lab_lock, state_dir

BOOT_TIMEOUT_S = 90


class Progress(Protocol):
    def step(self, title: str) -> Any: ...  # a context manager around one step
    def log(self, message: str) -> None: ...


@dataclass
class UpResult:
    plan: LabPlan
    changed: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    inventory: Path | None = None
    proxy: list[str] = field(default_factory=list)


class _Timed:
    def __init__(self, progress: Progress, result: UpResult):
        self.progress, self.result = progress, result

    @contextmanager
    def __call__(self, title: str) -> Iterator[None]:
        start = time.monotonic()
        with self.progress.step(title):
            yield
        self.result.timings[title] = round(time.monotonic() - start, 2)


def up(estate: Estate, progress: Progress, *, configure_host: bool = True) -> UpResult:
    plan = lab_plan(estate)
    directory = state_dir(estate.name)
    result = UpResult(plan)
    timed = _Timed(progress, result)
    with lab_lock(directory):
        undo = Undo()
        try:
            if configure_host:
                with timed("host packages"):
                    added = hostprep.install_packages(progress.log)
                    if added:
                        result.changed.append(f"installed {', '.join(added)}")
                with timed("podman settings"):
                    if hostprep.write_containers_conf():
                        result.changed.append(f"wrote {hostprep.CONTAINERS_CONF}")
            with timed("host check"):
                # Before anything is built: a missing command named here, not deep in podman.
                hostprep.check_host()
            with timed("base image"):
                if images.build_base(estate.name, progress.log):
                    result.changed.append(f"built {BASE_IMAGE}")
            with timed("host image"):
                if images.build_host(estate.name, progress.log):
                    result.changed.append(f"built {HOST_IMAGE}")
            with timed("server image"):
                if images.build_server(estate.name, progress.log, directory / "log"):
                    result.changed.append(f"built {SERVER_IMAGE}")
            releases = list(apps.releases().values())
            with timed(f"app images ({len(releases)})"):
                for release in releases:
                    if images.build_app(release, estate.name, progress.log):
                        result.changed.append(f"built {release.image}")
                directory.mkdir(parents=True, exist_ok=True)
                path, changed = images.write_image_list(directory, releases)
                if changed:
                    result.changed.append(f"wrote {path}")
            with timed(f"networks ({len(plan.all_networks)})"):
                _converge_networks(plan, result, undo, progress)
            with timed(f"hosts ({len(plan.hosts)})"):
                _converge_hosts(plan, result, undo, progress)
            with timed("router and routes"):
                _converge_routing(plan, result, undo)
            with timed("package proxy"):
                proxy = PackageProxy(directory)
                gateways = [str(n.gateway) for n in plan.all_networks]
                was_running = proxy.pid() is not None
                if proxy.ensure(gateways):
                    result.changed.append("started the package proxy")
                    if not was_running:
                        undo.add("package proxy", proxy.stop)
                result.proxy = proxy.bound()
            with timed("automation account"):
                _converge_access(estate, plan, directory, result)
            with timed("node agent"):
                # It keeps forwarding on between the zones (netavark turns it off whenever a
                # host restarts) and, once `lab apps` ran, the pods on their workers.
                agent = platform.NodeAgent(directory, estate.name)
                if agent.ensure():
                    result.changed.append("started the node agent")
                    undo.add("node agent", agent.stop)
            with timed("identity provider"):
                if identity.ensure_key(directory):
                    result.changed.append(f"made the identity provider's key "
                                          f"{directory / identity.KEY}")
            with timed("inventory"):
                result.inventory = _write_inventory(estate, directory, result)
        except BaseException:
            problems = undo.run()
            if problems:
                progress.log("could not undo: " + "; ".join(problems))
            raise
    return result


def _converge_networks(plan: LabPlan, result: UpResult, undo: Undo, progress: Progress) -> None:
    wanted = {n.name: n for n in plan.all_networks}
    for net in labelled("network", plan.estate):
        if net["name"] not in wanted:
            _remove_stale_network(net["name"], result, progress)
    for spec in plan.all_networks:
        if exists("network", spec.name):
            info = podman_json("network", "inspect", spec.name)[0]
            labels = info.get("labels") or {}
            if labels.get(LABEL) != plan.estate:
                raise LabError(f"network {spec.name} exists but is not the lab's (no "
                               f"{LABEL}={plan.estate} label): remove or rename it")
            if labels.get(RECIPE) == spec.recipe:
                continue
            progress.log(f"network {spec.name} changed in the model: recreating it")
            _remove_containers_on(spec.name)
            podman("network", "rm", spec.name)
        podman(*spec.create_args())
        undo.add(f"network {spec.name}", lambda n=spec.name: podman("network", "rm", "-f", n))
        result.changed.append(f"created network {spec.name} ({spec.subnet})")


def _remove_stale_network(name: str, result: UpResult, progress: Progress) -> None:
    progress.log(f"network {name} is no longer in the model: removing it")
    _remove_containers_on(name)
    podman("network", "rm", "-f", name)
    result.changed.append(f"removed network {name}")


def _remove_containers_on(network: str) -> None:
    for ctr in podman_json("ps", "-a", "--filter", f"network={network}"):
        remove_containers(ctr["Id"])


def _converge_hosts(plan: LabPlan, result: UpResult, undo: Undo, progress: Progress) -> None:
    wanted = {h.container for h in plan.hosts} | ({plan.bench.anchor} if plan.bench else set())
    for ctr in labelled("container", plan.estate):
        name = ctr["Names"][0]
        if name not in wanted:
            if (ctr.get("Labels") or {}).get(platform.APP_LABEL):
                continue  # a pod: the platform step converges those
            progress.log(f"host {name} is no longer in the model: removing it")
            platform.remove_pods_on(name)
            remove_containers(name)
            result.changed.append(f"removed host {name}")
    image = images.image_id(SERVER_IMAGE)
    todo: list[tuple[HostSpec, str]] = []
    for spec in plan.hosts:
        action = _host_action(spec, image)
        if action:
            todo.append((spec, action))
    # New hosts are bare until the site playbook has run: pods started on them now would only
    # fail, so the node agent forgets the pods until `lab apps` (the end of a full `lab up`).
    if any(action in ("create", "recreate") for _, action in todo):
        pods = state_dir(plan.estate) / platform.PODS_FILE
        if pods.exists():
            pods.unlink()
            progress.log("the node agent leaves the apps alone until `lab apps`")
        (state_dir(plan.estate) / CONFIGURED_FILE).unlink(missing_ok=True)

    def apply(item: tuple[HostSpec, str]) -> str:
        spec, action = item
        if action == "start":
            podman("start", spec.container)
            return f"started host {spec.container}"
        if action == "recreate":
            platform.remove_pods_on(spec.container)  # the node agent remakes them after
            remove_containers(spec.container)
        podman(*spec.run_args(image))
        # This machine may still know an earlier host's link address for these addresses.
        for _, address in spec.networks:
            subprocess.run(["ip", "neigh", "flush", "to", address], capture_output=True,
                           check=False)
        undo.add(f"host {spec.container}",
                 lambda c=spec.container: remove_containers(c))
        return f"{'re' if action == 'recreate' else ''}created host {spec.container}"

    # podman serialises what must be; four at a time keeps two cores busy, not swamped.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for message in pool.map(apply, todo):
            progress.log(message)
            result.changed.append(message)
    _wait_for_boot([s for s, _ in todo], progress)
    if plan.bench:
        _converge_bench_anchor(plan.bench, result, undo)


def _converge_bench_anchor(bench: BenchSpec, result: UpResult, undo: Undo) -> None:
    if exists("container", bench.anchor):
        info = podman_json("container", "inspect", bench.anchor)[0]
        if (info["Config"].get("Labels") or {}).get(RECIPE) == bench.recipe and not _lost(info):
            if not info["State"]["Running"]:
                podman("start", bench.anchor)
                result.changed.append(f"started {bench.anchor}")
            return
        remove_containers(bench.anchor)
    podman(*bench.run_args())
    undo.add(f"bench anchor {bench.anchor}",
             lambda: remove_containers(bench.anchor))
    result.changed.append(f"created bench anchor {bench.anchor}")


def _converge_routing(plan: LabPlan, result: UpResult, undo: Undo) -> None:
    had_table = router.current_bridges(plan.estate) is not None
    path = state_dir(plan.estate) / router.BRIDGES_FILE
    path.write_text(json.dumps(router.bridges(plan)))  # for the node agent (forwarding)
    if router.ensure(plan):
        result.changed.append("routed between the lab's zones")
        if not had_table:
            undo.add("lab router", lambda: router.remove(plan.estate))
    with ThreadPoolExecutor(max_workers=4) as pool:
        added = pool.map(lambda spec: router.ensure_network(plan, spec), plan.hosts)
        for spec, changed in zip(plan.hosts, added, strict=True):
            if changed:
                result.changed.append(f"MACs and routes on {spec.container}")


def _host_action(spec: HostSpec, image: str) -> str | None:
    if not exists("container", spec.container):
        return "create"
    info = podman_json("container", "inspect", spec.container)[0]
    labels = info["Config"].get("Labels") or {}
    if labels.get(LABEL) != spec.estate:
        raise LabError(f"container {spec.container} exists but is not the lab's: remove or "
                       "rename it")
    if labels.get(RECIPE) != spec.recipe or labels.get("io.courtcloud.image") != image:
        return "recreate"
    if _lost(info):
        return "recreate"
    return None if info["State"]["Running"] else "start"


def _lost(info: dict[str, Any]) -> bool:
    """podman says running but its process is gone (the machine's processes were killed
    behind podman's back): such a container can be neither stopped nor started, only
    removed and made again."""
    state = info["State"]
    return bool(state["Running"]) and _process_gone(state.get("Pid", 0))


def _process_gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def _wait_for_boot(specs: list[HostSpec], progress: Progress) -> None:
    """Wait until systemd in each new host has finished booting (running or degraded)."""
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    for spec in specs:
        while True:
            proc = podman("exec", spec.container, "systemctl", "is-system-running",
                          check=False, timeout=30)
            state = proc.stdout.strip()
            if state in ("running", "degraded"):
                if state == "degraded":
                    failed = podman("exec", spec.container, "systemctl", "--failed",
                                    "--no-legend", "--plain", check=False).stdout.strip()
                    progress.log(f"{spec.container}: booted degraded: {failed}")
                break
            if time.monotonic() > deadline:
                raise LabError(f"{spec.container} did not finish booting in {BOOT_TIMEOUT_S} s "
                               f"(systemd says {state or proc.stderr.strip()}); see "
                               f"`podman logs {spec.container}`")
            time.sleep(0.5)


def _converge_access(estate: Estate, plan: LabPlan, directory: Path,
                     result: UpResult) -> None:
    if access.ensure_key(directory, estate.name):
        result.changed.append(f"made the controller's key {directory / access.KEY}")
    hosts = {h.name: h for h in estate_hosts(estate)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda spec: access.ensure_account(directory, spec.container),
                             plan.hosts))
    keys = []
    for spec, (changed, key) in zip(plan.hosts, done, strict=True):
        keys.append((hosts[spec.hostname], key))
        if changed:
            result.changed.append(f"automation account on {spec.container}")
    if access.write_known_hosts(directory, keys):
        result.changed.append(f"wrote {directory / access.KNOWN_HOSTS}")


def lab_connection(estate: Estate) -> Callable[[Host], dict[str, Any]]:
    return access.connection(estate, state_dir(estate.name))


def _write_inventory(estate: Estate, directory: Path, result: UpResult) -> Path:
    inventory = build_inventory(estate, access.connection(estate, directory))
    # The lab's workers also run each site's ingress (roles/ingress), routing to the pods.
    pods = platform.platform_plan(estate, result.plan, directory).pods
    workers = {p.worker for p in pods}
    for spec in result.plan.hosts:
        if spec.container in workers:
            inventory["all"]["hosts"][spec.hostname]["courtcloud_ingress_routes"] = (
                platform.ingress_routes(estate, spec.site, pods))
    path = directory / "inventory.yml"
    text = "# Managed by courtcloud: the lab's Ansible inventory, derived from the site model.\n"
    text += yaml.safe_dump(inventory, sort_keys=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        result.changed.append(f"wrote {path}")
    return path


CONFIGURED_FILE = "site-configured"  # a whole site run succeeded on the hosts as they are


def configured(estate_name: str) -> bool:
    """True once the site playbook has run whole and well on the lab's current hosts."""
    return (state_dir(estate_name) / CONFIGURED_FILE).exists()


class PlaybookStalled(LabError):
    """ansible-playbook wrote nothing for too long: hung, and stopped."""


STALL_S = 600.0  # the slowest task (Ceph's packages on every host) writes within 3 min


def run_watched(command: list[str], *, cwd: Path, env: dict[str, str], stdout: Any,
                log: Path, stall_s: float) -> int:
    """Run ansible-playbook; if its log has not grown for ``stall_s`` seconds, it is hung
    (a task that hangs is stopped by Ansible's own task_timeout, but a controller that stops
    between tasks is not): stop it and raise PlaybookStalled naming the last line logged."""
    def size() -> int:
        try:
            return log.stat().st_size
        except OSError:
            return -1

    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout)
    seen, since = size(), time.monotonic()
    while True:
        try:
            return proc.wait(timeout=min(15.0, stall_s))
        except subprocess.TimeoutExpired:
            pass
        now_size = size()
        if now_size != seen:
            seen, since = now_size, time.monotonic()
            continue
        if time.monotonic() - since < stall_s:
            continue
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        last = ""
        try:
            lines = [x for x in log.read_text(errors="replace").splitlines() if x.strip()]
            last = lines[-1][-300:] if lines else ""
        except OSError:
            pass
        raise PlaybookStalled(f"ansible-playbook wrote nothing to {log} for {stall_s:.0f} s and"
                              f" was stopped as hung; its last line: {last or '(none)'}")


LOG_KEEP_BYTES = 20 * 1024 * 1024  # a few site runs; the run before stays in <log>.1


def rotate_log(log: Path, keep_bytes: int = LOG_KEEP_BYTES) -> bool:
    """Start a new Ansible log once the current one passes keep_bytes, keeping the last
    one as `<log>.1` (a site run writes a few MB; the log used to grow for ever)."""
    try:
        if log.stat().st_size <= keep_bytes:
            return False
    except OSError:
        return False
    log.replace(log.with_name(log.name + ".1"))
    return True


def running_hosts(estate: Estate) -> list[str]:
    """The lab's host containers that run now, in the plan's order."""
    running = {c["Names"][0] for c in labelled("container", estate.name)
               if c.get("State") == "running"}
    return [h.container for h in lab_plan(estate).hosts if h.container in running]


WARM_INDEX_TIMEOUT_S = 240.0


def warm_package_indexes(estate: Estate, say: Callable[[str], None]) -> bool:
    """One running host fetches the package indexes through the proxy before a playbook
    run, so that the hosts' updates, all at once, find them fresh in the proxy (its
    FreshIndexMaxAge) rather than making it refresh one file for many clients in the same
    second, which apt-cacher-ng 3.7 gets wrong. True if it worked; a failure is only said:
    the playbook's own package tasks then report what is wrong, host by host."""
    host = next(iter(running_hosts(estate)), None)
    if host is None:
        return False
    try:
        proc = podman("exec", host, "apt-get", "update", "-qq", check=False,
                      timeout=WARM_INDEX_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        say(f"warning: `apt-get update` on {host} took over {WARM_INDEX_TIMEOUT_S:.0f} s; "
            "going on without fresh indexes in the package proxy")
        return False
    if proc.returncode != 0:
        say(f"warning: `apt-get update` on {host} failed ({proc.stderr.strip()[-300:]}); "
            "going on without fresh indexes in the package proxy")
        return False
    return True


# What a stopped run leaves on the hosts: its module processes (a task runs as `sh -c 'echo
# BECOME-SUCCESS-...; python3'` under sudo, or in Mitogen's interpreter under `sudo -p
# mitogen-sudo-prompt:`) and apt's download methods, which hold the package
# lists' lock that the next run's package tasks would wait on. An update cut short leaves
# lists that are incomplete but new, which the roles' cache_valid_time would trust ("No
# package matching 'nginx'", seen in a rehearsal): they are dated 1970 so the next run
# fetches them again. The bracket keeps pgrep from matching this script's own command line.
_STRANDED = ("if pkill -KILL -f '^/usr/lib/apt/methods/'; then touch -d @0 /var/lib/apt/lists;"
             " rm -f /var/lib/apt/periodic/update-success-stamp; fi; "
             "for p in $(pgrep -f 'BECOME-SUCCES[S]|mitogen-sudo-promp[t]'); do"
             " pkill -KILL -P \"$p\"; kill -KILL \"$p\"; done; true")


def stop_stranded_tasks(estate: Estate) -> None:
    """After a run was stopped as hung: end the tasks it left running on the hosts."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: podman("exec", c, "sh", "-c", _STRANDED, check=False,
                                       timeout=60), running_hosts(estate)))


# Mitogen's linear strategy: one Python per host for the whole run instead of a new one per
# task (the remote interpreter's start and the module's unpacking were most of the CPU of a
# converged run on 2 cores). COURTCLOUD_ANSIBLE_STRATEGY=linear goes back to Ansible's own.
STRATEGY = "mitogen_linear"


def strategy_env(strategy: str) -> dict[str, str]:
    """The environment that makes ansible-playbook use ``strategy``: Ansible's own, or
    Mitogen's (``mitogen_linear``, ``mitogen_free``), whose plugins live in its package."""
    if not strategy.startswith("mitogen"):
        return {"ANSIBLE_STRATEGY": strategy}
    try:
        import ansible_mitogen
    except ImportError as exc:
        raise LabError(f"COURTCLOUD_ANSIBLE_STRATEGY={strategy} needs Mitogen: "
                       "pip install -r requirements/ansible.txt") from exc
    plugins = Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY": strategy, "ANSIBLE_STRATEGY_PLUGINS": str(plugins)}


def configure(estate: Estate, project_dir: Path, playbook: str, extra: list[str],
              via: str = "ssh", stdout: Any = None, stall_s: float = STALL_S) -> int:
    """ansible-playbook over the lab's inventory; the controller keeps the sites' CAs and
    generated secrets in the lab's state directory, never in the repository."""
    directory = state_dir(estate.name)
    inventory = directory / "inventory.yml"
    if not inventory.exists():
        raise LabError(f"{inventory} is missing: run `courtcloud lab up` first")
    if via == "podman":
        inventory = directory / "inventory.podman.yml"
        inventory.write_text(yaml.safe_dump(
            build_inventory(estate, access.podman_connection(estate, directory)),
            sort_keys=False))
    path = hostprep.ansible_path()
    env = {**os.environ, "PATH": path, "ANSIBLE_CONFIG": str(project_dir / "ansible.cfg"),
           "COURTCLOUD_PKI_DIR": str(directory / "pki"),
           "COURTCLOUD_SECRETS_DIR": str(directory / "secrets")}
    # Every run's tasks, with their times and hosts, stay in the lab's log after the terminal
    # has scrolled them away (a run that was stopped can be read back to where it stopped).
    env.setdefault("ANSIBLE_LOG_PATH", str(directory / "log" / "ansible.log"))
    # Through podman exec (a way in when SSH is what broke) Ansible's own strategy runs:
    # Mitogen is measured, and relied on, over SSH.
    env.update(strategy_env(os.environ.get("COURTCLOUD_ANSIBLE_STRATEGY",
                                           STRATEGY if via == "ssh" else "linear")))
    (directory / "log").mkdir(parents=True, exist_ok=True)
    rotate_log(Path(env["ANSIBLE_LOG_PATH"]))
    command = ["ansible-playbook", "-i", str(inventory), str(project_dir / playbook), *extra]
    warm_package_indexes(estate, lambda m: print(m, file=sys.stderr))
    try:
        rc = run_watched(command, cwd=project_dir, env=env, stdout=stdout,
                         log=Path(env["ANSIBLE_LOG_PATH"]), stall_s=stall_s)
    except PlaybookStalled:
        stop_stranded_tasks(estate)
        raise
    # Whether the hosts as they are now have had one whole successful site run: the next run
    # on them is a converged one (what the idempotence test asserts on).
    if rc == 0 and Path(playbook).name == "site.yml" and not extra:
        (directory / CONFIGURED_FILE).write_text(f"{time.time():.0f}\n")
    return rc


@dataclass
class DownResult:
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in use by what the lab did not make


def down(estate_name: str, progress: Progress, *, keep_images: bool = False) -> DownResult:
    """Remove every container, network and image labelled for this estate, the proxy and the
    lab's state. Host packages and the podman settings stay: they are the host's, not the lab's."""
    directory = state_dir(estate_name)
    result = DownResult()
    with lab_lock(directory):
        with progress.step("package proxy"):
            if PackageProxy(directory).stop():
                result.removed.append("package proxy")
        with progress.step("router"):
            if shutil.which("nft") and router.remove(estate_name):
                result.removed.append("lab router (nftables table)")
        with progress.step("node agent"):
            if platform.NodeAgent(directory, estate_name).stop():
                result.removed.append("node agent")
        if shutil.which("podman") is None:
            progress.log("podman is not installed: there are no lab containers to remove")
        else:
            with progress.step("apps"):
                # Before the hosts: a worker whose network a pod shares cannot go first.
                result.removed += [f"pod {n}" for n in platform.remove_pods(estate_name)]
            with progress.step("hosts"):
                names = [c["Names"][0] for c in labelled("container", estate_name)]
                if names:
                    remove_containers(*names)
                result.removed += [f"host {n}" for n in names]
            with progress.step("networks"):
                # Not by force: that would also remove containers someone else attached.
                for net in [n["name"] for n in labelled("network", estate_name)]:
                    proc = podman("network", "rm", net, check=False)
                    if proc.returncode == 0:
                        result.removed.append(f"network {net}")
                    else:
                        progress.log(f"kept network {net}: {proc.stderr.strip()[-200:]}")
                        result.kept.append(f"network {net}")
            if not keep_images:
                with progress.step("images"):
                    _remove_images(estate_name, result, progress)
        for child in sorted(directory.iterdir()) if directory.exists() else []:
            if child.name == "lab.lock" or (keep_images and child.name == "cache"):
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    return result


def _remove_images(estate_name: str, result: DownResult, progress: Progress) -> None:
    """Remove the images this estate built, earlier builds included: newest first, so a child
    goes before its parent. Never by force: `rmi -f` would also remove any container made
    from the image, and a container the lab did not make is not the lab's to remove."""
    images_ = sorted(labelled("image", estate_name), key=lambda i: i.get("Created", 0),
                     reverse=True)
    for image in images_:
        name = (image.get("Names") or [image["Id"][:12]])[0]
        proc = podman("rmi", image["Id"], check=False)
        if proc.returncode == 0:
            result.removed.append(f"image {name}")
        elif exists("image", image["Id"]):
            progress.log(f"kept image {name}: {proc.stderr.strip()[-200:]}")
            result.kept.append(f"image {name}")


def status(estate_name: str) -> list[dict[str, Any]]:
    rows = []
    for ctr in labelled("container", estate_name):
        if (ctr.get("Labels") or {}).get(platform.APP_LABEL):
            continue  # a pod: the platform's status shows those
        state = ctr["State"]
        if state == "running" and _process_gone(ctr.get("Pid", 0)):
            # the machine's processes were killed behind podman's back (a reboot, a stop)
            state = "lost (process gone: run `courtcloud lab up`)"
        rows.append({"host": ctr["Names"][0], "state": state,
                     "site": (ctr.get("Labels") or {}).get("io.courtcloud.site", "")})
    return rows


def summary(result: UpResult) -> dict[str, Any]:
    return {
        "estate": result.plan.estate,
        "hosts": [{"host": h.hostname, "container": h.container, "site": h.site,
                   "roles": list(h.roles), "zone": h.home_zone,
                   "addresses": dict(h.zone_addresses)} for h in result.plan.hosts],
        "networks": [{"name": n.name, "subnet": str(n.subnet), "gateway": str(n.gateway)}
                     for n in result.plan.networks],
        "bench": ({"network": result.plan.bench.network.name,
                   "subnet": str(result.plan.bench.network.subnet),
                   "proxy": str(result.plan.bench.network.gateway)}
                  if result.plan.bench else None),
        "proxy": result.proxy,
        "inventory": str(result.inventory) if result.inventory else None,
        "changed": result.changed,
        "timings_s": result.timings,
    }



def start_platform(estate: Estate, progress: Progress) -> platform.PlatformResult:
    """The apps of every site on the lab's (configured) workers; see `platform`."""
    directory = state_dir(estate.name)
    plan = lab_plan(estate)
    with lab_lock(directory), progress.step("apps on the workers"):
        return platform.start(estate, plan, directory, progress.log)
