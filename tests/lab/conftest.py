"""The lab tests run against the real lab: `courtcloud lab up` on this machine (podman,
systemd containers). They are marked `lab`; `scripts/test --fast` skips them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from courtcloud.lab.plan import lab_plan
from courtcloud.model import load_project_estate


def courtcloud(*args: str, env: dict[str, str] | None = None,
               timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "courtcloud", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          check=False)


@pytest.fixture(scope="session")
def lab_estate(project: Path):
    return load_project_estate(project, "lab")


@pytest.fixture(scope="session")
def lab_plan_(lab_estate):
    return lab_plan(lab_estate)


@pytest.fixture(scope="session")
def lab_up(project: Path) -> dict[str, Any]:
    """Bring the lab up (cold in CI: images are built) and return its JSON summary. The lab
    stays up afterwards, for the next lab tests and for the developer."""
    proc = courtcloud("lab", "up", "--json", "--project-dir", str(project))
    sys.stderr.write(proc.stderr[-4000:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


# ansible-playbook from this interpreter's environment (the project's .venv), else from PATH.
ANSIBLE_PLAYBOOK = next((str(p) for p in [Path(sys.executable).parent / "ansible-playbook"]
                         if p.exists()), shutil.which("ansible-playbook"))


def run_playbook(project: Path, inventory: str, playbook: str,
                 timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """One of the project's playbooks against the lab's inventory, output captured."""
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", inventory, str(project / "playbooks" / playbook)],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=project,
        env={**os.environ, "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
             "ANSIBLE_FORCE_COLOR": "0"})


def recap(output: str) -> dict[str, dict[str, int]]:
    """Ansible's PLAY RECAP as {host: {ok: n, changed: n, ...}}."""
    hosts = {}
    for name, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, flags=re.M):
        hosts[name] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return hosts


def host_run(container: str, *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", "exec", container, *command], capture_output=True,
                          text=True, timeout=timeout, check=False)


# Lab tests that run the roles' playbooks on the lab take many minutes each; they belong with
# the molecule scenarios under `scripts/test --roles`.
PLAYBOOK_TESTS = {"test_ceph", "test_postgresql_ha", "test_edge", "test_site"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in PLAYBOOK_TESTS:
            item.add_marker(pytest.mark.roles)
