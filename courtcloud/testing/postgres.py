"""A real, throw-away PostgreSQL server for test suites and benchmarks.

The host runs no systemd and the test command often runs as root, while PostgreSQL
refuses to run as root: the server is initialised and started as the ``postgres``
user (through ``runuser``) in a temporary directory, listening only on a free
loopback port and a private unix socket directory. Everything is removed on stop.

Use it as a context manager::

    with PostgresServer() as pg:
        url = pg.create_database("chain_test")

or through the ``postgres_server`` pytest fixture (import it into a ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DEFAULT_VERSION = "15"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL binaries or the user to run them as cannot be found."""


def find_bindir(version: str = DEFAULT_VERSION) -> Path:
    """The directory holding ``initdb``/``pg_ctl`` (Debian: /usr/lib/postgresql/N/bin)."""
    candidates = [Path(f"/usr/lib/postgresql/{version}/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                [pg_config, "--bindir"], check=True, capture_output=True, text=True
            ).stdout.strip()
            candidates.append(Path(out))
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise PostgresUnavailable(
        f"PostgreSQL {version} binaries not found (looked in {', '.join(map(str, candidates))});"
        f" install Debian's 'postgresql-{version}' package"
    )


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """Start and stop one PostgreSQL cluster in a temporary directory.

    ``fsync`` is off by default (tests need speed, not durability); benchmarks that
    want realistic commit costs pass ``fsync=True``.
    """

    def __init__(
        self,
        *,
        version: str = DEFAULT_VERSION,
        fsync: bool = False,
        settings: dict[str, str] | None = None,
        run_as: str = "postgres",
    ) -> None:
        self.bindir = find_bindir(version)
        self.fsync = fsync
        self.settings = dict(settings or {})
        self.run_as = run_as if os.geteuid() == 0 else None
        self.host = "127.0.0.1"
        self.port = 0
        self.user = "postgres"
        self.basedir: Path | None = None
        self._started = False

    # -- process helpers --------------------------------------------------------------
    def _cmd(self, *argv: str) -> list[str]:
        if self.run_as:
            return ["runuser", "-u", self.run_as, "--", *argv]
        return list(argv)

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self._cmd(*argv), capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}"
            )
        return proc

    @property
    def datadir(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "data"

    @property
    def socketdir(self) -> Path:
        assert self.basedir is not None
        return self.basedir / "sock"

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> PostgresServer:
        if self._started:
            return self
        if self.run_as:
            try:
                pw = pwd.getpwnam(self.run_as)
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"user '{self.run_as}' does not exist; install Debian's 'postgresql' package"
                ) from exc
        self.basedir = Path(tempfile.mkdtemp(prefix="courtcloud-pg-"))
        self.socketdir.mkdir()
        if self.run_as:
            for p in (self.basedir, self.socketdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        try:
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                self.user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
            self.port = free_loopback_port()
            opts = {
                "listen_addresses": self.host,
                "port": str(self.port),
                "unix_socket_directories": str(self.socketdir),
                "fsync": "on" if self.fsync else "off",
                "synchronous_commit": "on" if self.fsync else "off",
                "full_page_writes": "on" if self.fsync else "off",
                "max_connections": "100",
                "shared_buffers": "128MB",
                **self.settings,
            }
            conf = "".join(f"{k} = '{v}'\n" for k, v in opts.items())
            with open(self.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as f:
                f.write(conf)
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.basedir / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
            self._started = True
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            proc = subprocess.run(
                [str(self.bindir / "pg_isready"), "-h", self.host, "-p", str(self.port)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not become ready: {self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 20) -> str:
        if self.basedir is None:
            return ""
        log = self.basedir / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.basedir is None:
            return
        if self._started and (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                    timeout=60,
                )
        self._started = False
        shutil.rmtree(self.basedir, ignore_errors=True)
        self.basedir = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases ----------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """A libpq URL for ``dbname`` over loopback TCP."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql (as a superuser) and return its unaligned output."""
        proc = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                dbname,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"psql failed: {proc.stderr.strip()}")
        return proc.stdout.strip()

    # -- replication --------------------------------------------------------------------
    def standby(self) -> PostgresServer:
        """A hot standby of this server: ``pg_basebackup -R`` into a new cluster that
        streams from this one (read-only until :meth:`promote`). Stop it yourself."""
        if not self._started:
            raise RuntimeError("start the primary before making its standby")
        replica = PostgresServer(fsync=self.fsync, settings=self.settings)
        replica.run_as = self.run_as
        replica.basedir = Path(tempfile.mkdtemp(prefix="courtcloud-pg-standby-"))
        replica.socketdir.mkdir()
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            for p in (replica.basedir, replica.socketdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        try:
            replica._run(
                str(self.bindir / "pg_basebackup"), "-h", self.host, "-p", str(self.port),
                "-U", self.user, "-D", str(replica.datadir), "-R", "-X", "stream", "--no-sync",
                "--checkpoint=fast",  # not a spread checkpoint: minutes on an idle server
            )
            replica.port = free_loopback_port()
            with open(replica.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as f:
                f.write(f"port = '{replica.port}'\n"
                        f"unix_socket_directories = '{replica.socketdir}'\n")
            replica._run(
                str(self.bindir / "pg_ctl"), "-D", str(replica.datadir),
                "-l", str(replica.basedir / "server.log"), "-w", "-t", "60", "start",
            )
            replica._started = True
            replica._wait_ready()
        except BaseException:
            replica.stop()
            raise
        return replica

    def promote(self) -> None:
        """Make this standby a writable primary (``pg_ctl promote``, waits until done)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "promote")

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: use letters, digits and '_'")
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_server_fixture() -> Iterator[PostgresServer]:
    """Body of a session-scoped pytest fixture: one server for the whole suite."""
    server = PostgresServer()
    # No skip when PostgreSQL is missing: a suite that needs it must fail loudly, and
    # the test command installs it from the app's apt.txt.
    server.start()
    try:
        yield server
    finally:
        server.stop()
