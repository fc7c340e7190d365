"""Engine with a connection pool, sessions, and Alembic migrations applied at start; the
case database as this site sees it (the writable leader, or a standby copy read-only)."""

from __future__ import annotations

import logging
import threading
from importlib import resources
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("litigation.store")
MIGRATION_LOCK = 0x6C_69_74_69_67_01  # "litig" + 1: serialises concurrent starts


def sqlalchemy_url(url: str) -> str:
    """Accept a libpq URL (postgresql://...) and use the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("LITIGATION_DATABASE_URL: use a postgresql:// URL")


def make_engine(url: str, pool_size: int, max_overflow: int) -> Engine:
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"connect_timeout": 5, "application_name": "courtcloud-litigation"},
    )


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("litigation.store") / "migrations"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade the schema to the newest revision under an advisory lock.

    Returns (revision before, revision after). Several replicas may start at once: the
    lock lets one migrate while the others wait, then find nothing to do.
    """
    cfg = alembic_config()
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        before = MigrationContext.configure(conn).get_current_revision()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("migrations applied", extra={"from": before, "to": after})
    return before, after


class SchemaNotReady(RuntimeError):
    """A read-only copy whose schema is not the one this code needs (it cannot migrate it)."""


def is_read_only(engine: Engine) -> bool:
    """Whether the server this engine reaches refuses writes: a hot standby, or a server
    (or database) set to read-only transactions."""
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT pg_is_in_recovery()"
                    " OR current_setting('default_transaction_read_only')::bool"
                )
            )
        )


def any_server(url: str) -> str | None:
    """The same URL with libpq's ``target_session_attrs`` set to ``any``, or None when the
    URL does not ask for a writable server (then it already reaches whatever answers)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "target_session_attrs" and v != "any" for k, v in query):
        return None
    query = [(k, "any" if k == "target_session_attrs" else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:/")))


class CaseDatabase:
    """The case database as this site sees it.

    On the primary site the URL leads to the cluster's leader and the service runs as
    usual (migrating at start). On the standby site every member is a read-only copy
    (a physical standby cluster): the service then serves reads from whichever member
    answers and refuses changes, instead of failing to start; :meth:`probe` (which the app
    calls every few seconds) looks for a writable leader and, once the cluster is promoted,
    migrates and takes writes, with no restart.
    """

    def __init__(self, url: str, pool_size: int, max_overflow: int) -> None:
        self.read_url = any_server(url)
        self.pool_size, self.max_overflow = pool_size, max_overflow
        self.engine = make_engine(url, pool_size, max_overflow)
        self.sessions = make_sessions(self.engine)
        self.read_only = False
        self._spare: Engine | None = None  # the writable engine while reading from a copy
        self._lock = threading.Lock()

    def open(self) -> tuple[str | None, str | None]:
        """Migrate on a writable leader, or settle for a read-only copy at the newest
        schema. Returns (revision before, revision after). Raises OperationalError when
        nothing answers, SchemaNotReady when a copy is behind the code."""
        try:
            if not is_read_only(self.engine):
                return migrate(self.engine)
            copy = self.engine  # the URL reaches any server, and this one is a copy
        except OperationalError:
            if self.read_url is None:
                raise
            copy = make_engine(self.read_url, self.pool_size, self.max_overflow)
            try:
                if not is_read_only(copy):  # a leader appeared between the two tries
                    copy.dispose()
                    return migrate(self.engine)
            except OperationalError:
                copy.dispose()
                raise
            self._spare = self.engine
        revision = current_revision(copy)
        if revision != head_revision():
            if copy is not self.engine:
                copy.dispose()
            self._spare = None
            raise SchemaNotReady(
                f"the case database is a read-only copy at schema {revision}, and this code"
                f" needs {head_revision()}: start it where the leader is writable first"
            )
        self.engine, self.sessions, self.read_only = copy, make_sessions(copy), True
        log.warning(
            "the case database is a read-only copy: serving reads, refusing changes",
            extra={"schema": revision},
        )
        return revision, revision

    def probe(self) -> bool:
        """While read-only, look for a writable leader (the app asks every few seconds);
        when there is one, migrate and take writes. Returns whether writes are taken."""
        if not self.read_only:
            return True
        with self._lock:
            if not self.read_only:
                return True
            writable = self._spare or self.engine
            try:
                if is_read_only(writable):
                    return False
                migrate(writable)
            except OperationalError:
                return False
            old = self.engine
            self.engine, self.sessions = writable, make_sessions(writable)
            self.read_only, self._spare = False, None
            if old is not writable:
                old.dispose()
            else:
                writable.dispose()  # drop connections opened while the server was a copy
        log.warning("the case database takes writes again: a leader answers")
        return True

    def dispose(self) -> None:
        for engine in (self.engine, self._spare):
            if engine is not None:
                engine.dispose()
