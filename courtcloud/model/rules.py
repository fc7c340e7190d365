"""Checks that need the whole estate: names, references, overlaps and the level's demands.

Each rule yields (site index or None, field path inside the estate, message, fix); the
loader turns that into a Problem naming the stack file that holds the field.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

from .addressing import zone_capacity
from .levels import requirements
from .schema import REDUNDANT_ROLES, Estate, HostRole, Site, SiteRole, StorageKind, ZoneKind

Finding = tuple[int | None, str, str, str]

# The pools a zone of this kind may hold hosts of; a pool in the wrong zone is a design error
# that the firewall and security-group rules downstream would silently inherit.
_EXCHANGE_ZONES = (ZoneKind.exchange_internet, ZoneKind.exchange_intranet)


def check_estate(estate: Estate) -> list[Finding]:
    found: list[Finding] = []
    for rule in (_unique_names, _no_overlapping_cidrs, _sites_refer_to_peers):
        found.extend(rule(estate))
    for index, site in enumerate(estate.sites):
        rules = (_site_references, _zone_capacity, _level_demands, _exchange_split,
                 _internet_flows, _interconnect_routers_only)
        for rule in rules:
            found.extend((index, path, msg, fix) for path, msg, fix in rule(estate, site))
    return found


def _duplicates(names: list[str]) -> list[str]:
    return [name for name, n in Counter(names).items() if n > 1]


def _unique_names(estate: Estate) -> Iterator[Finding]:
    for name in _duplicates([s.name for s in estate.sites]):
        yield (None, "sites", f"site {name!r} is defined more than once",
               "give every site its own name, in one stack file")
    for i, site in enumerate(estate.sites):
        for attr in ("zones", "compute_pools", "storage_pools", "kubernetes", "apps", "flows"):
            items = getattr(site, attr)
            for name in _duplicates([str(item.name) for item in items]):
                yield (i, _camel(attr), f"{name!r} appears more than once",
                       f"rename or merge the duplicate entries of {_camel(attr)}")


def _no_overlapping_cidrs(estate: Estate) -> Iterator[Finding]:
    zones = [
        (i, z_index, site, zone)
        for i, site in enumerate(estate.sites)
        for z_index, zone in enumerate(site.zones)
    ]
    for (i, zi, s1, z1), (_, _, s2, z2) in itertools.combinations(zones, 2):
        if z1.cidr.overlaps(z2.cidr):
            yield (i, f"zones[{zi}].cidr",
                   f"{z1.cidr} of {s1.name}/{z1.name} overlaps {z2.cidr} of {s2.name}/{z2.name}",
                   "give each zone its own address range; none may overlap in the estate")
    if estate.lab:
        for i, zi, site, zone in zones:
            if zone.cidr.overlaps(estate.lab.bench_cidr):
                yield (i, f"zones[{zi}].cidr",
                       f"{zone.cidr} of {site.name}/{zone.name} overlaps the lab's bench "
                       f"{estate.lab.bench_cidr}",
                       "move the zone, or courtcloud:lab.benchCidr, to a range of its own")


def _sites_refer_to_peers(estate: Estate) -> Iterator[Finding]:
    names = {s.name: s for s in estate.sites}
    known = ", ".join(sorted(names)) or "none"
    for i, site in enumerate(estate.sites):
        refs: list[tuple[str, str | None, SiteRole | None]] = []
        if site.replication:
            database = site.replication.database
            if database:
                refs.append(("replication.database.peerSite", database.peer_site, None))
            refs.append(("replication.objectsPeerSite", site.replication.objects_peer_site, None))
        if site.backup:
            refs.append(("backup.targetSite", site.backup.target_site, SiteRole.dr))
        for path, ref, must_be in refs:
            if ref is None:
                continue
            if ref == site.name:
                yield (i, path, f"site {site.name!r} names itself as its peer",
                       "name another site of the estate")
            elif ref not in names:
                yield (i, path, f"site {ref!r} is not defined (sites: {known})",
                       "name a site defined in a stack file of the same estate")
            elif must_be and names[ref].role != must_be:
                yield (i, path, f"site {ref!r} has role {names[ref].role}, not {must_be}",
                       f"back up to a site whose role is {must_be}")


def _site_references(estate: Estate, site: Site) -> Iterator[tuple[str, str, str]]:
    zones = {z.name for z in site.zones}
    pools = {p.name for p in site.compute_pools}
    clusters = {c.name for c in site.kubernetes}
    zone_list = ", ".join(sorted(zones))
    pool_list = ", ".join(sorted(pools)) or "none"
    for pi, pool in enumerate(site.compute_pools):
        for zi, zone in enumerate(pool.zones):
            if zone not in zones:
                yield (f"computePools[{pi}].zones[{zi}]",
                       f"zone {zone!r} is used but not defined in site {site.name!r}",
                       f"define it under zones, or use one of: {zone_list}")
    for si, pool in enumerate(site.storage_pools):
        if pool.zone not in zones:
            yield (f"storagePools[{si}].zone",
                   f"zone {pool.zone!r} is used but not defined in site {site.name!r}",
                   f"define it under zones, or use one of: {zone_list}")
    for ki, cluster in enumerate(site.kubernetes):
        for attr in ("control_plane_pool", "worker_pool"):
            if getattr(cluster, attr) not in pools:
                yield (f"kubernetes[{ki}].{_camel(attr)}",
                       f"pool {getattr(cluster, attr)!r} is not defined in site {site.name!r}",
                       f"define it under computePools, or use one of: {pool_list}")
    for ai, app in enumerate(site.apps):
        if not clusters:
            yield (f"apps[{ai}].cluster",
                   f"app {app.name!s} is placed on site {site.name!r}, which has no "
                   "Kubernetes cluster",
                   "add a cluster under kubernetes, or place the app on a site that has one")
        elif app.cluster not in clusters:
            yield (f"apps[{ai}].cluster",
                   f"cluster {app.cluster!r} is not defined in site {site.name!r}",
                   f"use one of: {', '.join(sorted(clusters))}")
    for fi, flow in enumerate(site.flows):
        if "/" in flow.source:
            other_name, _, part = flow.source.partition("/")
            other = next((s for s in estate.sites if s.name == other_name), None)
            if other is None or part not in {p.name for p in other.compute_pools} | {
                    z.name for z in other.zones}:
                yield (f"flows[{fi}].source",
                       f"{flow.source!r} names no pool or zone of a site in the estate",
                       "write <site>/<pool or zone> for a flow from another site")
        elif flow.source != "internet" and flow.source not in pools | zones:
            yield (f"flows[{fi}].source",
                   f"{flow.source!r} is neither a pool nor a zone of site {site.name!r}",
                   f"use 'internet', a zone ({zone_list}), a pool ({pool_list}), or "
                   "<site>/<pool or zone> of another site")
        if flow.destination not in pools | zones:
            yield (f"flows[{fi}].destination",
                   f"{flow.destination!r} is neither a pool nor a zone of site {site.name!r}",
                   f"flows end at a zone ({zone_list}) or a pool ({pool_list})")


def _zone_capacity(estate: Estate, site: Site) -> Iterator[tuple[str, str, str]]:
    for pi, pool in enumerate(site.compute_pools):
        if pool.address_block is not None and pool.address_block < pool.count:
            yield (f"computePools[{pi}].addressBlock",
                   f"pool {pool.name!r} keeps {pool.address_block} addresses for {pool.count} "
                   "hosts", f"set addressBlock to {pool.count} or more (or remove it)")
    for zi, zone in enumerate(site.zones):
        hosts = sum(p.addresses_kept for p in site.compute_pools if zone.name in p.zones)
        if hosts > zone_capacity(zone):
            yield (f"zones[{zi}].cidr",
                   f"{zone.cidr} holds {zone_capacity(zone)} hosts but {hosts} addresses are "
                   f"kept for pools in zone {zone.name!r}",
                   "widen the range, shrink an addressBlock or move hosts to another zone")


def _level_demands(estate: Estate, site: Site) -> Iterator[tuple[str, str, str]]:
    need = requirements(estate.security_level)
    level = f"level {estate.security_level}"
    for ai, app in enumerate(site.apps):
        if app.core and app.replicas < need.min_app_replicas:
            yield (f"apps[{ai}].replicas",
                   f"{app.name!s} has {app.replicas} replica(s); {level} demands at least "
                   f"{need.min_app_replicas} for a core app (8.1.4.9 hot redundancy)",
                   f"set replicas to {need.min_app_replicas} or more")
    for pi, pool in enumerate(site.compute_pools):
        redundant = sorted(str(r) for r in REDUNDANT_ROLES.intersection(pool.roles))
        if redundant and pool.count < need.min_redundant_hosts:
            yield (f"computePools[{pi}].count",
                   f"pool {pool.name!r} ({', '.join(redundant)}) has {pool.count} host(s); "
                   f"{level} demands at least {need.min_redundant_hosts} (8.1.4.9)",
                   f"set count to {need.min_redundant_hosts} or more")
    for si, pool in enumerate(site.storage_pools):
        if pool.kind is not StorageKind.backup and pool.copies < need.min_storage_copies:
            yield (f"storagePools[{si}].copies",
                   f"pool {pool.name!r} keeps {pool.copies} copy; {level} demands "
                   f"{need.min_storage_copies} (8.1.4.9)",
                   f"set copies to {need.min_storage_copies} or more")
        if not pool.encrypted:
            yield (f"storagePools[{si}].encrypted",
                   f"pool {pool.name!r} is not encrypted ({level}, 8.1.4.8 confidentiality)",
                   "set encrypted: true")
    if need.offsite_backup_required and site.role is not SiteRole.dr and site.backup is None:
        yield ("backup", f"site {site.name!r} has no backup; {level} demands an off-site "
               "copy (8.1.4.9)", "add backup with targetSite naming the DR site")
    if site.log_retention_days < need.min_log_retention_days:
        yield ("logRetentionDays",
               f"{site.log_retention_days} days; logs must be kept at least "
               f"{need.min_log_retention_days} days (Cybersecurity Law art. 21, 8.1.5)",
               f"set logRetentionDays to {need.min_log_retention_days} or more")


def _exchange_split(estate: Estate, site: Site) -> Iterator[tuple[str, str, str]]:
    """The data-exchange gateway stands between the internet and the court's intranet, so a
    site that runs it needs both sides as separate zones."""
    uses_gateway = any(a.name == "exchange" for a in site.apps) or site.pools_with(
        HostRole.exchange_gateway
    )
    kinds = {z.kind for z in site.zones}
    for kind in _EXCHANGE_ZONES:
        if uses_gateway and kind not in kinds:
            yield ("zones", f"site {site.name!r} runs the data-exchange gateway but has no "
                   f"{kind} zone", f"add a zone of kind {kind}")


def _internet_flows(estate: Estate, site: Site) -> Iterator[tuple[str, str, str]]:
    """Only the edge tier and the exchange gateway's internet side face the internet (8.1.3.2)."""
    facing = {ZoneKind.edge, ZoneKind.exchange_internet}
    pools = {p.name: p for p in site.compute_pools}
    zones = {z.name: z for z in site.zones}
    for fi, flow in enumerate(site.flows):
        pool = pools.get(flow.destination)
        zone = zones.get(pool.home_zone if pool else flow.destination)
        if flow.source != "internet" or zone is None:
            continue
        if zone.kind not in facing:
            yield (f"flows[{fi}].source",
                   f"the internet may not reach {flow.destination!r} in zone {zone.name!r}",
                   "publish it through the edge tier; only edge and exchange-internet pools "
                   "take flows from the internet")


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.title() for word in rest)


def _interconnect_routers_only(estate: Estate, site: Site) -> Iterator[tuple[str, str, str]]:
    """A site's interconnect zone is its routers' end of the cross-site link: no hosts."""
    links = {z.name for z in site.zones if z.kind is ZoneKind.interconnect}
    for pi, pool in enumerate(site.compute_pools):
        for zone in pool.zones:
            if zone in links:
                yield (f"computePools[{pi}].zones",
                       f"pool {pool.name!r} is placed in {zone!r}, an interconnect zone, which "
                       "holds only the site's routers", "place the pool's hosts in another zone")
