"""Fixtures: one real PostgreSQL 15 for the session, real chain nodes on loopback ports."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chain.domain.signing import Signer
from chain.settings import Settings
from chain_testkit import Node

from courtcloud.testing.postgres import PostgresServer, postgres_server_fixture

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from postgres_server_fixture()


@pytest.fixture
def new_database(
    postgres_server: PostgresServer, request: pytest.FixtureRequest
) -> Callable[[], str]:
    """Make a fresh, empty database (one or more per test); returns its URL."""
    made: list[str] = []

    def make() -> str:
        name = f"chain_{next(_db_counter)}_{int(time.time() * 1000) % 100000}"
        made.append(name)
        return postgres_server.create_database(name)

    yield make  # type: ignore[misc]
    for name in made:
        postgres_server.drop_database(name)


@pytest.fixture
def make_node(new_database: Callable[[], str], tmp_path: Path) -> Iterator[Callable[..., Node]]:
    nodes: list[Node] = []

    def make(
        name: str = "primary", *, algorithm: str = "sm2", start: bool = True, **overrides: Any
    ) -> Node:
        signer = Signer.generate(algorithm)
        key_file = tmp_path / f"{name}.key"
        key_file.write_text(signer.private_hex())
        values: dict[str, Any] = {
            "database_url": new_database(),
            "node_name": name,
            "signing_algorithm": algorithm,
            "signing_key_file": key_file,
            "batch_linger_ms": 1,
            "cosign_interval_ms": 50,
            "db_pool_min": 1,
            "db_pool_max": 4,
        }
        values.update(overrides)
        node = Node(name, Settings(**values), signer)
        nodes.append(node)
        return node.start() if start else node

    yield make
    for n in nodes:
        n.stop()


@pytest.fixture
def node(make_node: Callable[..., Node]) -> Node:
    return make_node("primary")
