"""The command line: exit codes, JSON, and refusals that leave nothing behind."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from courtcloud.cli import cli
from courtcloud.lab.state import lab_lock, state_dir


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("COURTCLOUD_STATE_DIR", str(tmp_path / "state"))
    return CliRunner()


def test_model_show_json_totals(runner, project):
    result = runner.invoke(cli, ["model", "show", "--json", "--project-dir", str(project)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["capacity"]["figures"]["vms"] == {"stacks": 346, "white_paper": 346}
    assert [s["name"] for s in data["sites"]] == ["dr-miyun", "primary", "standby"]


def test_model_show_table(runner, project):
    result = runner.invoke(cli, ["model", "show", "--estate", "lab", "--project-dir",
                                 str(project)])
    assert result.exit_code == 0
    assert "estate 'lab'" in result.output and "dr-miyun" in result.output


def test_model_validate_good_and_bad(runner, edit_stack, project_copy):
    good = runner.invoke(cli, ["model", "validate", str(project_copy / "Pulumi.lab.yaml")])
    assert good.exit_code == 0 and "valid" in good.output
    bad = edit_stack("Pulumi.primary.yaml",
                     lambda c: c["courtcloud:sites"][0]["apps"][0].update(replicas=1))
    result = runner.invoke(cli, ["model", "validate", "--json", str(bad)])
    assert result.exit_code == 2
    problems = json.loads(result.output)["problems"]
    assert problems[0]["field"] == "courtcloud:sites[0].apps[0].replicas"
    assert problems[0]["file"] == "Pulumi.primary.yaml" and problems[0]["line"]


def test_model_validate_missing_file(runner, tmp_path):
    result = runner.invoke(cli, ["model", "validate", str(tmp_path / "Pulumi.gone.yaml")])
    assert result.exit_code == 2
    assert "cannot be read" in result.output


def test_lab_up_refuses_while_another_run_holds_the_lab(runner, project):
    with lab_lock(state_dir("lab")):
        result = runner.invoke(cli, ["lab", "up", "--no-host-setup", "--project-dir",
                                     str(project)])
    assert result.exit_code == 3
    assert f"another courtcloud lab run (pid {os.getpid()})" in result.output


def test_lab_up_with_a_broken_stack_creates_nothing(runner, edit_stack, project_copy, tmp_path):
    edit_stack("Pulumi.lab.yaml", lambda c: c["courtcloud:sites"][0]["zones"][0].update(
        cidr="172.30.1.0/24"))  # now overlaps the app zone
    result = runner.invoke(cli, ["lab", "up", "--project-dir", str(project_copy)])
    assert result.exit_code == 2
    assert "overlaps" in result.output
    assert not (tmp_path / "state").exists()


def test_lab_up_without_podman_says_how_to_get_it(runner, project, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = runner.invoke(cli, ["lab", "up", "--no-host-setup", "--project-dir", str(project)],
                           env={"PATH": str(empty)})
    assert result.exit_code == 1
    assert "podman is not installed" in result.output and "apt-get install podman" in result.output
