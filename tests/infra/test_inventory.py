"""`courtcloud inventory` against recorded OpenStack API responses (requests-mock, as
openstacksdk's own tests do). Any request without a recording fails: no connection is
ever opened, and the addresses are the model's (data, never a target)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests_mock
import yaml
from click.testing import CliRunner

from courtcloud.cli import cli

PROJECT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).resolve().parent / "fixtures" / "openstack"
IDENTITY = "https://identity.court.invalid"
COMPUTE = "https://compute.court.invalid"


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


@pytest.fixture
def clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    config = {"clouds": {"court-dr": {
        "auth": {"auth_url": f"{IDENTITY}/v3", "username": "court-ops",
                 "password": "recorded-fixture-only", "project_name": "bjinternet-dr-miyun",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "identity_api_version": 3}}}
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for key in ("OS_CLOUD", "OS_AUTH_URL", "OS_PASSWORD", "OS_USERNAME"):
        monkeypatch.delenv(key, raising=False)
    return "court-dr"


@pytest.fixture
def openstack_api():
    with requests_mock.Mocker(real_http=False) as api:
        api.get(re.compile(rf"^{IDENTITY}/v3/?$"), json=recorded("identity-versions.json"))
        api.post(f"{IDENTITY}/v3/auth/tokens", json=recorded("token.json"), status_code=201,
                 headers={"X-Subject-Token": "recorded-token"})
        api.get(re.compile(rf"^{COMPUTE}/v2\.1/?$"), json=recorded("compute-version.json"))
        api.get(re.compile(rf"^{COMPUTE}/v2\.1/servers/detail"),
                json=recorded("servers-detail.json"))
        yield api


def test_inventory_reads_servers_back_and_matches_them_to_the_model(
        clouds, openstack_api, tmp_path):
    out = tmp_path / "miyun.yml"
    result = CliRunner().invoke(cli, ["inventory", "--cloud", clouds, "--stack", "miyun",
                                      "--project-dir", str(PROJECT), "--out", str(out)])
    # 29 of the site's 32 hosts are not there yet, and one server is not in the model
    assert result.exit_code == 1, result.output
    assert "3 host(s) of stack 'miyun'" in result.output
    assert "29 missing from the cloud" in result.output
    assert "not in the model: dr-miyun-bastion-9" in result.output
    inventory = yaml.safe_load(out.read_text())
    hosts = inventory["all"]["hosts"]
    assert set(hosts) == {"dr-miyun-bastion-1", "dr-miyun-bastion-2", "dr-miyun-ceph-rgw-1"}
    assert hosts["dr-miyun-ceph-rgw-1"]["ansible_host"] == "10.30.12.23"
    assert hosts["dr-miyun-ceph-rgw-1"]["courtcloud_roles"] == ["ceph-rgw"]
    groups = inventory["all"]["children"]
    assert set(groups["role_bastion"]["hosts"]) == {"dr-miyun-bastion-1", "dr-miyun-bastion-2"}
    methods = [(r.method, r.url.split("?")[0]) for r in openstack_api.request_history]
    assert ("GET", f"{COMPUTE}/v2.1/servers/detail") in methods
    assert all(url.startswith((IDENTITY, COMPUTE)) for _, url in methods)


def test_read_back_matches_by_metadata_and_home_zone_address(production_estate):
    from types import SimpleNamespace

    from courtcloud.commands.inventory import read_back

    servers = [SimpleNamespace(**{k: v for k, v in s.items() if k in {
        "name", "metadata", "addresses"}}) for s in recorded("servers-detail.json")["servers"]]
    back = read_back(servers, production_estate, ["dr-miyun"])
    assert back.found == {"dr-miyun-bastion-1": "10.30.8.10", "dr-miyun-bastion-2": "10.30.8.11",
                          "dr-miyun-ceph-rgw-1": "10.30.12.23"}
    assert back.unexpected == ["dr-miyun-bastion-9"]
    assert len(back.missing) == 29


def test_an_unknown_cloud_is_bad_input(clouds):
    result = CliRunner().invoke(cli, ["inventory", "--cloud", "nowhere", "--stack", "miyun",
                                      "--project-dir", str(PROJECT), "--out", "/dev/null"])
    assert result.exit_code == 2
    assert "--cloud nowhere" in result.output
