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
class CloudSettings:
    """Facts of the cloud a site lands on, not of the court: from `site-cloud:*` config."""

    external_network: str
    image: str
    ansible_public_key: str | None
    image_id: str | None = None  # pins the boot image; else the newest image named `image`

    @classmethod
    def from_config(cls) -> CloudSettings:
        config = pulumi.Config("site-cloud")
        return cls(config.require("externalNetwork"), config.require("image"),
                   config.get("ansiblePublicKey"), config.get("imageId"))


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
        self.project = SiteProject(f"{site.name}", ProjectArgs(estate, site),
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
                disk=flavor.disk_gb, is_public=False, opts=pulumi.ResourceOptions(parent=self))
            openstack.compute.FlavorAccess(
                flavor_name, flavor_id=flavors[flavor_name].id,
                tenant_id=self.project.project.id, opts=pulumi.ResourceOptions(parent=self))

        self.zones = SiteZones(f"{site.name}", ZonesArgs(site, cloud.external_network), inside)
        self.tiers = SecurityTiers(f"{site.name}", TiersArgs(estate, site), inside)
        self.storage = CephStorage(f"{site.name}", StorageArgs(site), inside)
        self.secrets = SiteSecrets(f"{site.name}", site, inside)

        boot_pool = derive.block_pool(site)
        image_id = None
        if boot_pool and cloud.image_id:
            image_id = cloud.image_id
        elif boot_pool:
            # a newer upload changes this id, which the boot volumes ignore (compute.py)
            image_id = openstack.images.get_image_output(
                name=cloud.image, most_recent=True,
                opts=pulumi.InvokeOutputOptions(parent=self)).id
        hosts = derive.pool_hosts(site)
        self.pools: dict[str, HostPool] = {}
        for pool in site.compute_pools:
            groups = [self.tiers.groups[k].id for k in derive.host_groups(site, pool)]
            volume_type = None
            if boot_pool:
                volume_type = self.storage.volume_types[boot_pool].name
            self.pools[pool.name] = HostPool(
                f"{site.name}-{pool.name}",
                HostPoolArgs(estate, site, pool, hosts[pool.name],
                             flavors[derive.flavor_name(site, pool.flavor)].id, cloud.image,
                             self.keypair.name, self.keypair.public_key, self.zones.subnets,
                             self.zones.networks, groups,
                             volume_type, image_id),
                inside)

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
