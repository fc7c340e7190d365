"""What each site's edge tier (security tier 1) publishes: one name per app placed in the
site, `<app>.<court domain>`, proxied to the app's Kubernetes workers on the port of the flow
that lets the edge pool reach them (`edge-to-ingress`). The model holds no published names of
its own, so they are derived here, once, for the inventory and anything else that needs them."""

from __future__ import annotations

from dataclasses import dataclass

from .addressing import Host, site_hosts
from .schema import Estate, HostRole, Site


@dataclass(frozen=True)
class PublishedName:
    name: str  # the name clients use, e.g. litigation.bjinternet.court
    app: str
    upstreams: tuple[str, ...]  # address:port of each worker the edge proxies to

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "app": self.app, "upstreams": list(self.upstreams)}


def _reachable_address(host: Host, zones: set[str]) -> str:
    """The worker's address in a zone the edge hosts also sit in, else its home address."""
    shared = [z for z in host.addresses if z in zones]
    return str(host.addresses[shared[0]] if shared else host.address)


def published_names(estate: Estate, site: Site) -> list[PublishedName]:
    edge_pools = site.pools_with(HostRole.edge)
    if not edge_pools:
        return []
    edge_sources = {p.name for p in edge_pools} | {p.home_zone for p in edge_pools}
    edge_zones = {z for p in edge_pools for z in p.zones}
    hosts = site_hosts(site)
    clusters = {k.name: k for k in site.kubernetes}
    published = []
    for app in site.apps:
        cluster = clusters.get(app.cluster)
        upstreams: tuple[str, ...] = ()
        if cluster is not None:
            workers = site.pool(cluster.worker_pool)
            flow = next((f for f in site.flows
                         if f.protocol == "tcp" and f.source in edge_sources
                         and f.destination in (workers.name, workers.home_zone)), None)
            if flow is not None:
                port = flow.ports[0][0]
                upstreams = tuple(f"{_reachable_address(h, edge_zones)}:{port}"
                                  for h in hosts if h.pool == workers.name)
        published.append(PublishedName(f"{app.name}.{estate.court.domain}", str(app.name),
                                       upstreams))
    return published


# The court's identity provider is published as identity.<court domain>; its tokens name the
# litigation service as their audience. The charts give both to the app, and the lab's own
# identity provider (`courtcloud lab token`) signs with them.
IDENTITY_HOST = "identity"
LITIGATION_AUDIENCE = "courtcloud-litigation"


def identity_issuer(estate: Estate) -> str:
    return f"https://{IDENTITY_HOST}.{estate.court.domain}"


# The path on every published name at which a site's edge answers for itself (not for an
# app): what the court's DNS checks at each site's entry before giving that site's address.
ENTRY_HEALTH_PATH = "/.well-known/courtcloud/edge"
