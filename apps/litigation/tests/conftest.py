"""Fixtures: one real PostgreSQL 15, a real S3 endpoint (moto's server) and a real chain
node for the session; the litigation service on a loopback port; callers with roles."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from chain.app import create_app as create_chain_app
from chain.settings import Settings as ChainSettings
from courtcloud.testing.postgres import PostgresServer, free_loopback_port, postgres_server_fixture
from litigation_testkit import COURT, Caller, Issuer, Served
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine, create_engine

from litigation.app import create_app
from litigation.settings import Settings

_n = itertools.count()
BUCKET = "court-files"
S3_KEYS = ("litigation-test", "made-at-test-time")  # moto accepts any credentials


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from postgres_server_fixture()


@dataclass
class S3:
    url: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        out: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix
        ):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """moto's S3 server: a real HTTP S3 endpoint on a loopback port."""
    port = free_loopback_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS[0],
        aws_secret_access_key=S3_KEYS[1],
    )
    client.create_bucket(Bucket=BUCKET)
    yield S3(url, client)
    server.stop()


@pytest.fixture(scope="session")
def chain_node(postgres_server: PostgresServer) -> Iterator[Served]:
    """The real evidence chain (apps/chain) with its own database on the same server."""
    url = postgres_server.create_database(f"chain_for_litigation_{next(_n)}")
    settings = ChainSettings(
        database_url=url,
        node_name="primary",
        ephemeral_key=True,
        batch_linger_ms=1,
        db_pool_min=1,
        db_pool_max=4,
    )
    node = Served(create_chain_app(settings, access_log=False), "chain").start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("secrets")
    (d / "s3-access").write_text(S3_KEYS[0])
    (d / "s3-secret").write_text(S3_KEYS[1])
    return d


@pytest.fixture(scope="session")
def make_settings(
    postgres_server: PostgresServer,
    s3: S3,
    chain_node: Served,
    issuer: Issuer,
    secrets_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        jwks = tmp_path_factory.mktemp("jwks") / "jwks.json"
        import json

        jwks.write_text(json.dumps(issuer.jwks()))
        values: dict[str, Any] = {
            "database_url": postgres_server.create_database(f"litigation_{next(_n)}"),
            "db_pool_size": 4,
            "db_max_overflow": 4,
            "s3_endpoint_url": s3.url,
            "s3_bucket": BUCKET,
            "s3_access_key_file": secrets_dir / "s3-access",
            "s3_secret_key_file": secrets_dir / "s3-secret",
            "chain_url": chain_node.url,
            "jwks_file": jwks,
            "token_issuer": issuer.issuer,
            "token_audience": issuer.audience,
            "token_court": COURT,
            "max_upload_bytes": 256 * 1024,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@dataclass
class Court:
    """One running litigation service and what the tests need to reach into it."""

    served: Served
    settings: Settings
    issuer: Issuer
    engine: Engine
    s3: S3

    @property
    def url(self) -> str:
        return self.served.url

    def as_(self, sub: str, *roles: str, name: str | None = None) -> Caller:
        return Caller(self.url, self.issuer, sub, list(roles), name or sub)

    def sql(self, query: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return list(conn.execute(text(query), params).all())

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT count(*) FROM {table}")[0][0])


@pytest.fixture(scope="session")
def court(make_settings: Callable[..., Settings], issuer: Issuer, s3: S3) -> Iterator[Court]:
    settings = make_settings()
    served = Served(create_app(settings, access_log=False), "litigation").start()
    engine = create_engine(settings.database_url.replace("postgresql://", "postgresql+psycopg://"))
    yield Court(served, settings, issuer, engine, s3)
    served.stop()
    engine.dispose()


@pytest.fixture
def people(court: Court) -> dict[str, Caller]:
    """A fresh cast per test: unique subjects, so tests do not see each other's cases."""
    tag = next(_n)

    def who(name: str, *roles: str, display: str | None = None) -> Caller:
        return court.as_(f"{name}-{tag}", *roles, name=display)

    cast = {
        "judge": who("judge", "judge", display="李法官"),
        "clerk": who("clerk", "clerk", display="赵书记员"),
        "mediator": who("mediator", "mediator", display="孙调解员"),
        "plaintiff": who("plaintiff", "litigant", display="张三"),
        "defendant": who("defendant", "litigant", display="某公司法务"),
        "lawyer": who("lawyer", "lawyer", display="王律师"),
        "stranger": who("stranger", "litigant", display="路人"),
        "public": who("public", "public"),
    }
    for c in cast.values():  # every account signs in once
        assert c.get("/v1/accounts/me").status_code == 200
    return cast
