"""PostgreSQL HA on the lab: the playbook converges the database, etcd and vault hosts of
the three sites, a row written on the primary site's leader reaches the standby site's
standby leader, the vault holds a backup, and a second run changes nothing."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .conftest import ANSIBLE_PLAYBOOK, container_of, host_run, psql, recap, run_playbook

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible is not installed")]

PATRONICTL = ("patronictl", "-c", "/etc/patroni/config.yml")


def members(lab_plan_, site: str) -> list[dict]:
    probe = container_of(lab_plan_, f"{site}-database-1")
    proc = host_run(probe, *PATRONICTL, "list", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def converged(lab_up, project):
    proc = run_playbook(project, lab_up["inventory"], "postgresql.yml", timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc


def test_the_primary_site_has_a_leader_and_a_sync_standby(converged, lab_plan_):
    roles = sorted(m["Role"] for m in members(lab_plan_, "primary"))
    assert roles.count("Leader") == 1 and "Sync Standby" in roles, roles


def test_a_write_on_the_primary_leader_reaches_the_standby_sites_standby_leader(
        converged, lab_plan_):
    leader = next(m["Member"] for m in members(lab_plan_, "primary") if m["Role"] == "Leader")
    standby = next(m["Member"] for m in members(lab_plan_, "standby")
                   if m["Role"] == "Standby Leader")
    token = str(uuid.uuid4())
    psql(lab_plan_, leader, "create table if not exists lab_probe (token text primary key)")
    psql(lab_plan_, leader, f"insert into lab_probe values ('{token}')")
    seen = ""
    for _ in range(60):
        proc = host_run(container_of(lab_plan_, standby), "runuser", "-u", "postgres", "--",
                        "psql", "-XAtq", "-c",
                        f"select token from lab_probe where token = '{token}'")
        seen = proc.stdout.strip()
        if seen:
            break
        time.sleep(0.5)
    assert seen == token
    assert psql(lab_plan_, standby, "select pg_is_in_recovery()") == "t"


def test_the_vault_holds_a_backup_of_the_primary_site(converged, lab_plan_):
    proc = host_run(container_of(lab_plan_, "dr-miyun-vault-1"), "runuser", "-u", "pgbackrest",
                    "--", "pgbackrest", "--output=json", "info")
    assert proc.returncode == 0, proc.stderr
    stanza = json.loads(proc.stdout)[0]
    assert stanza["status"]["code"] == 0, stanza["status"]
    assert stanza["backup"] and stanza["archive"][0]["max"]


def test_a_second_run_changes_nothing(converged, lab_up, project):
    proc = run_playbook(project, lab_up["inventory"], "postgresql.yml", timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:]
    counts = recap(proc.stdout)
    assert counts and all(c["changed"] == 0 for c in counts.values()), counts
