"""Disaster recovery across sites.

Every site that backs up somewhere declares a BackupPlan and its ReplicationPeers (settings
the Ansible roles apply: pgBackRest, Patroni, RBD mirroring, RGW multisite). The DR site
builds the vault - one container per site and purpose, sized from its backup pools - reads
the other sites' outputs by StackReference, and holds the DNS records that move the
published names from the primary to the standby.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_openstack as openstack

from courtcloud.model import Estate, HostRole, Site, SiteRole, StorageKind, site_hosts
from infra.openstack import derive
from infra.openstack.storage import container_metadata

# Published names must move within the RTO; resolvers may hold a record this long.
FAILOVER_TTL_SECONDS = 60


def vault_container(target: Site, source: str, purpose: str) -> str:
    return f"{target.name}-{source}-{purpose}"


def senders(estate: Estate, target: Site) -> list[tuple[Site, str]]:
    """(site, purpose) for every site that sends this site backups or object replicas."""
    found = []
    for site in estate.sites:
        if site.name == target.name:
            continue
        if site.backup and site.backup.target_site == target.name:
            found.append((site, "backups"))
        if site.replication and site.replication.objects_peer_site == target.name:
            found.append((site, "objects"))
    return found


class BackupPlan(pulumi.ComponentResource):
    """A site's backup to the DR site (8.1.4.9), as the policy pack and Ansible see it."""

    def __init__(self, name: str, estate: Estate, site: Site,
                 opts: pulumi.ResourceOptions | None = None):
        backup = site.backup
        if backup is None:
            raise ValueError(f"site {site.name} has no backup in the model")
        target = estate.site(backup.target_site)
        props = {
            "site": site.name, "targetSite": target.name, "targetRole": str(target.role),
            "schedule": backup.schedule, "retentionDays": backup.retention_days,
            "rpoMinutes": backup.rpo_minutes, "rtoMinutes": backup.rto_minutes,
            "vaultContainer": vault_container(target, site.name, "backups"),
        }
        super().__init__("courtcloud:dr:BackupPlan", name, props, opts)
        self.props = props
        self.register_outputs(props)


def replication_settings(estate: Estate, site: Site) -> dict[str, Any]:
    rep = site.replication
    settings: dict[str, Any] = {"site": site.name}
    if rep and rep.database:
        peer = estate.site(rep.database.peer_site)
        settings["database"] = {
            "mode": rep.database.mode, "peerSite": peer.name,
            "peerAddresses": [str(h.address) for h in site_hosts(peer)
                              if HostRole.database in h.roles],
        }
    object_sites = [s for s in estate.sites if s.storage_pools and any(
        p.kind is not StorageKind.block for p in s.storage_pools)]
    if rep and rep.objects_peer_site:
        settings["ceph"] = {
            "rbdMirroringPeer": rep.objects_peer_site,
            "rgwMultisite": {
                "realm": estate.court.code, "zonegroup": estate.name, "zone": site.name,
                "zones": {s.name: [f"{h.address}" for h in site_hosts(s)
                                   if HostRole.ceph_rgw in h.roles] for s in object_sites},
            },
        }
    return settings


class ReplicationPeers(pulumi.ComponentResource):
    def __init__(self, name: str, estate: Estate, site: Site,
                 opts: pulumi.ResourceOptions | None = None):
        props = replication_settings(estate, site)
        super().__init__("courtcloud:dr:ReplicationPeers", name, props, opts)
        self.props = props
        self.register_outputs(props)


@dataclass(frozen=True)
class RecoveryArgs:
    estate: Estate
    site: Site  # the DR site
    site_stacks: dict[str, str]  # site name -> the stack that builds it


class DisasterRecoverySite(pulumi.ComponentResource):
    def __init__(self, name: str, args: RecoveryArgs, opts: pulumi.ResourceOptions | None = None):
        estate, site = args.estate, args.site
        super().__init__("courtcloud:dr:DisasterRecoverySite", name,
                         {"site": site.name, "role": str(site.role)}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The vault and the court's DNS zone: never deleted by a plan, and kept by a destroy.
        keep = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            protect=True, retain_on_delete=True))
        vaults = [p for p in site.storage_pools if p.kind is StorageKind.backup]
        sources = senders(estate, site)
        capacity = sum(p.capacity_tb for p in vaults)
        self.containers: dict[str, openstack.objectstorage.Container] = {}
        for source, purpose in sources:
            container = vault_container(site, source.name, purpose)
            share = capacity / len(sources)
            specs = {"courtcloud:site": site.name, "courtcloud:source-site": source.name,
                     "courtcloud:purpose": purpose,
                     "courtcloud:pool": ",".join(p.name for p in vaults),
                     "courtcloud:capacity-tb": f"{share:g}",
                     "courtcloud:copies": str(min((p.copies for p in vaults), default=0)),
                     "courtcloud:encrypted": "true" if all(p.encrypted for p in vaults)
                     else "false"}
            self.containers[container] = openstack.objectstorage.Container(
                container, name=container, versioning=True,
                metadata=container_metadata(share, specs), opts=keep)

        org, project = pulumi.get_organization(), pulumi.get_project()
        self.peers: dict[str, pulumi.StackReference] = {}
        for peer in estate.sites:
            if peer.name == site.name or peer.role is SiteRole.dr:
                continue
            stack = args.site_stacks.get(peer.name)
            if stack is None:
                continue
            self.peers[peer.name] = pulumi.StackReference(
                f"{site.name}-reads-{peer.name}", stack_name=f"{org}/{project}/{stack}",
                opts=child)

        # DNS failover: the court's zone lives here, where it survives the loss of the
        # primary; each published name points at the primary and has a standby twin.
        self.records: dict[str, Any] = {}
        primary = next((s for s in estate.sites if s.role is SiteRole.primary), None)
        standby = next((s for s in estate.sites if s.role is SiteRole.standby), None)
        if primary is not None and primary.name in self.peers:
            zone = openstack.dns.Zone(
                f"{site.name}-court-zone", name=f"{estate.court.domain}.",
                email=f"hostmaster@{estate.court.domain}", ttl=FAILOVER_TTL_SECONDS,
                description="published names of the court; failover records", opts=keep)
            for endpoint in derive.published_endpoints(estate, primary):
                for role_site, label in ((primary, "active"), (standby, "failover")):
                    if role_site is None or role_site.name not in self.peers:
                        continue
                    record_name = (f"{endpoint.name}." if label == "active" else
                                   f"{endpoint.destination}.{label}.{estate.court.domain}.")
                    address = self.peers[role_site.name].get_output(role_site.name).apply(
                        lambda out, n=endpoint.name: [(out or {}).get(
                            "publishedAddresses", {}).get(n)] if out else [])
                    self.records[record_name] = openstack.dns.RecordSet(
                        f"{site.name}-{endpoint.destination}-{label}", zone_id=zone.id,
                        name=record_name, type="A", ttl=FAILOVER_TTL_SECONDS, records=address,
                        description=f"{label}: {role_site.name}", opts=child)
        self.warm_capacity = warm_capacity(site)
        self.register_outputs({"vault": list(self.containers), "dns": list(self.records),
                               "warmCapacity": self.warm_capacity})


def warm_capacity(site: Site) -> dict[str, Any]:
    """What the DR site keeps running to take the core service when both others are lost."""
    hosts = site_hosts(site)
    workers = [h for h in hosts if HostRole.k8s_worker in h.roles]
    return {
        "workers": len(workers),
        "vcpus": sum(h.flavor.vcpus for h in workers),
        "memoryGb": sum(h.flavor.memory_gb for h in workers),
        "apps": {str(a.name): a.replicas for a in site.apps},
    }
