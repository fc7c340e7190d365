"""The Ansible inventory, derived from the site model: groups by site, zone and role.

Ansible reaches every host over SSH as the automation account (`automation.py`): production
by address (or, with `courtcloud inventory`, by what OpenStack reports), the lab by address
too, with the lab's own key and known hosts. Both share these groups and host vars,
so a playbook runs the same against either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import automation
from .charts import app_databases
from .model import Estate, Host, HostRole, Site, SiteRole, entry_address, estate_hosts
from .model.flows import inbound_rules
from .model.published import ENTRY_HEALTH_PATH, published_names

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

    rules = {name: [r.as_dict() for r in site_rules]
             for site in estate.sites
             for name, site_rules in inbound_rules(estate, site).items()}
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
            "courtcloud_firewall_inbound": rules.get(host.name, []),
        }
        member(group_name("site", host.site), host)
        for zone in host.addresses:
            member(group_name("zone", host.site, zone), host)
        for role in host.roles:
            member(group_name("role", str(role)), host)
    # What every host of a site needs to know of its site's services.
    for site in estate.sites:
        group = groups.setdefault(group_name("site", site.name), {"hosts": {}})
        site_members = [h for h in hosts if h.site == site.name]
        group["vars"] = {
            "courtcloud_site_role": str(site.role),
            "courtcloud_time_sources": _addresses_of(site_members, HostRole.time_source),
            "courtcloud_log_hosts": _addresses_of(site_members, HostRole.log_host),
            "courtcloud_log_retention_days": site.log_retention_days,
            "courtcloud_zone_cidrs": {z.name: str(z.cidr) for z in site.zones},
            # What the storage roles create (Ceph pools, buckets) and where objects are copied.
            "courtcloud_storage_pools": [
                {"name": p.name, "kind": str(p.kind), "copies": p.copies,
                 "capacity_tb": p.capacity_tb, "zone": p.zone, "encrypted": p.encrypted}
                for p in site.storage_pools],
            "courtcloud_objects_peer_site": (site.replication.objects_peer_site
                                             if site.replication else None),
            # What the site's edge tier publishes: a name per app and the workers behind it.
            "courtcloud_published": [p.as_dict() for p in published_names(estate, site)],
            # The site's entry: one address its edge hosts share (keepalived), in their order.
            "courtcloud_entry": _entry(site, site_members),
        }
    # Host vars once, under `all`; groups list members (and site groups their site's facts).
    return {
        "all": {
            "vars": {
                "courtcloud_estate": estate.name,
                "courtcloud_security_level": estate.security_level,
                "courtcloud_domain": estate.court.domain,
                # The apps' databases and logins (roles/postgresql_ha), from their charts.
                "courtcloud_app_databases": app_databases(estate),
                # The court's published names in DNS (roles/court_dns), site entries in order.
                "courtcloud_dns_records": dns_records(estate),
                "courtcloud_entry_health_path": ENTRY_HEALTH_PATH,
                **automation.inventory_vars(),
            },
            "hosts": hostvars,
            "children": dict(sorted(groups.items())),
        }
    }


def dns_records(estate: Estate) -> list[dict[str, Any]]:
    """Each name the primary site publishes, with the entries of the sites that publish it:
    the primary's first, then the standby's (the failover), then any other's."""
    order = {SiteRole.primary: 0, SiteRole.standby: 1, SiteRole.dr: 2}
    sites = sorted((s for s in estate.sites if entry_address(s) is not None),
                   key=lambda s: order[s.role])
    records: dict[str, dict[str, Any]] = {}
    for site in sites:
        for published in published_names(estate, site):
            record = records.setdefault(published.name, {"name": published.name,
                                                         "entries": [], "sites": []})
            record["entries"].append(str(entry_address(site)))
            record["sites"].append(site.name)
    return list(records.values())


def _entry(site: Site, members: list[Host]) -> dict[str, Any] | None:
    address = entry_address(site)
    if address is None:
        return None
    return {"address": str(address), "prefix": site.zone(str(
                site.pools_with(HostRole.edge)[0].home_zone)).cidr.prefixlen,
            "edge_hosts": _addresses_of(members, HostRole.edge)}


def _addresses_of(hosts: list[Host], role: HostRole) -> list[str]:
    return [str(h.address) for h in hosts if role in h.roles]
