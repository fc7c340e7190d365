"""Hosts: one HostPool per compute pool of the model - its flavor, a server group (hard
anti-affinity for replicated roles), and per host a port in each zone at the model's fixed
address, an encrypted boot volume and a server whose cloud-init hands it to Ansible."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack
import yaml

from courtcloud import automation
from courtcloud.model import Estate, Host, Site
from courtcloud.model.schema import ComputePool

from . import derive

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def cloud_init(estate: Estate, site: Site, host: Host, automation_key: str) -> str:
    """User data: name the host, lock the door, create the account Ansible logs in as (the
    baseline lets only its group in by key), and leave the facts Ansible starts from.
    No secret travels this way (user data is readable from the metadata service)."""
    facts = {
        "estate": estate.name, "site": site.name, "pool": host.pool, "index": host.index,
        "roles": [str(r) for r in host.roles], "zone": host.home_zone,
        "addresses": {z: str(a) for z, a in host.addresses.items()},
        "security_level": estate.security_level,
        # the log host keeps every host's forwarded logs this long (8.1.4.3)
        "log_retention_days": site.log_retention_days,
    }
    document = {
        "hostname": host.name,
        "fqdn": host.fqdn(estate.court.domain),
        "prefer_fqdn_over_hostname": True,
        "manage_etc_hosts": True,
        "disable_root": True,
        "ssh_pwauth": False,
        "package_update": False,  # packages come through the site's mirror, under Ansible
        **automation.cloud_config_users(automation_key),
        "write_files": [{
            "path": "/etc/courtcloud/host.json", "owner": "root:root", "permissions": "0644",
            "content": json.dumps(facts, indent=2, sort_keys=True) + "\n",
        }],
    }
    return "#cloud-config\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False)


@dataclass(frozen=True)
class HostPoolArgs:
    estate: Estate
    site: Site
    pool: ComputePool
    hosts: list[Host]
    flavor_id: pulumi.Input[str]
    keypair: pulumi.Input[str]
    automation_key: pulumi.Input[str]  # the keypair's public half, for the automation account
    subnets: dict[str, openstack.networking.Subnet]
    networks: dict[str, openstack.networking.Network]
    security_groups: list[pulumi.Input[str]]
    volume_type: pulumi.Input[str] | None  # encrypted Ceph type for boot volumes, or None:
    # the hosts boot from the hypervisors' disks, encrypted by the flavor
    image_id: str  # pinned by the stack's config (site-cloud:imageId), never looked up
    hypervisors: int = derive.DEFAULT_HYPERVISORS


class HostPool(pulumi.ComponentResource):
    def __init__(self, name: str, args: HostPoolArgs, opts: pulumi.ResourceOptions | None = None):
        site, pool = args.site, args.pool
        super().__init__("courtcloud:openstack:HostPool", name,
                         {"site": site.name, "pool": pool.name, "count": pool.count,
                          "roles": [str(r) for r in pool.roles]}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # A port holds a fixed address: its replacement can exist only once it is gone.
        port_opts = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(delete_before_replace=True))
        # A new image, key or cloud-init text changes nothing on a running host (cloud-init
        # ran at its first boot; Ansible keeps it since): no replacement for those. Hosts
        # holding the court's data, and their disks, are never replaced or deleted by a plan.
        keep = derive.stateful(pool)
        server_opts = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            ignore_changes=["user_data", "key_pair", "image_name", "image_id", "block_devices"],
            protect=keep))
        volume_opts = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            ignore_changes=["image_id"], protect=keep, retain_on_delete=keep))
        group_policy = derive.server_group_policy(pool, args.hypervisors)
        self.server_group = None
        if group_policy:
            self.server_group = openstack.compute.ServerGroup(
                f"{site.name}-{pool.name}", name=derive.server_group_name(site, pool),
                policies=group_policy, opts=child)
        self.servers: list[openstack.compute.Instance] = []
        for host in args.hosts:
            ports = []
            for zone, address in host.addresses.items():
                ports.append(openstack.networking.Port(
                    f"{host.name}-{zone}", name=f"{host.name}-{zone}",
                    network_id=args.networks[zone].id, admin_state_up=True,
                    port_security_enabled=True, security_group_ids=args.security_groups,
                    fixed_ips=[openstack.networking.PortFixedIpArgs(
                        subnet_id=args.subnets[zone].id, ip_address=str(address))],
                    tags=derive.tags(site, zone=zone, pool=pool.name), opts=port_opts))
            block_devices = None
            if args.volume_type:
                volume = openstack.blockstorage.Volume(
                    f"{host.name}-boot", name=f"{host.name}-boot", size=pool.flavor.disk_gb,
                    volume_type=args.volume_type, image_id=args.image_id,
                    metadata={"courtcloud-site": site.name, "courtcloud-host": host.name,
                              "courtcloud-zone": host.home_zone},
                    opts=volume_opts)
                block_devices = [openstack.compute.InstanceBlockDeviceArgs(
                    source_type="volume", destination_type="volume", uuid=volume.id,
                    boot_index=0, delete_on_termination=False)]
            hints = None
            if self.server_group is not None:
                hints = [openstack.compute.InstanceSchedulerHintArgs(group=self.server_group.id)]
            self.servers.append(openstack.compute.Instance(
                host.name, name=host.name, flavor_id=args.flavor_id,
                image_id=None if block_devices else args.image_id,
                block_devices=block_devices, key_pair=args.keypair,
                networks=[openstack.compute.InstanceNetworkArgs(port=p.id) for p in ports],
                scheduler_hints=hints, config_drive=True,
                user_data=pulumi.Output.from_input(args.automation_key).apply(
                    lambda key, h=host: cloud_init(args.estate, site, h, key)),
                metadata=derive.host_metadata(site, host, pool),
                tags=derive.tags(site, zone=host.home_zone, pool=pool.name), opts=server_opts))
        self.register_outputs({"servers": [s.name for s in self.servers]})
