"""The site model's flows resolved to what a host's firewall (tier 3) must let in:
point to point, port by port. Security groups (tier 2) are derived from the same flows."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .addressing import Host, site_hosts
from .schema import Estate, Site

ANY = "0.0.0.0/0"


@dataclass(frozen=True)
class InboundRule:
    flow: str
    protocol: str
    ports: tuple[tuple[int, int], ...]
    sources: tuple[str, ...]  # addresses or CIDRs

    def as_dict(self) -> dict[str, object]:
        return {
            "flow": self.flow,
            "protocol": self.protocol,
            "ports": [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ports],
            "sources": list(self.sources),
        }


def _sources(estate: Estate, site: Site, hosts: list[Host], source: str) -> tuple[str, ...]:
    if source == "internet":
        return (ANY,)
    if "/" in source:  # another site's pool or zone
        other_name, _, source = source.partition("/")
        site = estate.site(other_name)
        hosts = site_hosts(site)
    zones = {z.name: z for z in site.zones}
    # A pool's hosts send from whichever of their zones faces the destination (an edge host
    # reaches a worker from its app-zone address), so a pool means every address of its
    # hosts. A name that is both a pool and a zone (`edge`) means both, as the security
    # groups (a pool's group) already do.
    pool = {str(a) for h in hosts if h.pool == source for a in h.addresses.values()}
    if source in zones:
        zone = zones[source].cidr
        return (str(zone), *sorted(a for a in pool if ipaddress.IPv4Address(a) not in zone))
    return tuple(sorted(pool))


def _receives(host: Host, destination: str) -> bool:
    return host.pool == destination or host.home_zone == destination


def inbound_rules(estate: Estate, site: Site) -> dict[str, list[InboundRule]]:
    """Host name -> the rules letting its allowed flows in."""
    hosts = site_hosts(site)
    rules: dict[str, list[InboundRule]] = {h.name: [] for h in hosts}
    for flow in site.flows:
        sources = _sources(estate, site, hosts, flow.source)
        for host in hosts:
            if _receives(host, flow.destination):
                # A pool that talks to itself: each member lets the others in.
                rules[host.name].append(InboundRule(flow.name, flow.protocol,
                                                    tuple(flow.ports), sources))
    return rules
