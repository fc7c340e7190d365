"""Shared fixtures: the project's stack files, copied so that a test may break them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT = Path(__file__).resolve().parent.parent
PRODUCTION = ("Pulumi.primary.yaml", "Pulumi.standby.yaml", "Pulumi.miyun.yaml")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A scratch project directory holding copies of every stack file."""
    for path in PROJECT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


Edit = Callable[[str, Callable[[dict[str, Any]], None]], Path]


@pytest.fixture
def edit_stack(project_copy: Path) -> Edit:
    """edit_stack("Pulumi.primary.yaml", fn): fn changes the parsed config in place."""

    def edit(name: str, change: Callable[[dict[str, Any]], None]) -> Path:
        path = project_copy / name
        data = yaml.safe_load(path.read_text())
        change(data["config"])
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return edit


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT
