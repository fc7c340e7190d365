"""The inventory carries each site's storage pools and object-copy peer, for the ceph role."""

from __future__ import annotations

import pytest

from courtcloud.inventory import build_inventory
from courtcloud.model import load_project_estate


@pytest.fixture(scope="module")
def site_vars(project):
    children = build_inventory(load_project_estate(project, "lab"))["all"]["children"]
    return {name: group["vars"] for name, group in children.items() if "vars" in group}


def test_site_groups_carry_the_models_storage_pools(site_vars):
    pools = {p["name"]: p for p in site_vars["site_primary"]["courtcloud_storage_pools"]}
    assert pools["volumes"] == {"name": "volumes", "kind": "block", "copies": 2,
                                "capacity_tb": 0.01, "zone": "storage", "encrypted": True}
    assert pools["evidence"]["kind"] == "object"
    vault = site_vars["site_dr_miyun"]["courtcloud_storage_pools"]
    assert [(p["name"], p["kind"], p["copies"]) for p in vault] == [("vault", "backup", 1)]


def test_site_groups_name_the_site_that_keeps_their_object_copies(site_vars):
    assert site_vars["site_primary"]["courtcloud_objects_peer_site"] == "dr-miyun"
    assert site_vars["site_standby"]["courtcloud_objects_peer_site"] == "dr-miyun"
    assert site_vars["site_dr_miyun"]["courtcloud_objects_peer_site"] is None
