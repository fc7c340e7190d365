"""The cluster as it runs: Patroni's view, PostgreSQL's own replication rows, a row written on
the leader read back on the replica, etcd over mutual TLS, and pgBackRest's repository on the
vault holding a backup and archived WAL."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import testinfra

MEMBERS = ("mol-pg-1", "mol-pg-2")
VAULT = "mol-pg-3"
PATRONICTL = "patronictl -c /etc/patroni/config.yml"


def member(name: str):
    return testinfra.get_host(f"podman://{name}")


def psql(host, sql: str) -> str:
    return host.check_output(f"runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c {sql!r}")


@pytest.fixture(scope="module")
def cluster() -> list[dict]:
    return json.loads(member(MEMBERS[0]).check_output(f"{PATRONICTL} list -f json"))


@pytest.fixture(scope="module")
def leader(cluster):
    return member(next(m["Member"] for m in cluster if m["Role"] == "Leader"))


@pytest.fixture(scope="module")
def replica(cluster):
    return member(next(m["Member"] for m in cluster if m["Role"] != "Leader"))


def test_patronictl_lists_a_leader_and_a_sync_standby(cluster):
    roles = sorted(m["Role"] for m in cluster)
    assert roles == ["Leader", "Sync Standby"], cluster
    assert all(m["State"] in ("running", "streaming") for m in cluster), cluster


def test_the_leader_streams_to_a_sync_standby_over_tls(leader, replica):
    rows = psql(leader, "select r.application_name, r.sync_state, s.ssl, s.version "
                        "from pg_stat_replication r join pg_stat_ssl s using (pid)")
    name, sync_state, ssl, version = rows.splitlines()[0].split("|")
    assert name == replica.check_output("hostname")
    assert sync_state == "sync"
    assert ssl == "t" and version in ("TLSv1.2", "TLSv1.3")


def test_a_write_on_the_leader_is_visible_on_the_replica(leader, replica):
    token = str(uuid.uuid4())
    psql(leader, "create table if not exists molecule_probe (token text primary key)")
    psql(leader, f"insert into molecule_probe values ('{token}')")
    seen = ""
    for _ in range(20):
        seen = psql(replica, f"select token from molecule_probe where token = '{token}'")
        if seen:
            break
        time.sleep(0.5)
    assert seen == token
    assert psql(replica, "select pg_is_in_recovery()") == "t"


def test_the_server_refuses_connections_without_tls(leader, replica):
    address = leader.check_output("hostname -I").split()[0]
    plain = replica.run(f"psql 'host={address} dbname=postgres user=replicator "
                        "sslmode=disable' -c 'select 1'")
    assert plain.rc != 0
    assert "no encryption" in plain.stderr


def test_etcd_members_are_healthy_and_demand_client_certificates():
    host = member(MEMBERS[0])
    endpoints = ",".join(f"https://{member(m).check_output('hostname -I').split()[0]}:2379"
                         for m in MEMBERS)
    tls = "--cacert=/etc/courtcloud/pki/ca.crt --cert=/etc/courtcloud/pki/host.crt " \
          "--key=/etc/courtcloud/pki/host.key"
    health = host.run(f"ETCDCTL_API=3 etcdctl --endpoints={endpoints} {tls} endpoint health")
    assert health.rc == 0, health.stderr
    assert health.stderr.count("is healthy") + health.stdout.count("is healthy") == len(MEMBERS)
    anonymous = host.run(f"ETCDCTL_API=3 etcdctl --endpoints={endpoints} "
                         "--cacert=/etc/courtcloud/pki/ca.crt endpoint health")
    assert anonymous.rc != 0


def test_the_vault_holds_a_backup_and_archived_wal():
    vault = member(VAULT)
    check = vault.run("runuser -u pgbackrest -- pgbackrest --stanza=court check")
    assert check.rc == 0, check.stderr
    info = json.loads(vault.check_output("runuser -u pgbackrest -- pgbackrest --output=json info"))
    stanza = next(s for s in info if s["name"] == "court")
    assert stanza["status"]["code"] == 0, stanza["status"]
    assert stanza["cipher"] == "aes-256-cbc"
    assert any(b["type"] == "full" for b in stanza["backup"])
    assert stanza["archive"][0]["max"] >= stanza["archive"][0]["min"]


def test_backups_are_scheduled_on_the_vault():
    vault = member(VAULT)
    for timer in ("courtcloud-pgbackrest-full.timer", "courtcloud-pgbackrest-diff.timer"):
        assert vault.service(timer).is_enabled
        assert vault.service(timer).is_running


def test_files_holding_secrets_are_closed_to_others():
    patroni = member(MEMBERS[0]).file("/etc/patroni/config.yml")
    assert (patroni.user, patroni.group, patroni.mode) == ("root", "postgres", 0o640)
    repo_conf = member(VAULT).file("/etc/pgbackrest.conf")
    assert (repo_conf.user, repo_conf.group, repo_conf.mode) == ("root", "pgbackrest", 0o640)
    assert repo_conf.contains("repo1-cipher-pass=")
    assert not member(MEMBERS[0]).file("/etc/pgbackrest.conf").contains("cipher-pass")
