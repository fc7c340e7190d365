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


def _playbook_exits(monkeypatch, rc: int, envs: list | None = None) -> list[list[str]]:
    ran: list[list[str]] = []

    def run(command, **kwargs):
        ran.append(command)
        if envs is not None:
            envs.append(kwargs["env"])
        return rc

    monkeypatch.setattr(lab, "run_watched", run)
    monkeypatch.setattr(lab, "warm_package_indexes", lambda estate, say: True)
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


# -- a hung playbook is stopped, naming where it stood ---------------------------------------
def _script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "fake-playbook"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return [str(path)]


def test_a_playbook_that_keeps_writing_runs_to_its_end(tmp_path):
    log = tmp_path / "ansible.log"
    command = _script(tmp_path, f"for i in 1 2 3; do echo task $i >> {log}; sleep 0.5; done\n"
                                "exit 3\n")
    assert lab.run_watched(command, cwd=tmp_path, env={}, stdout=subprocess.DEVNULL,
                           log=log, stall_s=1.0) == 3


def test_a_playbook_that_stops_writing_is_stopped_as_hung(tmp_path):
    log = tmp_path / "ansible.log"
    pid = tmp_path / "pid"
    command = _script(tmp_path, f"echo $$ > {pid}\necho 'TASK [pki : Create each site CA key]'"
                                f" >> {log}\nexec sleep 600\n")
    with pytest.raises(lab.PlaybookStalled, match=r"1 s.*Create each site CA key"):
        lab.run_watched(command, cwd=tmp_path, env={}, stdout=subprocess.DEVNULL, log=log,
                        stall_s=1.0)
    import os

    with pytest.raises(ProcessLookupError):  # and it is gone
        os.kill(int(pid.read_text()), 0)


# -- the package proxy's indexes are fetched once before the hosts' burst of updates --------
def _lab_with(monkeypatch, running: list[str], exec_result):
    calls: list[tuple[str, ...]] = []

    def fake_podman(*args, check=True, timeout=None, **kw):
        calls.append(args)
        if isinstance(exec_result, BaseException):
            raise exec_result
        return exec_result

    monkeypatch.setattr(lab, "labelled", lambda kind, estate: [
        {"Names": [n], "State": "running"} for n in running])
    monkeypatch.setattr(lab, "podman", fake_podman)
    return calls


def test_the_indexes_are_fetched_by_one_running_host(estate, monkeypatch):
    first = lab.lab_plan(estate).hosts[3].container
    calls = _lab_with(monkeypatch, [first, lab.lab_plan(estate).hosts[5].container],
                      subprocess.CompletedProcess([], 0, "", ""))
    said: list[str] = []
    assert lab.warm_package_indexes(estate, said.append) is True
    assert calls == [("exec", first, "apt-get", "update", "-qq")] and not said


@pytest.mark.parametrize(("result", "words"), [
    (subprocess.CompletedProcess([], 100, "", "E: Could not connect to proxy"), "failed"),
    (subprocess.TimeoutExpired(["podman"], 240), "took over 240 s"),
])
def test_a_failed_fetch_is_said_and_the_run_goes_on(estate, monkeypatch, result, words):
    host = lab.lab_plan(estate).hosts[0].container
    _lab_with(monkeypatch, [host], result)
    said: list[str] = []
    assert lab.warm_package_indexes(estate, said.append) is False
    assert len(said) == 1 and host in said[0] and words in said[0]


def test_no_running_host_fetches_nothing(estate, monkeypatch):
    calls = _lab_with(monkeypatch, [], subprocess.CompletedProcess([], 0, "", ""))
    assert lab.warm_package_indexes(estate, print) is False and calls == []


# -- the strategy the playbook runs with ------------------------------------------------------
def test_ansibles_own_strategy_needs_no_plugin_path():
    assert lab.strategy_env("linear") == {"ANSIBLE_STRATEGY": "linear"}


def test_mitogens_strategy_comes_with_its_plugins_from_its_package():
    env = lab.strategy_env("mitogen_linear")
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(env["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()


def test_mitogen_missing_is_named_with_the_install_command(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_mitogen(name, *args, **kwargs):
        if name == "ansible_mitogen":
            raise ImportError("No module named 'ansible_mitogen'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mitogen)
    with pytest.raises(lab.LabError, match=r"requirements/ansible\.txt"):
        lab.strategy_env("mitogen_linear")


def test_the_site_playbook_runs_with_mitogen_unless_told_otherwise(estate, monkeypatch):
    envs: list[dict] = []
    _playbook_exits(monkeypatch, 0, envs)
    monkeypatch.delenv("COURTCLOUD_ANSIBLE_STRATEGY", raising=False)
    lab.configure(estate, PROJECT, "playbooks/site.yml", [])
    monkeypatch.setenv("COURTCLOUD_ANSIBLE_STRATEGY", "linear")
    lab.configure(estate, PROJECT, "playbooks/site.yml", [])
    assert [e["ANSIBLE_STRATEGY"] for e in envs] == ["mitogen_linear", "linear"]
    assert "ANSIBLE_STRATEGY_PLUGINS" in envs[0] and "ANSIBLE_STRATEGY_PLUGINS" not in envs[1]


def test_the_ansible_log_is_rotated_past_its_size_keeping_the_last_one(tmp_path):
    log = tmp_path / "ansible.log"
    assert lab.rotate_log(log, keep_bytes=10) is False  # none yet
    log.write_text("short\n")
    assert lab.rotate_log(log, keep_bytes=10) is False and log.read_text() == "short\n"
    log.write_text("a run that wrote more than ten bytes\n")
    assert lab.rotate_log(log, keep_bytes=10) is True
    assert not log.exists()
    assert (tmp_path / "ansible.log.1").read_text().startswith("a run that")


def test_status_tells_a_lost_host_from_a_running_one(monkeypatch):
    """After the machine's processes were killed, podman still says "running": status says
    the host is lost (and how to recover) when its process no longer exists."""
    import os

    containers = [
        {"Names": ["cc-primary-ops-1"], "State": "running", "Pid": os.getpid(),
         "Labels": {"io.courtcloud.site": "primary"}},
        {"Names": ["cc-primary-edge-1"], "State": "running", "Pid": 2**22 + 12345,
         "Labels": {"io.courtcloud.site": "primary"}},
        {"Names": ["cc-primary-edge-2"], "State": "exited", "Pid": 0, "Labels": {}},
    ]
    monkeypatch.setattr(lab, "labelled", lambda kind, estate: containers)
    states = {row["host"]: row["state"] for row in lab.status("lab")}
    assert states["cc-primary-ops-1"] == "running"
    lost = states["cc-primary-edge-1"]
    assert lost.startswith("lost") and "lab up" in lost
    assert states["cc-primary-edge-2"] == "exited"
