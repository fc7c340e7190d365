"""Ceph on the lab: the playbook converges the ceph hosts of the primary and standby sites and
the Miyun vault; each site's cluster is healthy with its OSDs up and in; an object written to
the primary site's gateway over S3 (TLS from the site CA) reads back, is locked against
deletion, reaches the Miyun vault's gateway through the copy job; a second run changes nothing."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import pytest

from .conftest import ANSIBLE_PLAYBOOK, host_run, recap, run_playbook

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible is not installed")]

LAB_STATE = Path("/var/lib/courtcloud/lab")
RGW_PORT = 7480




def container(lab_plan_, hostname: str) -> str:
    return next(h.container for h in lab_plan_.hosts if h.hostname == hostname)


def address(lab_plan_, hostname: str) -> str:
    host = next(h for h in lab_plan_.hosts if h.hostname == hostname)
    return str(host.address)


def ceph_json(lab_plan_, hostname: str, *args: str):
    proc = host_run(container(lab_plan_, hostname), "ceph", *args, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def secret(site: str, name: str) -> str:
    # ansible's password lookup files: the value, then optional " salt=..." (none here).
    return (LAB_STATE / "secrets" / "ceph" / site / name).read_text().split()[0]


def s3(lab_plan_, hostname: str, site: str, key_prefix: str):
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=f"https://{address(lab_plan_, hostname)}:{RGW_PORT}",
        aws_access_key_id=secret(site, f"{key_prefix}-access-key"),
        aws_secret_access_key=secret(site, f"{key_prefix}-secret-key"),
        verify=str(LAB_STATE / "pki" / site / "ca.crt"), region_name="default",
        config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="module")
def converged(lab_up, project):
    started = time.monotonic()
    proc = run_playbook(project, lab_up["inventory"], "ceph.yml")
    sys.stderr.write(f"ceph playbook: {time.monotonic() - started:.0f} s\n")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return proc


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
    client = s3(lab_plan_, "primary-ceph-1", "primary", "evidence")
    key, body = f"lab-probe/{uuid.uuid4()}", uuid.uuid4().bytes * 64
    version = client.put_object(Bucket="evidence", Key=key, Body=body)["VersionId"]
    # Read back through the other gateway of the site: one cluster behind both.
    other = s3(lab_plan_, "primary-ceph-2", "primary", "evidence")
    assert other.get_object(Bucket="evidence", Key=key)["Body"].read() == body
    assert client.get_bucket_versioning(Bucket="evidence")["Status"] == "Enabled"
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as refused:
        client.delete_object(Bucket="evidence", Key=key, VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_the_evidence_reaches_the_miyun_vault(converged, lab_plan_):
    client = s3(lab_plan_, "primary-ceph-1", "primary", "evidence")
    key, body = f"lab-probe/copy-{uuid.uuid4()}", uuid.uuid4().bytes * 16
    client.put_object(Bucket="evidence", Key=key, Body=body)
    proc = host_run(container(lab_plan_, "primary-ceph-1"), "systemctl", "start",
                    "courtcloud-evidence-copy.service", timeout=300)
    assert proc.returncode == 0, proc.stderr
    vault = s3(lab_plan_, "dr-miyun-vault-1", "dr-miyun", "copy-primary")
    assert vault.get_object(Bucket="evidence-primary", Key=key)["Body"].read() == body
    lock = vault.get_object_lock_configuration(Bucket="evidence-primary")
    assert lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"


def test_a_second_run_changes_nothing(converged, lab_up, project):
    proc = run_playbook(project, lab_up["inventory"], "ceph.yml")
    assert proc.returncode == 0, proc.stdout[-4000:]
    counts = recap(proc.stdout)
    assert counts and all(c["changed"] == 0 for c in counts.values()), counts
