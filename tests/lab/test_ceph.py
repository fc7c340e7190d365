"""Ceph on the lab: the playbook converges the ceph hosts of the primary and standby sites and
the Miyun vault; each site's cluster is healthy with its OSDs up and in; an object written to
the primary site's gateway over S3 (TLS from the site CA) reads back, is locked against
deletion, reaches the Miyun vault's gateway through the copy job; a second run changes nothing."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from .conftest import (
    ANSIBLE_PLAYBOOK,
    assert_a_second_run_changes_nothing,
    container_of,
    converge,
    host_run,
    s3_call,
)

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible is not installed")]


def ceph_json(lab_plan_, hostname: str, *args: str):
    proc = host_run(container_of(lab_plan_, hostname), "ceph", *args, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def converged(lab_up, project):
    return converge(project, lab_up["inventory"], "ceph.yml")


@pytest.mark.parametrize("site", ["primary", "standby"])
def test_each_site_cluster_is_healthy_with_its_osds_up_and_in(converged, lab_plan_, site):
    probe = f"{site}-ceph-1"
    health = {}
    for _ in range(60):
        health = ceph_json(lab_plan_, probe, "health")
        if health["status"] == "HEALTH_OK":
            break
        time.sleep(2)
    assert health["status"] == "HEALTH_OK", health
    osds = ceph_json(lab_plan_, probe, "osd", "dump")["osds"]
    assert len(osds) >= 2 and all(o["up"] == 1 and o["in"] == 1 for o in osds), osds
    pools = {p["pool_name"]: p for p in ceph_json(lab_plan_, probe, "osd", "pool", "ls", "detail")}
    assert pools["volumes"]["size"] == 2 and "rbd" in pools["volumes"]["application_metadata"]


def test_an_object_written_to_the_primary_gateway_reads_back_and_is_locked(converged, lab_plan_):
    # From the app zone, where the services that write evidence run.
    def call(gateway: str, method: str, stdin: str | None = None, **kwargs):
        return s3_call(lab_plan_, "primary-node-1", gateway, "primary", "evidence", method,
                       stdin=stdin, **kwargs)

    key, body = f"lab-probe/{uuid.uuid4()}", uuid.uuid4().hex * 64
    rc, put = call("primary-ceph-1", "put_object", stdin=body, Bucket="evidence", Key=key)
    assert rc == 0, put
    # Read back through the other gateway of the site: one cluster behind both.
    rc, got = call("primary-ceph-2", "get_object", Bucket="evidence", Key=key)
    assert rc == 0 and bytes.fromhex(got["Body"]).decode() == body
    rc, versioning = call("primary-ceph-1", "get_bucket_versioning", Bucket="evidence")
    assert versioning["Status"] == "Enabled"
    rc, refused = call("primary-ceph-1", "delete_object", Bucket="evidence", Key=key,
                       VersionId=put["VersionId"])
    assert rc == 3 and refused["Error"] == "AccessDenied", refused


def test_the_evidence_reaches_the_miyun_vault(converged, lab_plan_):
    key, body = f"lab-probe/copy-{uuid.uuid4()}", uuid.uuid4().hex * 16
    rc, put = s3_call(lab_plan_, "primary-node-1", "primary-ceph-1", "primary", "evidence",
                      "put_object", stdin=body, Bucket="evidence", Key=key)
    assert rc == 0, put
    proc = host_run(container_of(lab_plan_, "primary-ceph-1"), "systemctl", "start",
                    "courtcloud-evidence-copy.service", timeout=300)
    assert proc.returncode == 0, proc.stderr

    # The vault admits its copies from the primary site's storage zone.
    def vault(method: str, **kwargs):
        return s3_call(lab_plan_, "primary-ceph-1", "dr-miyun-vault-1", "dr-miyun",
                       "copy-primary", method, **kwargs)

    rc, got = vault("get_object", Bucket="evidence-primary", Key=key)
    assert rc == 0 and bytes.fromhex(got["Body"]).decode() == body
    rc, lock = vault("get_object_lock_configuration", Bucket="evidence-primary")
    assert lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"


def test_a_second_run_changes_nothing(converged, lab_up, project):
    assert_a_second_run_changes_nothing(converged, project, lab_up["inventory"])
