"""The lab's router: the host forwards between the lab's zones (as a Neutron router joins a
site's networks) and nowhere else.

netavark turns forwarding off on internal bridges; the lab turns it on for its own bridges
only, and an nftables table of its own accepts bridge-to-bridge traffic and drops anything
from or to a lab bridge that would leave the lab. Each host gets a route to every other lab
zone through its home gateway, and no default route. Which zones may talk on which ports
is not decided here: that is the firewall role's job (the site model's flows).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

from .plan import HostSpec, LabPlan, mac_address
from .podman import LabError, podman, podman_json


def table(estate: str) -> str:
    return f"courtcloud_{estate}".replace("-", "_")


def _bridge(network: str) -> str:
    return podman_json("network", "inspect", network)[0]["network_interface"]


def bridges(plan: LabPlan) -> list[str]:
    return [_bridge(n.name) for n in plan.networks]


def ruleset(estate: str, interfaces: list[str], bench: str | None = None) -> str:
    names = ", ".join(f'"{i}"' for i in sorted(interfaces))
    rules = [
        f"table inet {table(estate)} {{",
        f"  set lab_bridges {{ type ifname; elements = {{ {names} }}; }}",
        "  chain forward {",
        "    type filter hook forward priority filter; policy accept;",
        "    iifname @lab_bridges oifname @lab_bridges accept",
        '    iifname @lab_bridges counter drop comment "nothing leaves the lab"',
        '    oifname @lab_bridges counter drop comment "nothing enters the lab"',
    ]
    if bench:
        # Bridged traffic passes this hook too (br_netfilter): instances on the bench talk to
        # each other, and to nothing else.
        rules += [f'    iifname "{bench}" oifname "{bench}" accept',
                  f'    iifname "{bench}" counter drop comment "the bench reaches the proxy only"',
                  f'    oifname "{bench}" counter drop']
    text = "\n".join([*rules, "  }", "}", ""])
    # The table carries a digest of its own text, so a changed rule set is seen and reloaded.
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return text.replace(" {\n", f' {{\n  comment "recipe {digest}"\n', 1)


def _nft(script: str) -> None:
    proc = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise LabError(f"nft failed: {proc.stderr.strip()[-400:]}")


def current_bridges(estate: str) -> set[str] | None:
    """The bridges the lab's nftables table routes between, or None with no table."""
    proc = subprocess.run(["nft", "-j", "list", "set", "inet", table(estate), "lab_bridges"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    for item in json.loads(proc.stdout)["nftables"]:
        if "set" in item:
            return set(item["set"].get("elem", []))
    return set()


def ensure(plan: LabPlan) -> bool:
    """Route between the lab's bridges only. True if anything changed."""
    interfaces = bridges(plan)
    bench = _bridge(plan.bench.network.name) if plan.bench else None
    wanted = ruleset(plan.estate, interfaces, bench)
    changed = False
    recipe = re.search(r'comment "recipe \w+"', wanted)
    assert recipe is not None
    if recipe.group(0) not in (current_ruleset(plan.estate) or ""):
        name = table(plan.estate)
        # Declaring then deleting makes the replacement atomic whether or not it existed.
        _nft(f"table inet {name}\ndelete table inet {name}\n" + wanted)
        changed = True
    return enable_forwarding(interfaces) or changed


BRIDGES_FILE = "bridges.json"


def enable_forwarding(interfaces: list[str]) -> bool:
    """Forwarding on for the lab's bridges. netavark turns it off again on an internal
    network each time a container on it starts, so a host restarted by a drill cuts its whole
    zone off from the others until this runs again (the node agent does, every round)."""
    changed = False
    for iface in interfaces:
        path = Path(f"/proc/sys/net/ipv4/conf/{iface}/forwarding")
        if path.exists() and path.read_text().strip() != "1":
            path.write_text("1")
            changed = True
    return changed


def current_ruleset(estate: str) -> str | None:
    proc = subprocess.run(["nft", "list", "table", "inet", table(estate)], capture_output=True,
                          text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


def remove(estate: str) -> bool:
    if current_bridges(estate) is None:
        return False
    _nft(f"delete table inet {table(estate)}\n")
    return True


def host_routes(plan: LabPlan, spec: HostSpec) -> list[tuple[str, str]]:
    """(destination CIDR, gateway) for every lab zone the host is not attached to."""
    attached = {network for network, _ in spec.networks}
    home = next(n for n in plan.networks if n.name == spec.networks[0][0])
    return [(str(n.subnet), str(home.gateway)) for n in plan.networks if n.name not in attached]


NETWORK_FILE = "/etc/courtcloud/lab-network"
NETWORK_UNIT = "courtcloud-lab-network.service"


def network_text(spec: HostSpec, routes: list[tuple[str, str]]) -> str:
    lines = ["# Managed by courtcloud lab up: this host's fixed MACs and its routes, applied at",
             f"# every boot by {NETWORK_UNIT}."]
    lines += [f"link {address} {mac_address(address)}" for _, address in spec.networks]
    lines += [f"route {dst} {via}" for dst, via in routes]
    return "\n".join([*lines, ""])


def _links(container: str) -> dict[str, str]:
    """address -> MAC of the host's interfaces, as the host reports them."""
    # Not `ip -4`: its JSON leaves the link-layer address out.
    out = podman("exec", container, "ip", "-j", "addr", "show").stdout
    return {a["local"]: link.get("address", "") for link in json.loads(out or "[]")
            for a in link.get("addr_info", []) if a.get("family") == "inet"}


def ensure_network(plan: LabPlan, spec: HostSpec) -> bool:
    """Write the host's MACs and routes where its own boot applies them, and apply them
    now. What is set from outside alone would be lost at the host's next restart."""
    routes = host_routes(plan, spec)
    wanted = network_text(spec, routes)
    written = podman("exec", spec.container, "cat", NETWORK_FILE, check=False).stdout
    have = podman("exec", spec.container, "ip", "-4", "route", "show").stdout
    missing = [(dst, via) for dst, via in routes if f"{dst} via {via} " not in have]
    links = _links(spec.container)
    wrong = [a for _, a in spec.networks if links.get(a) != mac_address(a)]
    if written == wanted and not missing and not wrong:
        return False
    if written != wanted:
        podman("exec", "-i", spec.container, "sh", "-ec",
               f"mkdir -p {Path(NETWORK_FILE).parent}; cat > {NETWORK_FILE}.new; "
               f"mv {NETWORK_FILE}.new {NETWORK_FILE}", input_bytes=wanted.encode())
    podman("exec", spec.container, "systemctl", "restart", NETWORK_UNIT)
    return True
