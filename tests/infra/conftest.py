"""Fixtures for the infrastructure tests: the production estate run once under mocks.

No test here opens a connection: the Pulumi engine is mocked in-process, charts render
through Helm's SDK, and OpenStack answers come from recorded responses (requests-mock).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))


@pytest.fixture(scope="session")
def production_runs():
    """Every production stack run end to end under mocks, in deployment order."""
    from courtcloud.infra.engine import run_estate

    return run_estate(PROJECT, "production")


@pytest.fixture(scope="session")
def production_estate():
    from courtcloud.model import load_project_estate

    return load_project_estate(PROJECT, "production")


def pytest_configure(config: pytest.Config) -> None:
    # The provider SDK warns about its own deprecated aliases on import; not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_openstack.*")
    config.addinivalue_line("filterwarnings", "ignore:The _compute_attributes method")
