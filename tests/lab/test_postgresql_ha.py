"""PostgreSQL HA on the lab: the playbook converges the database, etcd and vault hosts of
the three sites, a row written on the primary site's leader reaches the standby site's
standby leader, the vault holds a backup, and a second run changes nothing."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from .conftest import (
    ANSIBLE_PLAYBOOK,
    assert_a_second_run_changes_nothing,
    container_of,
    converge,
    host_run,
    member_in_role,
    patroni_members,
    psql,
    written_row_is_read,
)

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible is not installed")]


@pytest.fixture(scope="module")
def converged(lab_up, project):
    return converge(project, lab_up["inventory"], "postgresql.yml", timeout=1800)


def test_the_primary_site_has_a_leader_and_a_sync_standby(converged, lab_plan_):
    roles = sorted(m["Role"] for m in patroni_members(lab_plan_, "primary"))
    assert roles.count("Leader") == 1 and "Sync Standby" in roles, roles


def test_a_write_on_the_primary_leader_reaches_the_standby_sites_standby_leader(
        converged, lab_plan_):
    leader = member_in_role(lab_plan_, "primary", "Leader")
    standby = member_in_role(lab_plan_, "standby", "Standby Leader")
    assert written_row_is_read(lab_plan_, leader, standby, "lab_probe")
    assert psql(lab_plan_, standby, "select pg_is_in_recovery()") == "t"


def test_the_vault_holds_a_backup_of_the_primary_site(converged, lab_plan_):
    proc = host_run(container_of(lab_plan_, "dr-miyun-vault-1"), "runuser", "-u", "pgbackrest",
                    "--", "pgbackrest", "--output=json", "info")
    assert proc.returncode == 0, proc.stderr
    stanza = json.loads(proc.stdout)[0]
    assert stanza["status"]["code"] == 0, stanza["status"]
    assert stanza["backup"] and stanza["archive"][0]["max"]


def test_a_killed_leader_restarted_rejoins_its_cluster_by_itself(converged, lab_plan_):
    """The leader's host is killed; the sync standby takes over; the old leader's host is
    started again with no `lab up`: its own boot restores its routes (to the Miyun vault
    for WAL archiving among them) and Patroni rewinds it into a replica."""
    old = member_in_role(lab_plan_, "primary", "Leader")
    container = container_of(lab_plan_, old)
    # Ask a member that stays up (the killed one may be database-1, the default).
    survivor = next(m["Member"] for m in patroni_members(lab_plan_, "primary")
                    if m["Member"] != old)
    subprocess.run(["podman", "kill", container], check=True, capture_output=True, timeout=60)
    try:
        new = None
        for _ in range(120):
            try:
                new = member_in_role(lab_plan_, "primary", "Leader", via=survivor)
            except (AssertionError, StopIteration):
                new = None  # no leader yet
            if new and new != old:
                break
            time.sleep(0.5)
        assert new and new != old, "no new leader within 60 s"
    finally:
        subprocess.run(["podman", "start", container], check=True, capture_output=True,
                       timeout=120)
    state: dict = {}
    for _ in range(240):
        try:
            state = next((m for m in patroni_members(lab_plan_, "primary", via=survivor)
                          if m["Member"] == old), {})
        except AssertionError:
            state = {}
        if state.get("State") in ("streaming", "running") and state.get("Role") != "Leader":
            break
        time.sleep(0.5)
    assert state.get("State") in ("streaming", "running"), state
    assert written_row_is_read(lab_plan_, new, old, "lab_probe")


def test_a_second_run_changes_nothing(converged, lab_up, project):
    assert_a_second_run_changes_nothing(converged, project, lab_up["inventory"], timeout=1800)
