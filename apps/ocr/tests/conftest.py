"""Fixtures: a generated corpus of court pages, one loaded pipeline, a running app."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ocr.app import create_app
from ocr.domain.pipeline import OcrPipeline, PipelineConfig
from ocr.settings import Settings
from ocr.synth import SynthPage, make_corpus, make_page, write_corpus


@pytest.fixture(scope="session")
def pipeline() -> OcrPipeline:
    return OcrPipeline(PipelineConfig(threads=2))


@pytest.fixture(scope="session")
def small_pages() -> list[SynthPage]:
    """Three short pages: clean, turned upside down, skewed with black edges."""
    rng = random.Random(11)
    opts = {"size": (900, 640), "n_sentences": 3}
    clean = make_page(rng, "clean", "clean", **opts)
    turned = make_page(rng, "rotated", "turned", **opts)
    edges = make_page(rng, "edges", "edges", **opts)
    return [clean, turned, edges]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[SynthPage]:
    """The full generated corpus (2 pages of each kind), written out with ground truth."""
    pages = make_corpus(n_per_kind=2, seed=2019)
    write_corpus(pages, tmp_path_factory.mktemp("corpus"))
    return pages


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    index = tmp_path_factory.mktemp("index") / "index.sqlite3"
    settings = Settings(index_path=index, max_upload_bytes=2_000_000, max_pages=5,
                        sync_max_pages=1, threads=2, log_level="WARNING")
    app = create_app(settings, load_in_background=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def tmp(tmp_path: Path) -> Path:
    return tmp_path
