"""Totals of an estate, and how they compare with the white paper's capacity."""

from __future__ import annotations

from typing import Any

from .addressing import site_hosts
from .reference import WHITE_PAPER_CAPACITY
from .schema import Estate, Site, StorageKind


def site_totals(site: Site) -> dict[str, Any]:
    hosts = site_hosts(site)
    return {
        "name": site.name,
        "role": str(site.role),
        "zones": [z.name for z in site.zones],
        "pools": {p.name: p.count for p in site.compute_pools},
        "vms": len(hosts),
        "vcpus": sum(h.flavor.vcpus for h in hosts),
        "memory_gb": sum(h.flavor.memory_gb for h in hosts),
        "storage_tb": sum(p.capacity_tb for p in site.storage_pools
                          if p.kind is not StorageKind.backup),
        "backup_tb": sum(p.capacity_tb for p in site.storage_pools
                         if p.kind is StorageKind.backup),
        "apps": {str(a.name): a.replicas for a in site.apps},
    }


def capacity(estate: Estate) -> dict[str, Any]:
    sites = [site_totals(s) for s in estate.sites]
    stacks = {
        "vms": sum(s["vms"] for s in sites),
        "memory_tb": sum(s["memory_gb"] for s in sites) / 1024,
        "storage_tb": sum(s["storage_tb"] for s in sites),
        "dr_backup_tb": sum(s["backup_tb"] for s in sites),
    }
    return {
        "reference": "Beijing Internet Court white paper (2019), appendix X",
        "figures": {k: {"stacks": round(v, 3), "white_paper": WHITE_PAPER_CAPACITY[k]}
                    for k, v in stacks.items()},
    }


def estate_summary(estate: Estate) -> dict[str, Any]:
    return {
        "estate": estate.name,
        "court": estate.court.name,
        "security_level": estate.security_level,
        "sites": [site_totals(s) for s in estate.sites],
        "capacity": capacity(estate),
    }
