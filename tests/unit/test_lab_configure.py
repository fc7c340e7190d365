"""`lab configure` remembers a whole successful site run, the next run's baseline for
"changes nothing"; a failed, partial or other playbook's run does not count."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from courtcloud.lab import lab
from courtcloud.model import load_project_estate

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def estate(tmp_path, monkeypatch):
    monkeypatch.setenv("COURTCLOUD_STATE_DIR", str(tmp_path))
    model = load_project_estate(PROJECT, "lab")
    (tmp_path / model.name).mkdir()
    (tmp_path / model.name / "inventory.yml").write_text("all: {}\n")
    return model


def _playbook_exits(monkeypatch, rc: int) -> list[list[str]]:
    ran: list[list[str]] = []

    def run(command, **kwargs):
        ran.append(command)
        return subprocess.CompletedProcess(command, rc)

    monkeypatch.setattr(lab.subprocess, "run", run)
    return ran


@pytest.mark.parametrize(("playbook", "extra", "rc", "counts"), [
    ("playbooks/site.yml", [], 0, True),
    ("playbooks/site.yml", [], 2, False),                     # failed
    ("playbooks/site.yml", ["--limit", "primary-ops-1"], 0, False),  # not every host
    ("playbooks/site.yml", ["--check"], 0, False),             # changed nothing
    ("playbooks/edge.yml", [], 0, False),                      # one service only
])
def test_only_a_whole_successful_site_run_counts(estate, monkeypatch, playbook, extra, rc,
                                                  counts):
    ran = _playbook_exits(monkeypatch, rc)
    assert lab.configure(estate, PROJECT, playbook, extra) == rc
    assert ran and ran[0][0] == "ansible-playbook"
    assert lab.configured(estate.name) is counts
