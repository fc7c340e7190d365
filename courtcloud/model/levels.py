"""What each graded-protection level (GB/T 22239-2019) demands of the site model.

The standard names the controls, not the numbers; these are the thresholds courtcloud
enforces, kept here once so that the model, the policy pack and the baseline agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LevelRequirements:
    level: int
    # 8.1.4.9 hot redundancy: replicas of every core app.
    min_app_replicas: int
    # 8.1.4.9 / 8.1.2.1: hosts of every role that must survive the loss of one host.
    min_redundant_hosts: int
    # 8.1.4.9: copies Ceph keeps of each object in a data pool.
    min_storage_copies: int
    # 8.1.4.9: real-time off-site backup to a disaster-recovery site.
    offsite_backup_required: bool
    # Cybersecurity Law art. 21: audit and log records kept at least this long.
    min_log_retention_days: int


LEVELS: dict[int, LevelRequirements] = {
    2: LevelRequirements(2, 1, 1, 2, False, 180),
    3: LevelRequirements(3, 2, 2, 2, True, 180),
    4: LevelRequirements(4, 3, 3, 3, True, 180),
}


def requirements(level: int) -> LevelRequirements:
    return LEVELS[level]
