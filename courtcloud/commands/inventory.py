"""`courtcloud inventory`: the Ansible inventory of a production stack, read back from
OpenStack (openstacksdk) after `pulumi up`.

The servers the program created carry `courtcloud-*` metadata (site, pool, index); each
is matched to its host in the site model, and addressed at the fixed address OpenStack
reports on its home zone's network. Groups and host variables are the same as the lab's
(`courtcloud.inventory`), so playbooks run alike against either.

Exit codes: 0 every host of the stack was found; 1 hosts are missing or unexpected (the
inventory is still written, listing what was found); 2 bad input (a stack file, a cloud).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml

from ..inventory import build_inventory
from ..model import Estate, Host, site_hosts, validate_file
from ._common import EXIT_BAD_INPUT, fail_on_model_error, project_dir_option

META = "courtcloud-"


@dataclass
class ReadBack:
    found: dict[str, str] = field(default_factory=dict)  # host name -> address reported
    missing: list[str] = field(default_factory=list)  # in the model, not in the cloud
    unexpected: list[str] = field(default_factory=list)  # courtcloud servers not in the model
    unaddressed: list[str] = field(default_factory=list)  # found, but no home-zone address


def reported_address(server: Any, network: str) -> str | None:
    for entry in (getattr(server, "addresses", None) or {}).get(network, []):
        if entry.get("version", 4) == 4 and entry.get("OS-EXT-IPS:type", "fixed") == "fixed":
            return str(entry["addr"])
    return None


def read_back(servers: list[Any], estate: Estate, sites: list[str]) -> ReadBack:
    hosts = {h.name: h for s in estate.sites if s.name in sites for h in site_hosts(s)}
    result = ReadBack()
    for server in servers:
        meta = getattr(server, "metadata", None) or {}
        site = meta.get(f"{META}site")
        if site not in sites:
            continue
        name = f"{site}-{meta.get(f'{META}pool')}-{meta.get(f'{META}index')}"
        host = hosts.get(name)
        if host is None or server.name != name:
            result.unexpected.append(str(server.name))
            continue
        address = reported_address(server, f"{site}-{host.home_zone}")
        if address is None:
            result.unaddressed.append(name)
            continue
        result.found[name] = address
    result.missing = sorted(set(hosts) - set(result.found) - set(result.unaddressed))
    return result


def inventory_from_cloud(connection: Any, estate: Estate, sites: list[str]) -> tuple[
        dict[str, Any], ReadBack]:
    servers = list(connection.compute.servers(details=True))
    back = read_back(servers, estate, sites)
    model_hosts = [h for s in estate.sites if s.name in sites for h in site_hosts(s)]
    present = [h for h in model_hosts if h.name in back.found]

    def by_reported_address(host: Host) -> dict[str, Any]:
        return {"ansible_host": back.found[host.name]}

    return build_inventory(estate, by_reported_address, present), back


@click.command("inventory", help=__doc__)
@click.option("--cloud", required=True,
              help="the clouds.yaml entry to read (see OS_CLIENT_CONFIG_FILE)")
@click.option("--stack", required=True, help="the production stack whose servers to read")
@project_dir_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the inventory [default: inventory/<stack>.yml]")
def command(cloud: str, stack: str, project_dir: Path, out: Path | None) -> None:
    import openstack  # openstacksdk, loaded only for this command
    import openstack.exceptions

    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    with fail_on_model_error():
        estate = validate_file(stack_file)
        from ..model.loader import read_stack

        own = [s["name"] for s in read_stack(stack_file).config["sites"]]
    try:
        connection = openstack.connect(cloud=cloud)
        inventory, back = inventory_from_cloud(connection, estate, own)
    except openstack.exceptions.ConfigException as exc:
        click.echo(f"--cloud {cloud}: {exc}\n    fix: name an entry of clouds.yaml", err=True)
        sys.exit(EXIT_BAD_INPUT)
    target = out or project_dir / "inventory" / f"{stack}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# Written by `courtcloud inventory` from what OpenStack reports.\n"
                      + yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    click.echo(f"{target}: {len(back.found)} host(s) of stack {stack!r}")
    for label, names in (("missing from the cloud", back.missing),
                         ("not in the model", back.unexpected),
                         ("without an address on their home zone", back.unaddressed)):
        if names:
            click.echo(f"  {len(names)} {label}: {', '.join(names[:10])}"
                       + (" ..." if len(names) > 10 else ""), err=True)
    sys.exit(0 if not (back.missing or back.unexpected or back.unaddressed) else 1)
