"""Each role's molecule scenario (converge, idempotence, testinfra verify) on the lab's bench.

Marked `roles`: `scripts/test --roles` runs them (they take minutes each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from courtcloud.commands.role import roles

PROJECT = Path(__file__).resolve().parents[2]  # the repository


@pytest.mark.roles
@pytest.mark.lab
@pytest.mark.parametrize("role", roles(PROJECT))
def test_molecule_scenario_passes(role, lab_up):
    bin_dir = str(Path(sys.executable).parent)
    proc = subprocess.run(
        [sys.executable, "-m", "courtcloud", "role", "test", role], cwd=PROJECT,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=3600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
