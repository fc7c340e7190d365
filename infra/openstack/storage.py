"""Ceph behind OpenStack: a Cinder volume type per block pool (RBD), a Swift/RGW container
per object pool, each carrying its pool's capacity, copies and encryption.

The provider has no resource for Cinder's volume-type encryption API; the pool's Ceph
back end encrypts (OSD dm-crypt, set by the Ansible Ceph role). The policy pack holds every
volume to a type whose `volume_backend_name` is one of the model's encrypted pools (8.1.4.8);
the `courtcloud:encrypted` spec is for people, and no policy trusts it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from courtcloud.model import Site, StorageKind

from . import derive

TB = 1024**4


def container_metadata(capacity_tb: float, specs: dict[str, str]) -> dict[str, str]:
    """Swift container metadata (header-safe keys) with the pool's quota in bytes."""
    return {"Quota-Bytes": str(int(capacity_tb * TB)),
            **{k.replace(":", "-"): v for k, v in specs.items()}}


# Holds evidence: a plan never deletes it (protect), and `pulumi destroy` leaves it.
KEEP = pulumi.ResourceOptions(protect=True, retain_on_delete=True)


@dataclass(frozen=True)
class StorageArgs:
    site: Site


class CephStorage(pulumi.ComponentResource):
    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("courtcloud:openstack:CephStorage", name, {"site": args.site.name}, opts)
        site = args.site
        child = pulumi.ResourceOptions(parent=self)
        self.volume_types: dict[str, openstack.blockstorage.VolumeTypeV3] = {}
        for pool in site.storage_pools:
            specs = {
                "courtcloud:site": site.name,
                "courtcloud:pool": pool.name,
                "courtcloud:zone": pool.zone,
                "courtcloud:capacity-tb": f"{pool.capacity_tb:g}",
                "courtcloud:copies": str(pool.copies),
                "courtcloud:encrypted": "true" if pool.encrypted else "false",
            }
            if pool.kind is StorageKind.block:
                self.volume_types[pool.name] = openstack.blockstorage.VolumeTypeV3(
                    f"{site.name}-{pool.name}", name=derive.volume_type_name(site, pool.name),
                    description=f"Ceph RBD pool {pool.name} ({pool.copies} copies)",
                    is_public=False,
                    extra_specs={"volume_backend_name": derive.backend_name(pool.name), **specs},
                    opts=child)
            elif pool.kind is StorageKind.object:
                openstack.objectstorage.Container(
                    f"{site.name}-{pool.name}", name=f"{site.name}-{pool.name}",
                    versioning=True,
                    metadata=container_metadata(pool.capacity_tb, specs),
                    opts=pulumi.ResourceOptions.merge(child, KEEP))
            # backup pools are the DR vault, built by infra/dr-miyun
        self.register_outputs({"volumeTypes": {k: v.name for k, v in self.volume_types.items()}})
