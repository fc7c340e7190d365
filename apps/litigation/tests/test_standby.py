"""The standby site: litigation on a physical standby of the case database (a real
PostgreSQL hot standby streaming from a primary) serves reads, refuses changes with a
clear 503, and takes writes without a restart once its copy is promoted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from courtcloud.testing.postgres import PostgresServer
from litigation_testkit import Caller, Issuer, Served, filing, wait_for

from litigation.app import create_app
from litigation.settings import Settings
from litigation.store.db import CaseDatabase, SchemaNotReady, any_server


@pytest.fixture
def pair() -> Iterator[tuple[PostgresServer, PostgresServer]]:
    primary = PostgresServer().start()
    try:
        primary.create_database("cases")
        standby = primary.standby()
        try:
            yield primary, standby
        finally:
            standby.stop()
    finally:
        primary.stop()


def writable_only(server: PostgresServer) -> str:
    """The URL the charts give the apps: only a writable server will do."""
    return server.url("cases") + "?target_session_attrs=read-write"


def replicated(standby: PostgresServer, query: str) -> Callable[[], str]:
    """The query's answer on the standby, or "" while what it reads has not arrived."""

    def ask() -> str:
        try:
            return standby.psql(query, dbname="cases")
        except RuntimeError:  # the table itself has not been replayed yet
            return ""

    return ask


def test_the_standby_serves_reads_refuses_changes_and_takes_writes_after_promotion(
    pair: tuple[PostgresServer, PostgresServer],
    make_settings: Callable[..., Settings],
    issuer: Issuer,
) -> None:
    primary, standby = pair
    main = Served(
        create_app(make_settings(database_url=writable_only(primary)), access_log=False), "main"
    ).start()
    copy: Served | None = None
    try:
        plaintiff = Caller(main.url, issuer, "standby-plaintiff", ["litigant"], "张三")
        r = plaintiff.post("/v1/cases", json=filing(plaintiff.sub))
        assert r.status_code == 201, r.text
        case = r.json()
        count = replicated(standby, f"select count(*) from cases where id = '{case['id']}'")
        wait_for(lambda: count() == "1", what="the case replicated to the standby")

        settings = make_settings(database_url=writable_only(standby), db_probe_interval_s=0.5)
        copy = Served(create_app(settings, access_log=False), "standby").start()
        reader = Caller(copy.url, issuer, plaintiff.sub, ["litigant"], "张三")

        ready = httpx.get(copy.url + "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["mode"] == "read-only"
        got = reader.get(f"/v1/cases/{case['id']}")
        assert got.status_code == 200, got.text
        assert got.json()["parties"][0]["name"] == "张三"

        refused = reader.post("/v1/cases", json=filing(reader.sub))
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "site.read_only"
        assert refused.headers["Retry-After"] == "1"
        # Nothing half-done on the copy or at the source.
        assert primary.psql("select count(*) from cases", dbname="cases") == "1"

        # The switch: the standby is promoted, and the same process takes writes.
        primary.stop()
        standby.promote()

        def writes() -> httpx.Response | None:
            r = reader.post("/v1/cases", json=filing(reader.sub))
            return r if r.status_code == 201 else None

        assert wait_for(writes, timeout=20, what="writes after the promotion")
        assert httpx.get(copy.url + "/readyz").json()["mode"] == "read-write"
        assert standby.psql("select count(*) from cases", dbname="cases") == "2"
    finally:
        if copy is not None:
            copy.stop()
        main.stop()


def test_a_copy_behind_the_code_is_refused_by_name(
    pair: tuple[PostgresServer, PostgresServer],
) -> None:
    """A standby whose schema was never migrated (its primary never ran this code) is not
    served: the code cannot migrate a read-only copy, and says so."""
    _, standby = pair
    db = CaseDatabase(writable_only(standby), 1, 0)
    try:
        with pytest.raises(SchemaNotReady, match="read-only copy at schema None"):
            db.open()
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://a,b/cases?target_session_attrs=read-write&sslmode=verify-full",
         "postgresql://a,b/cases?target_session_attrs=any&sslmode=verify-full"),
        ("postgresql://a/cases?sslmode=require", None),
        ("postgresql://a/cases?target_session_attrs=any", None),
    ],
)
def test_the_read_url_is_the_same_url_for_any_server(url: str, expected: Any) -> None:
    assert any_server(url) == expected
