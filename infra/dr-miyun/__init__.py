"""The Miyun disaster-recovery site: backup vault, replication peers, DNS failover, warm
capacity. Imported as `infra.dr_miyun` (see `infra/__init__.py`)."""

from .recovery import (
    BackupPlan,
    DisasterRecoverySite,
    RecoveryArgs,
    ReplicationPeers,
    replication_settings,
    senders,
    warm_capacity,
)

__all__ = ["BackupPlan", "DisasterRecoverySite", "RecoveryArgs", "ReplicationPeers",
           "replication_settings", "senders", "warm_capacity"]
