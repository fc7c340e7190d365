"""The Ansible inventory, derived from the site model: groups by site, zone and role.

The lab reaches its hosts through podman; production reaches them by address (or, with
`courtcloud inventory`, by what OpenStack reports). Both share these groups and host vars,
so a playbook runs the same against either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .model import Estate, Host, estate_hosts

Connection = Callable[[Host], dict[str, Any]]


def group_name(kind: str, *parts: str) -> str:
    return "_".join([kind, *parts]).replace("-", "_")


def by_address(host: Host) -> dict[str, Any]:
    return {"ansible_host": str(host.address)}


def build_inventory(estate: Estate, connection: Connection = by_address,
                    hosts: list[Host] | None = None) -> dict[str, Any]:
    hosts = estate_hosts(estate) if hosts is None else hosts
    groups: dict[str, dict[str, Any]] = {}

    def member(group: str, host: Host) -> None:
        groups.setdefault(group, {"hosts": {}})["hosts"][host.name] = None

    hostvars: dict[str, dict[str, Any]] = {}
    for host in hosts:
        hostvars[host.name] = {
            **connection(host),
            "ansible_python_interpreter": "/usr/bin/python3",
            "courtcloud_site": host.site,
            "courtcloud_pool": host.pool,
            "courtcloud_zone": host.home_zone,
            "courtcloud_roles": [str(r) for r in host.roles],
            "courtcloud_address": str(host.address),
            "courtcloud_addresses": {z: str(a) for z, a in host.addresses.items()},
            "courtcloud_fqdn": host.fqdn(estate.court.domain),
        }
        member(group_name("site", host.site), host)
        for zone in host.addresses:
            member(group_name("zone", host.site, zone), host)
        for role in host.roles:
            member(group_name("role", str(role)), host)
    # Host vars once, under `all`; groups list members only.
    return {
        "all": {
            "vars": {
                "courtcloud_estate": estate.name,
                "courtcloud_security_level": estate.security_level,
                "courtcloud_domain": estate.court.domain,
            },
            "hosts": hostvars,
            "children": dict(sorted(groups.items())),
        }
    }
