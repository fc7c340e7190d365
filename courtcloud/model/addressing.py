"""Hosts and their fixed addresses, derived from the compute pools.

Every zone's hosts take addresses in pool order from HOST_OFFSET up: `.1` is the zone's
gateway (the Neutron router, or in the lab the podman bridge), `.2`-`.9` are kept for
routers and virtual IPs (`.5` of the edge pool's home zone is the site's entry: the
address clients reach the site at, held by whichever edge host is healthy). Each pool
keeps a block of `addressBlock` addresses (default: its count) in each of its zones, so
appending a pool, or growing one within its block, never moves an existing host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .schema import Estate, Flavor, HostRole, Site, Zone

HOST_OFFSET = 10
ENTRY_OFFSET = 5


@dataclass(frozen=True)
class Host:
    site: str
    pool: str
    index: int  # 1-based within the pool
    roles: tuple[HostRole, ...]
    home_zone: str
    addresses: dict[str, ipaddress.IPv4Address]  # zone name -> address
    flavor: Flavor

    @property
    def name(self) -> str:
        return f"{self.site}-{self.pool}-{self.index}"

    @property
    def address(self) -> ipaddress.IPv4Address:
        return self.addresses[self.home_zone]

    def fqdn(self, domain: str) -> str:
        return f"{self.name}.{self.site}.{domain}"


def zone_capacity(zone: Zone) -> int:
    """How many hosts the zone's range can hold (the broadcast address excluded)."""
    return max(zone.cidr.num_addresses - HOST_OFFSET - 1, 0)


def gateway(zone: Zone) -> ipaddress.IPv4Address:
    return zone.cidr[1]


def site_hosts(site: Site) -> list[Host]:
    next_free = {z.name: HOST_OFFSET for z in site.zones}
    hosts = []
    for pool in site.compute_pools:
        for index in range(1, pool.count + 1):
            addresses = {}
            for zone in pool.zones:
                addresses[zone] = site.zone(zone).cidr[next_free[zone]]
                next_free[zone] += 1
            hosts.append(Host(site.name, pool.name, index, tuple(pool.roles), pool.home_zone,
                              addresses, pool.flavor))
        for zone in pool.zones:  # the rest of the pool's block stays free for its growth
            next_free[zone] += pool.addresses_kept - pool.count
    return hosts


def estate_hosts(estate: Estate) -> list[Host]:
    return [h for site in estate.sites for h in site_hosts(site)]


def entry_address(site: Site) -> ipaddress.IPv4Address | None:
    """The site's entry: one service address in the edge pool's home zone that the site's
    edge hosts share (the load balancer's VIP in production, keepalived in the lab)."""
    edge = site.pools_with(HostRole.edge)
    if not edge:
        return None
    return site.zone(edge[0].home_zone).cidr[ENTRY_OFFSET]
