"""What a site's OpenStack resources are, derived from the site model as plain data.

Components turn these into resources; tests and `courtcloud plan` read them directly.
Nothing here calls Pulumi.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from courtcloud.model import Estate, Host, HostRole, Site, ZoneKind, site_hosts
from courtcloud.model.addressing import HOST_OFFSET, gateway
from courtcloud.model.schema import REDUNDANT_ROLES, ComputePool, Flavor, Flow, StorageKind

WORLD = "0.0.0.0/0"
# Zones whose subnets hang off the border router (the one with the external gateway);
# every other zone sits behind the core router and never faces the internet (8.1.2.1).
# The exchange gateway's intranet side is behind the core router: on the border router it
# would reach the internet around the gateway that exists to be the only way across.
BORDER_KINDS = frozenset({ZoneKind.edge, ZoneKind.exchange_internet})
# The port a published plain-HTTP listener may use, and then only to redirect to HTTPS.
PLAINTEXT_HTTP_PORT = 80


# --- tags and metadata -------------------------------------------------------------------

def tags(site: Site, **parts: str) -> list[str]:
    """Neutron/Octavia tags: who owns the resource and where it lives (read by the policy
    pack and by `courtcloud plan`)."""
    found = ["courtcloud", f"site={site.name}"]
    for key, value in parts.items():
        if value:
            found.append(f"{key.replace('_', '-')}={value}")
    if "zone" in parts and parts["zone"] and "zone_kind" not in parts:
        found.append(f"zone-kind={site.zone(parts['zone']).kind}")
    return found


def host_metadata(site: Site, host: Host, pool: ComputePool) -> dict[str, str]:
    """Nova metadata of a server: how `courtcloud inventory` and the policies know it."""
    return {
        "courtcloud-site": site.name,
        "courtcloud-pool": pool.name,
        "courtcloud-index": str(host.index),
        "courtcloud-roles": ",".join(str(r) for r in pool.roles),
        "courtcloud-zone": pool.home_zone,
        "courtcloud-zone-kind": str(site.zone(pool.home_zone).kind),
        "courtcloud-server-group": server_group_name(site, pool) or "",
    }


# --- compute -----------------------------------------------------------------------------

def flavor_name(site: Site, flavor: Flavor) -> str:
    return f"{site.name}-{flavor.vcpus}c{flavor.memory_gb}g{flavor.disk_gb}d"


def site_flavors(site: Site) -> dict[str, Flavor]:
    return {flavor_name(site, p.flavor): p.flavor for p in site.compute_pools}


# Pools whose hosts hold the court's data: never replaced or deleted by a plan (protect).
STATEFUL_ROLES = frozenset({HostRole.database, HostRole.etcd, HostRole.ceph_mon,
                            HostRole.ceph_osd, HostRole.backup_vault, HostRole.log_host})


def stateful(pool: ComputePool) -> bool:
    return bool(STATEFUL_ROLES.intersection(pool.roles))


def replicated(pool: ComputePool) -> bool:
    """A pool whose roles must survive the loss of one hypervisor (8.1.4.9)."""
    return pool.count >= 2 and bool(REDUNDANT_ROLES.intersection(pool.roles))


# Hypervisors a site's servers can land on, when the stack does not say
# (`site-cloud:hypervisors`): hard anti-affinity needs one per member, so a larger pool
# would leave hosts unschedulable.
DEFAULT_HYPERVISORS = 16


def server_group_policy(pool: ComputePool, hypervisors: int = DEFAULT_HYPERVISORS) -> str | None:
    """Hard anti-affinity for replicated roles that fit on distinct hypervisors; soft for
    larger replicated pools (36 workers spread as far as the hypervisors allow) and for
    other pools of two or more."""
    if pool.count < 2:
        return None
    return ("anti-affinity" if replicated(pool) and pool.count <= hypervisors
            else "soft-anti-affinity")


def server_group_name(site: Site, pool: ComputePool) -> str | None:
    return f"{site.name}-{pool.name}" if server_group_policy(pool) else None


def block_pool(site: Site) -> str | None:
    """The block storage pool VMs boot from (the site's first); None means root disks are
    the hypervisors' own (the DR site keeps its Ceph for the vault)."""
    return next((p.name for p in site.storage_pools if p.kind is StorageKind.block), None)


# Hosts that must run before the site's Ceph can serve volumes: the Ceph hosts themselves,
# and the bastion and time source the site playbook needs to build them. They boot from
# the hypervisors' disks (encrypted by the flavor); every other host boots from a volume
# on that Ceph, in the second stage (`site-cloud:blockStorageReady`).
FOUNDATION_ROLES = frozenset({HostRole.ceph_mon, HostRole.ceph_osd, HostRole.ceph_rgw,
                              HostRole.bastion, HostRole.time_source})


def boots_from_volume(site: Site, pool: ComputePool) -> bool:
    return block_pool(site) is not None and not set(pool.roles) <= FOUNDATION_ROLES


def encrypted_backends(site: Site) -> list[str]:
    """The Cinder back ends of the site's encrypted block pools (OSD dm-crypt)."""
    return [backend_name(p.name) for p in site.storage_pools
            if p.kind is StorageKind.block and p.encrypted]


def backend_name(pool: str) -> str:
    return f"ceph-{pool}"


# Nova encrypts a flavor's ephemeral and root disks on the hypervisor (LUKS) with these
# extra specs (Nova 2023.1 and later); every flavor carries them, since foundation hosts
# and the DR site boot from local disks.
EPHEMERAL_ENCRYPTION = {"hw:ephemeral_encryption": "True",
                        "hw:ephemeral_encryption_format": "luks"}


def volume_type_name(site: Site, pool: str) -> str:
    return f"{site.name}-{pool}"


def pool_hosts(site: Site) -> dict[str, list[Host]]:
    grouped: dict[str, list[Host]] = {p.name: [] for p in site.compute_pools}
    for host in site_hosts(site):
        grouped[host.pool].append(host)
    return grouped


# --- networks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SubnetPlan:
    zone: str
    kind: ZoneKind
    cidr: str
    gateway: str
    dynamic_start: str  # Neutron allocates router, DHCP and VIP ports from .2 to .9 only:
    dynamic_end: str  # hosts hold fixed addresses from HOST_OFFSET up (the model's rule)
    router: str  # "border" or "core"


def interconnect_routes(estate: Estate, site: Site) -> tuple[str, ...]:
    """The other sites' zones (their interconnects aside), reached over the court WAN."""
    return tuple(str(z.cidr) for other in estate.sites if other.name != site.name
                 for z in other.zones if z.kind is not ZoneKind.interconnect)


def subnet_plans(site: Site) -> list[SubnetPlan]:
    plans = []
    for zone in site.zones:
        plans.append(SubnetPlan(
            zone.name, zone.kind, str(zone.cidr), str(gateway(zone)),
            str(zone.cidr[2]), str(zone.cidr[HOST_OFFSET - 1]),
            "border" if zone.kind in BORDER_KINDS else "core"))
    return plans


# --- security tiers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One security-group rule, point to point and port by port (8.1.3.2)."""

    tier: str  # edge (CDN/WAF ingress), network (zone firewall and audit), host
    group: str  # the security group it belongs to (see `group_*`)
    direction: str  # ingress or egress
    protocol: str
    port_min: int
    port_max: int
    flow: str  # the model flow (or cross-site link) it comes from
    remote_cidr: str | None = None
    remote_group: str | None = None

    @property
    def description(self) -> str:
        """What the rule is, and nothing else: Neutron cannot change a rule's description,
        so one naming the flows that need it would re-create the rule whenever a flow
        sharing it is added or renamed (and the new rule, alike in all Neutron compares,
        is refused as a duplicate before the old one goes). `courtcloud plan` names the
        flows from the model."""
        other = self.remote_group or self.remote_cidr
        return (f"{self.tier} tier: {self.group} {self.direction} {other} "
                f"{self.protocol}/{self.port_min}-{self.port_max}")

    @property
    def identity(self) -> tuple[str, str, str, int, int, str]:
        """What Neutron compares: two rules alike in these are one rule (a second is 409)."""
        return (self.group, self.direction, self.protocol, self.port_min, self.port_max,
                self.remote_group or str(self.remote_cidr))

    @property
    def key(self) -> str:
        """The rule's resource name, from what it is: adding a flow adds its own rules and
        renames none (a running index renamed every later rule, and Neutron refused the
        re-created duplicates)."""
        group, direction, protocol, low, high, remote = self.identity
        return f"{group}-{direction}-{protocol}-{low}-{high}-{remote.replace('/', '_')}"


def group_for_pool(pool: str) -> str:
    return f"host-{pool}"


def group_for_zone(zone: str) -> str:
    return f"zone-{zone}"


def group_for_edge(destination: str) -> str:
    return f"edge-{destination}"


@dataclass(frozen=True)
class Group:
    key: str
    tier: str
    zone: str  # where the hosts it guards live


def security_groups(site: Site) -> list[Group]:
    groups = [Group(group_for_pool(p.name), "host", p.home_zone) for p in site.compute_pools]
    homed = {p.home_zone for p in site.compute_pools}
    groups += [Group(group_for_zone(z.name), "network", z.name)
               for z in site.zones if z.name in homed]
    for destination in sorted({f.destination for f in site.flows if f.source == "internet"}):
        groups.append(Group(group_for_edge(destination), "edge", _zone_of(site, destination)))
    return groups


def host_groups(site: Site, pool: ComputePool) -> list[str]:
    """The security groups on every port of the pool's hosts."""
    keys = [group_for_pool(pool.name), group_for_zone(pool.home_zone)]
    for destination in sorted({f.destination for f in site.flows if f.source == "internet"}):
        if destination in (pool.name, pool.home_zone):
            keys.append(group_for_edge(destination))
    return keys


def _zone_of(site: Site, name: str) -> str:
    pools = {p.name: p for p in site.compute_pools}
    return pools[name].home_zone if name in pools else name


def _is_pool(site: Site, name: str) -> bool:
    return any(p.name == name for p in site.compute_pools)


def _pools_with_port_in(site: Site, zone: str) -> list[ComputePool]:
    return [p for p in site.compute_pools if zone in p.zones]


def flow_rules(estate: Estate, site: Site) -> list[Rule]:
    rules: list[Rule] = []
    for flow in site.flows:
        for low, high in flow.ports:
            rules.extend(_rules_for(estate, site, flow, low, high))
    rules.extend(_egress_to_other_sites(estate, site))
    return rules


def _remote_cidrs(site: Site, part: str) -> tuple[str, ...]:
    """A pool's host addresses (one by one) or a zone's range, of `site`."""
    if _is_pool(site, part):
        return tuple(f"{a}/32" for h in site_hosts(site) if h.pool == part
                     for a in h.addresses.values())
    return (str(site.zone(part).cidr),)


def _rules_for(estate: Estate, site: Site, flow: Flow, low: int, high: int) -> Iterable[Rule]:
    dest_is_pool = _is_pool(site, flow.destination)
    target = group_for_pool(flow.destination) if dest_is_pool else group_for_zone(flow.destination)
    if "/" in flow.source:  # from another site's pool or zone: point to point, network tier
        other, _, part = flow.source.partition("/")
        for cidr in _remote_cidrs(estate.site(other), part):
            yield Rule("network", target, "ingress", flow.protocol, low, high, flow.name,
                       remote_cidr=cidr)
        return
    if flow.source == "internet":
        yield Rule("edge", group_for_edge(flow.destination), "ingress", flow.protocol, low, high,
                   flow.name, remote_cidr=WORLD)
        return
    tier = "host" if dest_is_pool else "network"
    if _is_pool(site, flow.source):
        yield Rule(tier, target, "ingress", flow.protocol, low, high, flow.name,
                   remote_group=group_for_pool(flow.source))
        senders = [site.pool(flow.source)]
    else:
        yield Rule(tier, target, "ingress", flow.protocol, low, high, flow.name,
                   remote_cidr=str(site.zone(flow.source).cidr))
        senders = _pools_with_port_in(site, flow.source)
    for sender in senders:
        if dest_is_pool:
            yield Rule("host", group_for_pool(sender.name), "egress", flow.protocol, low, high,
                       flow.name, remote_group=group_for_pool(flow.destination))
        else:
            yield Rule("host", group_for_pool(sender.name), "egress", flow.protocol, low, high,
                       flow.name, remote_cidr=str(site.zone(flow.destination).cidr))


def _egress_to_other_sites(estate: Estate, site: Site) -> Iterable[Rule]:
    """This site's side of flows other sites declare from it (`<this site>/<part>`)."""
    for other in estate.sites:
        if other.name == site.name:
            continue
        for flow in other.flows:
            source_site, _, part = flow.source.partition("/")
            if source_site != site.name or not part:
                continue
            senders = ([site.pool(part)] if _is_pool(site, part)
                       else _pools_with_port_in(site, part))
            for low, high in flow.ports:
                for sender in senders:
                    for cidr in _remote_cidrs(other, flow.destination):
                        yield Rule("network", group_for_pool(sender.name), "egress",
                                   flow.protocol, low, high, f"{other.name}/{flow.name}",
                                   remote_cidr=cidr)


def declared_cross_site(estate: Estate, sender: str, receiver: Site, pool: str) -> bool:
    """Whether the receiver's model already states flows from the sender to this pool (or
    its zone); then the model says it, and nothing is derived from replication settings."""
    home = receiver.pool(pool).home_zone
    return any(f.source.startswith(f"{sender}/") and f.destination in (pool, home)
               for f in receiver.flows)


# --- cross-site links --------------------------------------------------------------------

@dataclass(frozen=True)
class Link:
    """Traffic between sites that the model's replication and backup settings imply. Its
    ports are the receiving site's own ports for the same kind of traffic (its flows)."""

    purpose: str  # database-replication, backup, object-replication
    sender: str
    sender_pools: tuple[str, ...]
    sender_cidrs: tuple[str, ...]
    receiver: str
    receiver_pool: str
    receiver_cidrs: tuple[str, ...]
    protocol: str
    ports: tuple[tuple[int, int], ...]


def _host_cidrs(site: Site, pools: Iterable[str]) -> tuple[str, ...]:
    names = set(pools)
    return tuple(f"{h.address}/32" for h in site_hosts(site) if h.pool in names)


def cross_site_links(estate: Estate) -> list[Link]:
    links: list[Link] = []
    for receiver in estate.sites:
        flows = receiver.flows
        for sender in estate.sites:
            if sender.name == receiver.name:
                continue
            rep = sender.replication
            # PostgreSQL streaming replication: each peer reaches the other's database pools
            # on the ports the receiver's database peers use among themselves.
            if rep and rep.database and rep.database.peer_site == receiver.name:
                links.extend(_links_between(receiver, sender, HostRole.database,
                                            HostRole.database, "database-replication", flows))
            if sender.backup and sender.backup.target_site == receiver.name:
                links.extend(_zone_links(receiver, sender, HostRole.backup_vault, "backup", flows))
            if rep and rep.objects_peer_site == receiver.name:
                links.extend(_zone_links(receiver, sender, HostRole.ceph_rgw,
                                         "object-replication", flows, ZoneKind.storage))
    return links


def _links_between(receiver: Site, sender: Site, receiver_role: HostRole, sender_role: HostRole,
                   purpose: str, flows: list[Flow]) -> list[Link]:
    out = []
    senders = [p.name for p in sender.pools_with(sender_role)]
    for pool in receiver.pools_with(receiver_role):
        for flow in flows:
            if flow.destination == pool.name and flow.source in {p.name for p in
                                                                  receiver.pools_with(sender_role)}:
                out.append(Link(purpose, sender.name, tuple(senders), _host_cidrs(sender, senders),
                                receiver.name, pool.name, _host_cidrs(receiver, [pool.name]),
                                flow.protocol, tuple(flow.ports)))
    return out


def _zone_links(receiver: Site, sender: Site, role: HostRole, purpose: str, flows: list[Flow],
                only_kind: ZoneKind | None = None) -> list[Link]:
    """Flows into the receiver's `role` pools from one of its zones stand for the same
    traffic from the sender's zones of that kind."""
    out = []
    zones = {z.name: z for z in receiver.zones}
    for pool in receiver.pools_with(role):
        for flow in flows:
            if flow.destination not in (pool.name, pool.home_zone) or flow.source not in zones:
                continue
            kind = zones[flow.source].kind
            if only_kind is not None and kind is not only_kind:
                continue
            sender_zones = [z for z in sender.zones if z.kind is kind]
            if not sender_zones:
                continue
            pools = tuple(p.name for p in sender.compute_pools
                          if any(z.name in p.zones for z in sender_zones))
            out.append(Link(purpose, sender.name, pools, tuple(str(z.cidr) for z in sender_zones),
                            receiver.name, pool.name, _host_cidrs(receiver, [pool.name]),
                            flow.protocol, tuple(flow.ports)))
    return out


def link_rules(estate: Estate, site: Site) -> list[Rule]:
    """This site's side of every cross-site link: ingress where it receives, egress where it
    sends. Remote addresses are the other site's hosts or zones, never the world. Links the
    model states as flows (`<site>/<pool>` sources) are left to those flows."""
    rules: list[Rule] = []
    for link in cross_site_links(estate):
        if declared_cross_site(estate, link.sender, estate.site(link.receiver),
                               link.receiver_pool):
            continue
        for low, high in link.ports:
            if link.receiver == site.name:
                for cidr in link.sender_cidrs:
                    rules.append(Rule("network", group_for_pool(link.receiver_pool), "ingress",
                                      link.protocol, low, high,
                                      f"{link.purpose}-from-{link.sender}", remote_cidr=cidr))
            if link.sender == site.name:
                for pool in link.sender_pools:
                    for cidr in link.receiver_cidrs:
                        rules.append(Rule("network", group_for_pool(pool), "egress", link.protocol,
                                          low, high, f"{link.purpose}-to-{link.receiver}",
                                          remote_cidr=cidr))
    return rules


def site_rules(estate: Estate, site: Site) -> list[Rule]:
    """Each rule once by what Neutron compares; the flows that need it are named together."""
    unique: dict[tuple[str, str, str, int, int, str], Rule] = {}
    for rule in [*flow_rules(estate, site), *link_rules(estate, site)]:
        seen = unique.get(rule.identity)
        if seen is None:
            unique[rule.identity] = rule
        elif rule.flow not in seen.flow.split(" + "):
            unique[rule.identity] = replace(seen, flow=f"{seen.flow} + {rule.flow}")
    return list(unique.values())


# --- published endpoints (load balancers) ------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """A destination the internet may reach: one Octavia load balancer with a public IP."""

    destination: str  # pool or zone
    zone: str
    name: str  # its published DNS name
    ports: tuple[int, ...]
    members: tuple[str, ...]  # member addresses (the destination's hosts in its zone)


def published_endpoints(estate: Estate, site: Site) -> list[Endpoint]:
    grouped: dict[str, list[int]] = {}
    for flow in site.flows:
        if flow.source == "internet":
            for low, high in flow.ports:
                grouped.setdefault(flow.destination, []).extend(range(low, high + 1))
    endpoints = []
    for destination, ports in sorted(grouped.items()):
        zone = _zone_of(site, destination)
        members = tuple(str(h.addresses[zone]) for h in site_hosts(site)
                        if (h.pool == destination or h.home_zone == destination)
                        and zone in h.addresses)
        endpoints.append(Endpoint(destination, zone, f"{destination}.{estate.court.domain}",
                                  tuple(sorted(set(ports))), members))
    return endpoints


# --- quotas ------------------------------------------------------------------------------

# Quotas leave room above the counts: for a replacement made before its original is
# deleted, one more member per pool, and what Neutron adds by itself (below).
QUOTA_HEADROOM = 0.2
NEUTRON_DEFAULT_GROUP_RULES = 4  # the project's default group: ingress from itself, egress
NEUTRON_NEW_GROUP_RULES = 2  # each new group's egress rules (IPv4, IPv6), deleted after


def quotas(estate: Estate, site: Site) -> dict[str, int]:
    """What the site's project may hold: the model's counts plus QUOTA_HEADROOM."""
    return {k: v if k == "key_pairs" else math.ceil(v * (1 + QUOTA_HEADROOM))
            for k, v in exact_counts(estate, site).items()}


def exact_counts(estate: Estate, site: Site) -> dict[str, int]:
    hosts = site_hosts(site)
    ports = sum(len(h.addresses) for h in hosts)
    endpoints = published_endpoints(estate, site)
    volume_pools = {p.name for p in site.compute_pools if boots_from_volume(site, p)}
    boots = sum(1 for h in hosts if h.pool in volume_pools)
    groups = security_groups(site)
    return {
        "instances": len(hosts),
        "cores": sum(h.flavor.vcpus for h in hosts),
        "ram_mb": sum(h.flavor.memory_gb for h in hosts) * 1024,
        "server_groups": sum(1 for p in site.compute_pools if server_group_policy(p)),
        "server_group_members": max((p.count for p in site.compute_pools), default=0),
        "networks": len(site.zones),
        "subnets": len(site.zones),
        "routers": len({s.router for s in subnet_plans(site)}),
        # every host port, plus per zone a DHCP port and a router port, plus per load
        # balancer its VIP and the amphorae's ports (an active-standby pair: 2 each)
        "ports": ports + 2 * len(site.zones) + 5 * len(endpoints),
        "security_groups": len(groups) + 1,  # the project's own default group
        "security_group_rules": (len(site_rules(estate, site)) + NEUTRON_DEFAULT_GROUP_RULES
                                 + NEUTRON_NEW_GROUP_RULES * len(groups)),
        "floating_ips": len(endpoints),
        "volumes": boots,
        "volume_gb": sum(int(p.capacity_tb * 1024) for p in site.storage_pools
                         if p.kind is StorageKind.block),
    }


def ip(value: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(value)
