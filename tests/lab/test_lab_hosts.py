"""The lab's hosts as a user meets them: booted, addressed, named, routed, closed to the
outside, able to install packages, reachable by Ansible, and converged on a second run."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from courtcloud.lab import router
from courtcloud.lab.plan import PROXY_PORT, mac_address

from .conftest import courtcloud, host_run

pytestmark = pytest.mark.lab


def test_every_host_boots_systemd_as_pid_1(lab_up, lab_plan_):
    assert {h["container"] for h in lab_up["hosts"]} == {h.container for h in lab_plan_.hosts}
    for spec in lab_plan_.hosts:
        state = host_run(spec.container, "systemctl", "is-system-running").stdout.strip()
        assert state in ("running", "degraded"), spec.container
        assert host_run(spec.container, "cat", "/proc/1/comm").stdout.strip() == "systemd"
        assert host_run(spec.container, "hostname").stdout.strip() == spec.hostname


def test_every_host_has_its_fixed_addresses(lab_up, lab_plan_):
    for spec in lab_plan_.hosts:
        out = host_run(spec.container, "ip", "-j", "-4", "addr").stdout
        have = {a["local"] for link in json.loads(out) for a in link["addr_info"]}
        assert {a for _, a in spec.networks} <= have, spec.container


def test_names_resolve_across_sites_and_zones(lab_up, lab_plan_):
    probe = next(h for h in lab_plan_.hosts if h.hostname == "primary-database-1")
    for target in lab_plan_.hosts:
        out = host_run(probe.container, "getent", "hosts", target.hostname).stdout.split()
        assert out and out[0] == target.address, target.hostname


def test_zones_are_routed_to_each_other_through_the_lab_router(lab_up, lab_plan_):
    """An app host (app zone) opens a TCP connection to a database host (data zone) and the
    server sees the client's own address: routed, not masqueraded."""
    server = next(h for h in lab_plan_.hosts if h.hostname == "primary-database-1")
    client = next(h for h in lab_plan_.hosts if h.hostname == "primary-node-1")
    # Once the site playbook has run, the host's own firewall (tier 3) guards its ports:
    # open the probe's port there for the test's length; the router is what is under test.
    opened = host_run(server.container, "nft", "insert", "rule", "inet", "courtcloud", "input",
                      "tcp", "dport", "15432", "accept").returncode == 0
    listener = subprocess.Popen(
        ["podman", "exec", server.container, "python3", "-c",
         "import socket; s = socket.socket(); "
         "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('', 15432)); "
         "s.listen(); s.settimeout(20); c, a = s.accept(); c.sendall(a[0].encode()); c.close()"])
    try:
        seen = ""
        for _ in range(40):
            proc = host_run(client.container, "python3", "-c",
                            f"import socket; c = socket.create_connection(('{server.address}', "
                            "15432), timeout=3); print(c.recv(64).decode())")
            if proc.returncode == 0:
                seen = proc.stdout.strip()
                break
            time.sleep(0.25)
        assert seen == client.address
    finally:
        listener.kill()
        if opened:
            handle = host_run(server.container, "sh", "-c",
                              "nft -a list chain inet courtcloud input | "
                              "awk '/dport 15432 accept/ {print $NF}'").stdout.strip()
            host_run(server.container, "nft", "delete", "rule", "inet", "courtcloud", "input",
                     "handle", handle)


def test_nothing_in_the_lab_has_a_route_out(lab_up, lab_plan_):
    """No default route on any host (asked of the kernel; no packet is sent), and the host's
    forwarding drops anything from a lab bridge to anywhere but another lab bridge."""
    outside = str(ipaddress.IPv4Address("203.0.113.7"))  # TEST-NET-3, never routed
    for spec in lab_plan_.hosts:
        routes = host_run(spec.container, "ip", "-4", "route").stdout
        assert "default" not in routes, spec.container
        probe = host_run(spec.container, "ip", "route", "get", outside)
        assert probe.returncode != 0 and "unreachable" in probe.stderr.lower(), spec.container
    assert router.current_bridges(lab_plan_.estate) == set(router.bridges(lab_plan_))
    table = subprocess.run(["nft", "list", "table", "inet", router.table(lab_plan_.estate)],
                           capture_output=True, text=True, check=True).stdout
    assert "iifname @lab_bridges counter" in table and "drop" in table


def test_hosts_install_debian_packages_through_the_proxy(lab_up):
    host = "cc-dr-miyun-vault-1"
    update = host_run(host, "apt-get", "update", timeout=300)
    assert update.returncode == 0, update.stderr[-800:]
    assert "courtcloud-apt-proxy" not in update.stderr
    install = host_run(host, "apt-get", "install", "-y", "--no-install-recommends", "tree",
                       timeout=300)
    assert install.returncode == 0, install.stderr[-800:]
    assert host_run(host, "tree", "--version").returncode == 0
    host_run(host, "apt-get", "purge", "-y", "tree")


def test_each_host_has_its_own_identity(lab_up):
    keys = {host_run(c, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]
            for c in ("cc-primary-ops-1", "cc-standby-ops-1")}
    ids = {host_run(c, "cat", "/etc/machine-id").stdout.strip()
           for c in ("cc-primary-ops-1", "cc-standby-ops-1")}
    assert len(keys) == 2 and len(ids) == 2
    assert host_run("cc-primary-ops-1", "systemctl", "is-active", "ssh").stdout.strip() == "active"


ANSIBLE = next((str(p) for p in [Path(sys.executable).parent / "ansible"] if p.exists()),
               shutil.which("ansible"))


@pytest.mark.skipif(ANSIBLE is None, reason="ansible is not installed")
def test_ansible_reaches_every_host_through_the_generated_inventory(lab_up, lab_plan_):
    # Over SSH as the automation account, host keys checked against the lab's known_hosts.
    proc = subprocess.run(
        [str(ANSIBLE), "-i", lab_up["inventory"], "all", "-m", "ansible.builtin.setup",
         "-a", "gather_subset=!all,network", "-f", "8", "-o"],
        capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for spec in lab_plan_.hosts:
        line = next(x for x in proc.stdout.splitlines() if x.startswith(spec.hostname + " "))
        facts = json.loads(line.split("=>", 1)[1])["ansible_facts"]
        assert facts["ansible_default_ipv4"] == {}  # no default route: nothing leads out
        assert spec.address in facts["ansible_all_ipv4_addresses"]


def test_a_second_up_changes_nothing(lab_up, project):
    proc = courtcloud("lab", "up", "--json", "--no-configure", "--project-dir", str(project))
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["changed"] == []
    assert summary["hosts"] == lab_up["hosts"]


def test_the_bench_reaches_the_proxy_and_no_lab_zone(lab_up, lab_plan_):
    """Role tests (molecule) run on the bench: packages through the proxy, nothing else."""
    bench = lab_plan_.bench
    target = next(h for h in lab_plan_.hosts if h.hostname == "primary-database-1")
    script = (
        "import socket, sys\n"
        f"socket.create_connection(('{bench.network.gateway}', 3142), timeout=3).close()\n"
        "try:\n"
        f"    socket.create_connection(('{target.address}', 22), timeout=3)\n"
        "except OSError as exc:\n"
        "    print('blocked', type(exc).__name__)\n"
        "else:\n"
        "    sys.exit('a lab host answered from the bench')\n")
    proc = subprocess.run(
        ["podman", "run", "--rm", "--network", bench.network.name,
         "localhost/courtcloud/host:bookworm", "python3", "-c", script],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert proc.stdout.startswith("blocked")


def test_hosts_cannot_set_the_machines_clock(lab_up):
    proc = host_run("cc-primary-ops-1", "date", "-s", "@0")
    assert proc.returncode != 0 and "not permitted" in proc.stderr


CONNECT_PROXY = ("import socket, sys; "
                 f"socket.create_connection((sys.argv[1], {PROXY_PORT}), timeout=3).close()")


CONNECT_ANSWERS = """
import socket, sys, time
for _ in range(20):  # the router may take a round of the node agent to turn forwarding on
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
        sys.exit(0)
    except ConnectionRefusedError:
        sys.exit(0)
    except OSError as exc:
        error = exc
        time.sleep(1)
sys.exit(f"no answer from {sys.argv[1]}:{sys.argv[2]}: {error}")
"""


def _wait_booted(container: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    state = ""
    while time.monotonic() < deadline:
        state = host_run(container, "systemctl", "is-system-running").stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.5)
    return state


def test_a_restarted_host_comes_back_routed_by_itself(lab_up, lab_plan_):
    """A stop and start (a crash, a drill, the machine restarting) remakes the host's
    network namespace; its own boot must restore its MACs and the routes to every other
    zone, with no `lab up` in between. The package proxy is reached at each other zone's
    gateway: a real connection that needs the route (the proxy listens on every lab bridge)."""
    spec = next(h for h in lab_plan_.hosts if h.hostname == "primary-database-1")
    subprocess.run(["podman", "stop", "-t", "10", spec.container], check=True,
                   capture_output=True, timeout=120)
    subprocess.run(["podman", "start", spec.container], check=True, capture_output=True,
                   timeout=120)
    assert _wait_booted(spec.container) in ("running", "degraded")
    routes = host_run(spec.container, "ip", "-4", "route").stdout
    wanted = router.host_routes(lab_plan_, spec)
    assert wanted and all(f"{dst} via {via} " in routes for dst, via in wanted), routes
    unit = host_run(spec.container, "systemctl", "is-active", router.NETWORK_UNIT).stdout
    assert unit.strip() == "active"
    attached = {n for n, _ in spec.networks}
    for network in lab_plan_.networks:
        if network.name in attached:
            continue
        probe = host_run(spec.container, "python3", "-c", CONNECT_PROXY, str(network.gateway))
        assert probe.returncode == 0, (network.name, probe.stderr[-300:])
    # And the next `lab up` finds nothing to repair on it.
    # Through the router, not only to this machine: a host of another site answers (a refused
    # connection is an answer; a timeout is not). netavark turns forwarding off on a zone's
    # bridge when a container on it starts: the lab router must turn it on again.
    vault = next(h for h in lab_plan_.hosts if h.hostname == "dr-miyun-vault-1")
    probe = host_run(spec.container, "python3", "-c", CONNECT_ANSWERS, vault.address, "8432")
    assert probe.returncode == 0, probe.stdout + probe.stderr[-300:]
    # Its MACs are its fixed ones again (podman 4.3 gives a restarted container other MACs),
    # so its neighbours' ARP caches still find it.
    links = json.loads(host_run(spec.container, "ip", "-j", "addr").stdout)
    macs = {a["local"]: link["address"] for link in links for a in link["addr_info"]
            if a.get("family") == "inet"}
    assert all(macs[a] == mac_address(a) for _, a in spec.networks), macs
    assert router.ensure_network(lab_plan_, spec) is False


def test_tasks_a_stopped_run_left_on_a_host_are_ended(lab_up, lab_plan_, lab_estate):
    """After a run stopped as hung, a module process it left (and apt's download method,
    which holds the package lists' lock) is ended so that the next run is not kept waiting;
    the host's own services are untouched."""
    from courtcloud.lab import lab

    host = next(h for h in lab_plan_.hosts if h.hostname == "primary-ops-1").container
    # What Ansible leaves: sudo -> sh -c 'echo BECOME-SUCCESS-...; python3' -> a child.
    subprocess.run(["podman", "exec", "-d", host, "sh", "-c",
                    "echo BECOME-SUCCESS-labtest; sleep 600"], check=True, capture_output=True)
    stranded = "pgrep -f 'BECOME-SUCCESS-labtes[t]|^sleep 600'"
    deadline = time.monotonic() + 20
    while host_run(host, "sh", "-c", stranded).returncode != 0:
        assert time.monotonic() < deadline, "the stranded task never started"
        time.sleep(0.5)
    lists_before = host_run(host, "stat", "-c", "%Y", "/var/lib/apt/lists").stdout.strip()
    lab.stop_stranded_tasks(lab_estate)
    assert host_run(host, "sh", "-c", stranded).returncode == 1, "a stranded task survived"
    assert host_run(host, "systemctl", "is-active", "ssh").stdout.strip() == "active"
    # No apt download was cut short here: the package lists keep their date.
    assert host_run(host, "stat", "-c", "%Y", "/var/lib/apt/lists").stdout.strip() == lists_before


def test_an_update_cut_short_leaves_its_lists_to_be_fetched_again(lab_up, lab_plan_, lab_estate):
    """apt's download method hung (as behind a proxy that answered an error) and ended by
    the cleanup after a stopped run: the lists it left are dated 1970, so the roles'
    cache_valid_time fetches them again instead of trusting an incomplete set."""
    from courtcloud.lab import lab

    host = next(h for h in lab_plan_.hosts if h.hostname == "standby-ops-1").container
    # A stand-in for the hung method: a process whose command line is apt's http method.
    subprocess.run(["podman", "exec", "-d", host, "bash", "-c",
                    "exec -a /usr/lib/apt/methods/http sleep 600"], check=True,
                   capture_output=True)
    hung = "pgrep -f '^/usr/lib/apt/methods/htt[p]'"
    deadline = time.monotonic() + 20
    while host_run(host, "sh", "-c", hung).returncode != 0:
        assert time.monotonic() < deadline, "the stand-in never started"
        time.sleep(0.5)
    lab.stop_stranded_tasks(lab_estate)
    assert host_run(host, "sh", "-c", hung).returncode == 1
    assert host_run(host, "stat", "-c", "%Y", "/var/lib/apt/lists").stdout.strip() == "0"
