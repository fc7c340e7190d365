"""A whole site on OpenStack, built from the site model and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack
import pulumi_random as random

from courtcloud.model import Estate, HostRole, Site

from . import derive
from .compute import HostPool, HostPoolArgs
from .edge import EndpointArgs, PublishedEndpoint
from .network import ProjectArgs, SiteProject, SiteZones, ZonesArgs
from .security import SecurityTiers, TiersArgs
from .storage import CephStorage, StorageArgs

# Secrets a site's databases need. Each comes from the stack's config when set there with
# `pulumi config set --secret site-secrets:<name> ...`, and is generated otherwise.
DATABASE_SECRETS = ("postgresSuperuser", "postgresReplication", "patroniRest")


@dataclass(frozen=True)
class DeployIdentity:
    """Who deploys inside the site's new project: Keystone gives a project-scoped token only
    to a user with a role there, so the program grants it (`identity.RoleAssignment`) and
    the site's provider logs in with these, complete and explicit (an `OS_CLOUD` entry
    would scope it to the clouds.yaml project instead)."""

    auth_url: str
    user_name: str
    user_domain: str
    password: pulumi.Input[str]
    region: str | None = None
    role: str = "member"
    cacert_file: str | None = None

    @classmethod
    def from_config(cls, config: pulumi.Config) -> DeployIdentity:
        return cls(config.require("authUrl"), config.require("deployUser"),
                   config.get("deployUserDomain") or "Default",
                   config.require_secret("deployPassword"), config.get("region"),
                   config.get("deployRole") or "member", config.get("cacertFile"))


@dataclass(frozen=True)
class CloudSettings:
    """Facts of the cloud a site lands on, not of the court: from `site-cloud:*` config."""

    external_network: str
    image_id: str  # the boot image, pinned by id: a new upload replaces nothing
    ansible_public_key: str | None
    deployer: DeployIdentity
    # Stage 2: the site's Ceph serves Cinder volumes (after the site playbook built it on
    # the foundation hosts); until then only the foundation is declared.
    block_storage_ready: bool = False
    hypervisors: int = derive.DEFAULT_HYPERVISORS
    wan_next_hop: str | None = None  # the court WAN's router in the interconnect zone

    @classmethod
    def from_config(cls) -> CloudSettings:
        config = pulumi.Config("site-cloud")
        return cls(config.require("externalNetwork"), config.require("imageId"),
                   config.get("ansiblePublicKey"), DeployIdentity.from_config(config),
                   bool(config.get_bool("blockStorageReady")),
                   config.get_int("hypervisors") or derive.DEFAULT_HYPERVISORS,
                   config.get("wanNextHop"))


@dataclass(frozen=True)
class SiteArgs:
    estate: Estate
    site: Site
    cloud: CloudSettings


class SiteSecrets(pulumi.ComponentResource):
    def __init__(self, name: str, site: Site, opts: pulumi.ResourceOptions | None = None):
        super().__init__("courtcloud:openstack:SiteSecrets", name, {"site": site.name}, opts)
        config = pulumi.Config("site-secrets")
        self.values: dict[str, pulumi.Output[str]] = {}
        if site.pools_with(HostRole.database):
            for key in DATABASE_SECRETS:
                given = config.get_secret(key)
                if given is not None:
                    self.values[key] = given
                    continue
                generated = random.RandomPassword(
                    f"{site.name}-{key}", length=32, special=False,
                    opts=pulumi.ResourceOptions(parent=self))
                self.values[key] = pulumi.Output.secret(generated.result)
        self.register_outputs({})


class OpenStackSite(pulumi.ComponentResource):
    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None):
        estate, site, cloud = args.estate, args.site, args.cloud
        super().__init__("courtcloud:openstack:Site", name,
                         {"site": site.name, "role": str(site.role)}, opts)
        self.project = SiteProject(f"{site.name}", ProjectArgs(estate, site, cloud.deployer),
                                   pulumi.ResourceOptions(parent=self))
        inside = pulumi.ResourceOptions(parent=self, providers={"openstack": self.project.provider})

        self.keypair = openstack.compute.Keypair(
            f"{site.name}-ansible", name=f"{site.name}-ansible",
            public_key=cloud.ansible_public_key,
            opts=pulumi.ResourceOptions.merge(
                inside, pulumi.ResourceOptions(additional_secret_outputs=["private_key"])))
        flavors = {}
        for flavor_name, flavor in derive.site_flavors(site).items():
            flavors[flavor_name] = openstack.compute.Flavor(
                flavor_name, name=flavor_name, vcpus=flavor.vcpus, ram=flavor.memory_gb * 1024,
                disk=flavor.disk_gb, is_public=False, extra_specs=derive.EPHEMERAL_ENCRYPTION,
                opts=pulumi.ResourceOptions(parent=self))
            openstack.compute.FlavorAccess(
                flavor_name, flavor_id=flavors[flavor_name].id,
                tenant_id=self.project.project.id, opts=pulumi.ResourceOptions(parent=self))

        self.zones = SiteZones(f"{site.name}", ZonesArgs(
            site, cloud.external_network, derive.interconnect_routes(estate, site),
            cloud.wan_next_hop), inside)
        self.tiers = SecurityTiers(f"{site.name}", TiersArgs(estate, site), inside)
        self.storage = CephStorage(f"{site.name}", StorageArgs(site), inside)
        self.secrets = SiteSecrets(f"{site.name}", site, inside)

        boot_pool = derive.block_pool(site)
        hosts = derive.pool_hosts(site)
        self.pools: dict[str, HostPool] = {}
        self.waiting: list[str] = []  # pools left for stage 2
        for pool in site.compute_pools:
            volume_type = None
            if derive.boots_from_volume(site, pool):
                if not cloud.block_storage_ready:
                    self.waiting.append(pool.name)
                    continue
                volume_type = self.storage.volume_types[boot_pool].name
            groups = [self.tiers.groups[k].id for k in derive.host_groups(site, pool)]
            self.pools[pool.name] = HostPool(
                f"{site.name}-{pool.name}",
                HostPoolArgs(estate, site, pool, hosts[pool.name],
                             flavors[derive.flavor_name(site, pool.flavor)].id,
                             self.keypair.name, self.keypair.public_key, self.zones.subnets,
                             self.zones.networks, groups, volume_type, cloud.image_id,
                             cloud.hypervisors),
                inside)
        if self.waiting:
            pulumi.log.warn(
                f"site {site.name}: stage 1 (foundation). The pools {', '.join(self.waiting)} "
                f"boot from volumes on the site's own Ceph ({boot_pool}), which does not serve "
                "Cinder yet, so they are not declared. Run the site playbook on the foundation "
                "hosts (Ceph, bastion, time), check `openstack volume service list` shows the "
                f"{derive.backend_name(str(boot_pool))} back end up, then "
                "`pulumi config set site-cloud:blockStorageReady true` and `pulumi up` again")

        self.endpoints: dict[str, PublishedEndpoint] = {}
        for endpoint in derive.published_endpoints(estate, site):
            groups = [self.tiers.groups[derive.group_for_edge(endpoint.destination)].id]
            self.endpoints[endpoint.name] = PublishedEndpoint(
                f"{site.name}-{endpoint.destination}",
                EndpointArgs(site, endpoint, self.zones.subnets[endpoint.zone],
                             cloud.external_network, groups,
                             self.zones.router_interfaces[endpoint.zone]),
                inside)
        self.register_outputs({"projectId": self.project.project.id})

    def exports(self) -> dict[str, object]:
        """What other stacks may read through a StackReference: no secret. (Miyun's stack
        reads the sites' published addresses; a StackReference to a whole object that held
        the automation key and the database passwords copied them into Miyun's state.)"""
        return {
            "projectId": self.project.project.id,
            "networks": {z: n.id for z, n in self.zones.networks.items()},
            "publishedAddresses": {name: e.address.address for name, e in self.endpoints.items()},
        }

    def secret_exports(self) -> pulumi.Output[dict[str, object]]:
        """For the site's operators only (`pulumi stack output --show-secrets`), exported
        under its own name that no other stack reads, and secret as a whole."""
        return pulumi.Output.secret({"ansiblePrivateKey": self.keypair.private_key,
                                     "secrets": self.secrets.values})
