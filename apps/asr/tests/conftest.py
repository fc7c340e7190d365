"""Fixtures: clips spoken by flite from court sentences, one engine, a running app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asr.app import create_app
from asr.domain.engine import PocketSphinxEngine
from asr.settings import Settings
from asr.synth import Clip, make_corpus
from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def engine() -> PocketSphinxEngine:
    return PocketSphinxEngine()


@pytest.fixture(scope="session")
def clips() -> list[Clip]:
    """The whole generated corpus (16 sentences, three voices); about a second to make."""
    return make_corpus()


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(max_upload_bytes=5_000_000, max_seconds=120.0,
                        stream_max_seconds=60.0, log_level="WARNING")
    with TestClient(create_app(settings, load_in_background=False)) as c:
        yield c
