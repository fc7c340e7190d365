"""The site model's flows resolved to what a host's firewall (tier 3) must let in:
point to point, port by port. Security groups (tier 2) are derived from the same flows."""

from __future__ import annotations

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
    if source in zones:
        return (str(zones[source].cidr),)
    return tuple(sorted({str(a) for h in hosts if h.pool == source
                         for a in h.addresses.values()}))


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
