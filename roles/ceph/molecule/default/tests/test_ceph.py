"""The cluster as it runs: Ceph's own health and OSD map, the RBD pool at the model's size,
an S3 round trip over TLS on the gateway, versioning, Object Lock refusing to delete a locked
version, and the copy job putting the object on the copy site's gateway."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import testinfra

SITE, VAULT = "mol-ceph-1", "mol-ceph-2"


def host(name: str):
    return testinfra.get_host(f"podman://{name}")


def ceph_json(name: str, *args: str):
    return json.loads(host(name).check_output("ceph " + " ".join(args) + " -f json"))


@pytest.mark.parametrize("name", [SITE, VAULT])
def test_the_cluster_is_healthy_with_every_osd_up_and_in(name):
    status = {}
    for _ in range(60):
        status = ceph_json(name, "health")
        if status["status"] == "HEALTH_OK":
            break
        time.sleep(2)
    assert status["status"] == "HEALTH_OK", status
    osds = ceph_json(name, "osd", "dump")["osds"]
    assert osds and all(o["up"] == 1 and o["in"] == 1 for o in osds), osds


def test_the_site_has_two_osds_for_the_models_two_copies():
    assert len(ceph_json(SITE, "osd", "dump")["osds"]) == 2


def test_the_rbd_pool_has_the_models_size():
    pools = {p["pool_name"]: p for p in ceph_json(SITE, "osd", "pool", "ls", "detail")}
    assert pools["volumes"]["size"] == 2
    assert "rbd" in pools["volumes"]["application_metadata"]
    assert pools["default.rgw.buckets.data"]["size"] == 2
    vault_pools = {p["pool_name"]: p for p in ceph_json(VAULT, "osd", "pool", "ls", "detail")}
    assert vault_pools["default.rgw.buckets.data"]["size"] == 1


def test_managers_run_dashboard_and_prometheus_without_restful():
    modules = ceph_json(SITE, "mgr", "module", "ls")
    assert {"dashboard", "prometheus"} <= set(modules["enabled_modules"])
    assert "restful" not in modules["enabled_modules"]
    services = ceph_json(SITE, "mgr", "services")
    assert services["dashboard"].startswith("https://") and "prometheus" in services


def s3(name: str, script: str) -> dict:
    """Run a boto3 script inside the instance (Debian's python3-boto3) with the copy job's
    keys: `site` the local evidence user, `copy` the vault's user. Prints JSON."""
    conf = "/etc/ceph/courtcloud-evidence-copy.conf"
    prelude = f'''
import configparser, json, boto3
from botocore.config import Config
from botocore.exceptions import ClientError
conf = configparser.ConfigParser(); conf.read("{conf}")
def client(section):
    s = conf[section]
    return boto3.client("s3", endpoint_url=s["endpoint"], aws_access_key_id=s["access_key_id"],
        aws_secret_access_key=s["secret_access_key"], verify="/etc/ceph/courtcloud-copy-ca.crt",
        region_name="default", config=Config(s3={{"addressing_style": "path"}}))
'''
    out = host(name).check_output("python3 -c %s", prelude + script)
    return json.loads(out)


def test_an_object_round_trips_and_a_locked_version_cannot_be_deleted():
    key = f"probe/{uuid.uuid4()}"
    result = s3(SITE, f'''
site = client("site")
v = site.put_object(Bucket="evidence", Key="{key}", Body=b"filing-1")["VersionId"]
body = site.get_object(Bucket="evidence", Key="{key}")["Body"].read().decode()
versioning = site.get_bucket_versioning(Bucket="evidence").get("Status")
retention = site.get_object_retention(
    Bucket="evidence", Key="{key}", VersionId=v)["Retention"]["Mode"]
try:
    site.delete_object(Bucket="evidence", Key="{key}", VersionId=v)
    refused = None
except ClientError as e:
    refused = e.response["Error"]["Code"]
print(json.dumps(dict(body=body, versioning=versioning, retention=retention, refused=refused)))
''')
    assert result == {"body": "filing-1", "versioning": "Enabled", "retention": "COMPLIANCE",
                      "refused": "AccessDenied"}


def test_the_copy_job_puts_the_evidence_on_the_copy_sites_gateway():
    key = f"probe/copy-{uuid.uuid4()}"
    s3(SITE, f'''
client("site").put_object(Bucket="evidence", Key="{key}", Body=b"filing-2")
print("{{}}")
''')
    host(SITE).check_output("systemctl start courtcloud-evidence-copy.service")
    result = s3(SITE, f'''
copy = client("copy")
body = copy.get_object(Bucket="evidence-bench", Key="{key}")["Body"].read().decode()
lock = copy.get_object_lock_configuration(Bucket="evidence-bench")["ObjectLockConfiguration"]
mode = lock["Rule"]["DefaultRetention"]["Mode"]
print(json.dumps(dict(body=body, mode=mode)))
''')
    assert result == {"body": "filing-2", "mode": "COMPLIANCE"}
