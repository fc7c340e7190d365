"""The site's project, quotas and SDN zones (networks, subnets, border and core routers,
and the cross-site interconnect)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_openstack as openstack

from courtcloud.model import Estate, Site, ZoneKind
from courtcloud.model.addressing import gateway

from . import derive

if TYPE_CHECKING:
    from .site import DeployIdentity


@dataclass(frozen=True)
class ProjectArgs:
    estate: Estate
    site: Site
    deployer: DeployIdentity


class SiteProject(pulumi.ComponentResource):
    """The site's OpenStack project, with quotas sized to exactly what the model places."""

    def __init__(self, name: str, args: ProjectArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("courtcloud:openstack:SiteProject", name, {"site": args.site.name}, opts)
        site, estate = args.site, args.estate
        child = pulumi.ResourceOptions(parent=self)
        self.project = openstack.identity.Project(
            f"{site.name}-project", name=f"{estate.court.code}-{site.name}",
            description=f"{estate.court.name}: {site.location} ({site.role} site)",
            tags=derive.tags(site),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(protect=True)))
        q = derive.quotas(estate, site)
        compute_quota = openstack.compute.QuotaSetV2(
            f"{site.name}-compute-quota", project_id=self.project.id, instances=q["instances"],
            cores=q["cores"], ram=q["ram_mb"], server_groups=q["server_groups"],
            server_group_members=q["server_group_members"], key_pairs=1, opts=child)
        network_quota = openstack.networking.QuotaV2(
            f"{site.name}-network-quota", project_id=self.project.id, network=q["networks"],
            subnet=q["subnets"], router=q["routers"], port=q["ports"],
            security_group=q["security_groups"], security_group_rule=q["security_group_rules"],
            floatingip=q["floating_ips"], opts=child)
        volume_quota = openstack.blockstorage.QuoteSetV3(
            f"{site.name}-volume-quota", project_id=self.project.id, volumes=q["volumes"],
            gigabytes=q["volume_gb"], opts=child)
        # Everything inside the project is created through a provider scoped to it, which
        # waits for the quotas (nothing is created against the cloud's default quotas) and
        # for the deploying user's role on the project (else Keystone refuses its token).
        waits_for: list[pulumi.Resource] = [compute_quota, network_quota, volume_quota]
        deployer = args.deployer
        invoke = pulumi.InvokeOutputOptions(parent=self)
        user = openstack.identity.get_user_output(name=deployer.user_name, opts=invoke)
        role = openstack.identity.get_role_output(name=deployer.role, opts=invoke)
        self.role_assignment = openstack.identity.RoleAssignment(
            f"{site.name}-deployer", project_id=self.project.id, user_id=user.id,
            role_id=role.id, opts=child)
        waits_for.append(self.role_assignment)
        self.provider = openstack.Provider(
            f"{site.name}-in-project", auth_url=deployer.auth_url,
            user_name=deployer.user_name, user_domain_name=deployer.user_domain,
            password=deployer.password, tenant_id=self.project.id,
            region=deployer.region, cacert_file=deployer.cacert_file,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=waits_for)))
        self.register_outputs({"projectId": self.project.id})


@dataclass(frozen=True)
class ZonesArgs:
    site: Site
    external_network: str  # the cloud's provider network for public addresses
    other_sites: tuple[str, ...] = ()  # the other sites' zones, reached over the WAN
    wan_next_hop: str | None = None  # the WAN router's address in the interconnect zone


class SiteZones(pulumi.ComponentResource):
    """One Neutron network and subnet per zone; internet-facing zones behind the border
    router (the only one with an external gateway, SNAT off), all others behind the core
    router, which also holds the site's end of the cross-site interconnect."""

    def __init__(self, name: str, args: ZonesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("courtcloud:openstack:SiteZones", name, {"site": args.site.name}, opts)
        site = args.site
        child = pulumi.ResourceOptions(parent=self)
        self.external = openstack.networking.get_network_output(
            name=args.external_network, external=True, opts=pulumi.InvokeOutputOptions(parent=self))
        plans = derive.subnet_plans(site)
        self.routers: dict[str, openstack.networking.Router] = {}
        for kind in sorted({p.router for p in plans}):
            border = kind == "border"
            self.routers[kind] = openstack.networking.Router(
                f"{site.name}-{kind}-router", name=f"{site.name}-{kind}",
                description=("internet-facing zones; external gateway without SNAT" if border
                             else "intranet zones and the cross-site interconnect"),
                external_network_id=self.external.id if border else None,
                enable_snat=False if border else None,
                tags=derive.tags(site, router=kind), opts=child)
        self.networks: dict[str, openstack.networking.Network] = {}
        self.subnets: dict[str, openstack.networking.Subnet] = {}
        self.router_interfaces: dict[str, openstack.networking.RouterInterface] = {}
        for plan in plans:
            zone_tags = derive.tags(site, zone=plan.zone)
            network = openstack.networking.Network(
                f"{site.name}-{plan.zone}", name=f"{site.name}-{plan.zone}",
                description=site.zone(plan.zone).description or str(plan.kind),
                admin_state_up=True, port_security_enabled=True, tags=zone_tags, opts=child)
            subnet = openstack.networking.Subnet(
                f"{site.name}-{plan.zone}", name=f"{site.name}-{plan.zone}",
                network_id=network.id, cidr=plan.cidr, ip_version=4, gateway_ip=plan.gateway,
                enable_dhcp=plan.kind is not ZoneKind.interconnect,
                allocation_pools=[openstack.networking.SubnetAllocationPoolArgs(
                    start=plan.dynamic_start, end=plan.dynamic_end)],
                tags=zone_tags, opts=child)
            self.router_interfaces[plan.zone] = openstack.networking.RouterInterface(
                f"{site.name}-{plan.zone}", router_id=self.routers[plan.router].id,
                subnet_id=subnet.id, opts=child)
            self.networks[plan.zone] = network
            self.subnets[plan.zone] = subnet
        self.routes = self._wan_routes(args, child)
        self.register_outputs({
            "networks": {z: n.id for z, n in self.networks.items()},
            "subnets": {z: s.id for z, s in self.subnets.items()},
        })

    def _wan_routes(self, args: ZonesArgs,
                    child: pulumi.ResourceOptions) -> list[openstack.networking.RouterRoute]:
        """The core router reaches the other sites' zones through the WAN router in the
        interconnect zone (replication, backups, witnesses: the tiers still decide what
        passes)."""
        site = args.site
        if not args.other_sites:
            return []
        link = next((z for z in site.zones if z.kind is ZoneKind.interconnect), None)
        hop = args.wan_next_hop
        problem = None
        if link is None:
            problem = "the site has no interconnect zone; add one (kind: interconnect)"
        elif hop is None:
            problem = ("site-cloud:wanNextHop is not set: give the address of the court WAN's "
                       f"router in the interconnect zone {link.name} ({link.cidr})")
        elif not _address(hop):
            problem = f"site-cloud:wanNextHop {hop!r} is not an IPv4 address"
        elif ipaddress.ip_address(hop) not in link.cidr or hop == str(gateway(link)):
            problem = (f"site-cloud:wanNextHop {hop} is not a host of the interconnect zone "
                       f"{link.name} ({link.cidr}), or is the site's own router there")
        if problem:
            raise pulumi.RunError(f"site {site.name}: {problem}")
        assert link is not None and hop is not None
        after = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            depends_on=[self.router_interfaces[link.name]]))
        return [openstack.networking.RouterRoute(
            f"{site.name}-to-{cidr.replace('/', '_')}", router_id=self.routers["core"].id,
            destination_cidr=cidr, next_hop=hop, opts=after) for cidr in args.other_sites]


def _address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
