"""The site model's types: what a court's estate is made of.

The model is read from Pulumi stack files (keys `courtcloud:*`), so field names are the
camelCase that Pulumi config uses; in Python they are snake_case. Field-level checks live
here; checks that need the whole estate (references, overlaps, levels) are in `rules.py`.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from .levels import LEVELS

Name = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$", description="lower-case letters, digits, '-'"),
]


class ModelPart(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class SiteRole(StrEnum):
    primary = "primary"  # carries the core service
    standby = "standby"  # carries the core service too, and takes over from the primary
    dr = "dr"  # the disaster-recovery and backup centre (Miyun)


class ZoneKind(StrEnum):
    edge = "edge"  # the DMZ behind the CDN/WAF tier: published names only
    app = "app"  # Kubernetes and the service systems' VMs
    data = "data"  # databases, caches, etcd
    management = "management"  # bastions, logging, time, monitoring
    storage = "storage"  # Ceph
    exchange_internet = "exchange-internet"  # the data-exchange gateway's internet side
    exchange_intranet = "exchange-intranet"  # its court-intranet side
    backup = "backup"  # the DR site's vault
    interconnect = "interconnect"  # the site's end of the cross-site link (routers only)


class HostRole(StrEnum):
    bastion = "bastion"
    edge = "edge"
    exchange_gateway = "exchange-gateway"
    k8s_control = "k8s-control"
    k8s_worker = "k8s-worker"
    service_vm = "service-vm"
    database = "database"
    etcd = "etcd"
    cache = "cache"
    ceph_mon = "ceph-mon"
    ceph_osd = "ceph-osd"
    ceph_rgw = "ceph-rgw"
    log_host = "log-host"
    time_source = "time-source"
    monitoring = "monitoring"
    backup_vault = "backup-vault"


# Roles whose loss of a single host must not stop the service (8.1.4.9 hot redundancy):
# the level's `min_redundant_hosts` applies to every pool carrying one of them.
REDUNDANT_ROLES = frozenset(
    {
        HostRole.edge,
        HostRole.k8s_control,
        HostRole.k8s_worker,
        HostRole.database,
        HostRole.etcd,
        HostRole.ceph_mon,
        HostRole.ceph_osd,
    }
)


class AppName(StrEnum):
    litigation = "litigation"
    chain = "chain"
    ocr = "ocr"
    asr = "asr"
    exchange = "exchange"


class Court(ModelPart):
    name: str = Field(min_length=1)
    code: Name
    domain: str = Field(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", description="DNS suffix of hosts")


class Zone(ModelPart):
    name: Name
    kind: ZoneKind
    cidr: ipaddress.IPv4Network
    description: str = ""

    @field_validator("cidr", mode="before")
    @classmethod
    def _strict_cidr(cls, value: object) -> object:
        # A CIDR with host bits set (10.0.0.5/24) is almost always a typo; say so.
        if isinstance(value, str):
            try:
                ipaddress.IPv4Network(value, strict=True)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a network address ({exc})") from None
        return value


class Flavor(ModelPart):
    vcpus: int = Field(ge=1, le=256)
    memory_gb: int = Field(ge=1, le=4096)
    disk_gb: int = Field(ge=10, le=16384)


class ComputePool(ModelPart):
    name: Name
    roles: list[HostRole] = Field(min_length=1)
    zones: list[Name] = Field(min_length=1, description="the first is the hosts' home zone")
    flavor: Flavor
    count: int = Field(ge=1, le=500)
    address_block: int | None = Field(
        None, ge=1, le=1000,
        description="addresses kept for the pool in each of its zones (default: count); a "
                    "pool that will grow keeps room, so that its growth renumbers no later pool")

    @property
    def home_zone(self) -> str:
        return self.zones[0]

    @property
    def addresses_kept(self) -> int:
        return max(self.count, self.address_block or 0)


class StorageKind(StrEnum):
    block = "block"  # RBD volumes for VMs and Kubernetes
    object = "object"  # RGW buckets (evidence, files)
    backup = "backup"  # the DR vault: backups and replicas from the other sites


class StoragePool(ModelPart):
    name: Name
    kind: StorageKind
    capacity_tb: float = Field(gt=0, description="usable capacity in TB")
    copies: int = Field(ge=1, le=5, description="replicas Ceph keeps of each object")
    zone: Name
    encrypted: bool = True


class KubernetesCluster(ModelPart):
    name: Name
    version: str = Field(pattern=r"^1\.\d+$")
    control_plane_pool: Name
    worker_pool: Name


class AppPlacement(ModelPart):
    name: AppName
    cluster: Name
    replicas: int = Field(ge=1, le=100)
    core: bool = Field(True, description="core apps must meet the level's replica minimum")


def _port_range(value: object) -> tuple[int, int]:
    """A port (443) or an inclusive range ("6800-7300")."""
    if isinstance(value, bool):
        raise ValueError("a port is a number or a range such as 6800-7300")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str) and re.fullmatch(r"\d+-\d+", value):
        low, high = (int(x) for x in value.split("-"))
    else:
        raise ValueError(f"{value!r} is not a port or a range such as 6800-7300")
    if not 1 <= low <= high <= 65535:
        raise ValueError(f"{value!r} is outside 1-65535 or runs backwards")
    return low, high


PortRange = Annotated[tuple[int, int], BeforeValidator(_port_range)]


class Flow(ModelPart):
    """An allowed connection: point to point, port by port (8.1.3.2)."""

    name: Name
    source: str = Field(description="a pool, a zone, <site>/<pool or zone>, or 'internet'")
    destination: Name = Field(description="a pool, or a zone meaning every pool homed there")
    protocol: Literal["tcp", "udp"] = "tcp"
    ports: list[PortRange] = Field(min_length=1)


class DatabaseReplication(ModelPart):
    mode: Literal["synchronous", "asynchronous"]
    peer_site: Name


class Replication(ModelPart):
    database: DatabaseReplication | None = None
    objects_peer_site: Name | None = None


class Backup(ModelPart):
    target_site: Name
    schedule: str = Field(
        pattern=r"^\S+ \S+ \S+ \S+ \S+$", description="cron expression, five fields"
    )
    retention_days: int = Field(ge=1, le=3650)
    rpo_minutes: int = Field(ge=0)
    rto_minutes: int = Field(ge=1)


class Site(ModelPart):
    name: Name
    role: SiteRole
    location: str = Field(min_length=1)
    zones: list[Zone] = Field(min_length=1)
    compute_pools: list[ComputePool] = Field(default_factory=list)
    storage_pools: list[StoragePool] = Field(default_factory=list)
    kubernetes: list[KubernetesCluster] = Field(default_factory=list)
    apps: list[AppPlacement] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)
    replication: Replication | None = None
    backup: Backup | None = None
    log_retention_days: int = Field(180, ge=1)

    def zone(self, name: str) -> Zone:
        return next(z for z in self.zones if z.name == name)

    def pool(self, name: str) -> ComputePool:
        return next(p for p in self.compute_pools if p.name == name)

    def pools_with(self, role: HostRole) -> list[ComputePool]:
        return [p for p in self.compute_pools if role in p.roles]


class LabSettings(ModelPart):
    """Only for a lab estate: what the lab needs beyond the court's sites."""

    bench_cidr: ipaddress.IPv4Network = Field(
        description="a network for role tests (molecule): the package proxy only, no routes")


class Estate(ModelPart):
    """Everything one court runs: its sites, at one security level."""

    name: Name
    court: Court
    security_level: int
    sites: list[Site]
    lab: LabSettings | None = None

    @field_validator("security_level")
    @classmethod
    def _known_level(cls, value: int) -> int:
        if value not in LEVELS:
            raise ValueError(f"security level must be one of {sorted(LEVELS)}")
        return value

    def site(self, name: str) -> Site:
        return next(s for s in self.sites if s.name == name)
