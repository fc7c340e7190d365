"""The capacity the Beijing Internet Court's 2019 white paper reports for its cloud
(appendix X). The production stacks together are sized to it; `courtcloud model show`
compares their totals with these figures."""

from __future__ import annotations

WHITE_PAPER_CAPACITY = {
    "vms": 346,
    "memory_tb": 8,
    "storage_tb": 189,
    "dr_backup_tb": 51,
}
