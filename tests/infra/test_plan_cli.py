"""`courtcloud plan`: the real program under mocks, a table and a JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from courtcloud.cli import cli
from courtcloud.infra.report import plan_report
from courtcloud.infra.verdicts import evaluate, stack_policy_config

PROJECT = Path(__file__).resolve().parents[2]


def test_plan_report_of_the_production_estate(production_runs):
    from infra.policy.rules import POLICIES

    verdicts = {name: evaluate(POLICIES, run.resources, name,
                               stack_policy_config(PROJECT, run, 3))
                for name, run in production_runs.items()}
    report = plan_report(production_runs, verdicts, "production")
    assert report["policies_passed"] is True
    assert {k: v["stacks"] for k, v in report["capacity"].items()} == {
        "vms": 346, "memory_tb": 8, "storage_tb": 189, "dr_backup_tb": 51}
    miyun = report["stacks"]["miyun"]
    assert miyun["by_type_and_zone"]["openstack:compute/instance:Instance"]["vault"] == 3
    assert "edge" not in miyun["rules_by_tier"]  # the DR site publishes nothing
    tiers = report["stacks"]["primary"]["rules_by_tier"]
    assert [(r["group"], r["flow"]) for r in tiers["edge"]] == [
        ("primary-edge-edge", "public-https"), ("primary-edge-edge", "public-https"),
        ("primary-edge-exchange-inet", "exchange-public")]
    assert {r["group"] for r in tiers["edge"]} == {"primary-edge-edge",
                                                   "primary-edge-exchange-inet"}


@pytest.mark.slow
def test_plan_one_stack_writes_the_json_report(tmp_path):
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(cli, ["plan", "--stack", "primary", "--project-dir",
                                      str(PROJECT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "every policy passed" in result.output
    report = json.loads(out.read_text())
    primary = report["stacks"]["primary"]
    assert list(report["stacks"]) == ["primary"]
    assert primary["totals"]["vms"] == 169
    assert primary["by_type_and_zone"]["openstack:compute/instance:Instance"]["data"] == 9
    assert set(primary["rules_by_tier"]) == {"edge", "network", "host"}
    assert all(r["remote"] == "0.0.0.0/0" for r in primary["rules_by_tier"]["edge"])
    assert {p["policy"] for p in primary["policies"]} >= {"encrypted-volumes",
                                                         "core-app-replicas"}
    assert report["capacity"]["vms"] == {"stacks": 169, "white_paper": 346}


def test_plan_without_cloud_settings_is_bad_input(tmp_path):
    result = CliRunner().invoke(cli, ["plan", "--stack", "lab", "--project-dir", str(PROJECT),
                                      "--out", str(tmp_path / "lab.json")])
    assert result.exit_code == 2
    assert "site-cloud:externalNetwork" in result.output
