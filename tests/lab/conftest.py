"""The lab tests run against the real lab: `courtcloud lab up` on this machine (podman,
systemd containers). They are marked `lab`; `scripts/test --fast` skips them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from courtcloud.lab.lab import configured as lab_configured
from courtcloud.lab.plan import lab_plan
from courtcloud.model import load_project_estate


def courtcloud(*args: str, env: dict[str, str] | None = None,
               timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "courtcloud", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          check=False)


@pytest.fixture(scope="session")
def lab_estate(project: Path):
    return load_project_estate(project, "lab")


@pytest.fixture(scope="session")
def lab_plan_(lab_estate):
    return lab_plan(lab_estate)


@pytest.fixture(scope="session")
def lab_up(project: Path) -> dict[str, Any]:
    """Bring the lab up (cold in CI: images are built) and return its JSON summary. The lab
    stays up afterwards, for the next lab tests and for the developer."""
    proc = courtcloud("lab", "up", "--json", "--no-configure", "--project-dir", str(project))
    sys.stderr.write(proc.stderr[-4000:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


# ansible-playbook from this interpreter's environment (the project's .venv), else from PATH.
ANSIBLE_PLAYBOOK = next((str(p) for p in [Path(sys.executable).parent / "ansible-playbook"]
                         if p.exists()), shutil.which("ansible-playbook"))


def run_playbook(project: Path, inventory: str, playbook: str,
                 timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """One of the project's playbooks against the lab's inventory, output captured."""
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", inventory, str(project / "playbooks" / playbook)],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=project,
        env={**os.environ, "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
             "ANSIBLE_FORCE_COLOR": "0"})


@dataclass
class PlaybookRun:
    playbook: str
    proc: subprocess.CompletedProcess[str]
    after_a_whole_run: bool  # a whole site run had converged these hosts before this run


def converge(project: Path, inventory: str, playbook: str,
             timeout: float = 3600) -> PlaybookRun:
    """Run a playbook that must succeed; its wall time goes to the test log."""
    before = lab_configured("lab")
    started = time.monotonic()
    proc = run_playbook(project, inventory, playbook, timeout)
    sys.stderr.write(f"{playbook}: {time.monotonic() - started:.0f} s\n")
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return PlaybookRun(playbook, proc, before)


def assert_a_second_run_changes_nothing(first: PlaybookRun, project: Path, inventory: str,
                                        timeout: float = 3600) -> None:
    """After a whole site run (CI's `lab up`), `first` already is a second run: it must have
    changed nothing. On hosts that had none, run the playbook once more and check that."""
    proc = first.proc
    if not first.after_a_whole_run:
        proc = run_playbook(project, inventory, first.playbook, timeout)
        assert proc.returncode == 0, proc.stdout[-4000:]
    counts = recap(proc.stdout)
    changed = {h: c["changed"] for h, c in counts.items() if c["changed"]}
    assert counts and not changed, changed


def recap(output: str) -> dict[str, dict[str, int]]:
    """Ansible's PLAY RECAP as {host: {ok: n, changed: n, ...}}."""
    hosts = {}
    for name, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, flags=re.M):
        hosts[name] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return hosts


def host_run(container: str, *command: str, timeout: float = 120,
             stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", "exec", "-i", container, *command], input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)


# Lab tests that run the site playbook or a role's playbook on the lab: they run after
# `courtcloud lab up` configured it (scripts/test's platform stage), not on bare hosts.
PLAYBOOK_TESTS = {"test_ceph", "test_postgresql_ha", "test_edge", "test_site"}


# Figures of the site playbook's runs (time, task results, changed, failed), printed at the
# end of the session so that CI's log carries them.
FIGURES: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("site playbook runs")
    for f in FIGURES:
        terminalreporter.write_line(
            f"{f['run']}: {f['seconds']:.0f} s, {f['hosts']} hosts, {f['task_results']} task "
            f"results, {f['changed']} changed, {f['failed']} failed")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in PLAYBOOK_TESTS:
            item.add_marker(pytest.mark.site)


def container_of(plan, hostname: str) -> str:
    return next(h.container for h in plan.hosts if h.hostname == hostname)


def psql(plan, hostname: str, sql: str) -> str:
    """One SQL statement as postgres on a database host (its local socket); the output."""
    proc = host_run(container_of(plan, hostname), "runuser", "-u", "postgres", "--",
                    "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def patroni_members(plan, site: str, via: str | None = None) -> list[dict[str, Any]]:
    """The site's cluster as Patroni lists it (Member, Role, State, ...), asked on `via`
    (a database host of the site; its first by default)."""
    proc = host_run(container_of(plan, via or f"{site}-database-1"), "patronictl", "-c",
                    "/etc/patroni/config.yml", "list", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def member_in_role(plan, site: str, role: str, via: str | None = None) -> str:
    return next(m["Member"] for m in patroni_members(plan, site, via) if m["Role"] == role)


def written_row_is_read(plan, writer: str, reader: str, table: str) -> bool:
    """Insert a fresh token on `writer`; True once `reader` returns it (within 30 s)."""
    token = str(uuid.uuid4())
    psql(plan, writer, f"create table if not exists {table} (token text primary key)")
    psql(plan, writer, f"insert into {table} values ('{token}')")
    for _ in range(60):
        proc = host_run(container_of(plan, reader), "runuser", "-u", "postgres", "--",
                        "psql", "-XAtq", "-c", f"select token from {table} where token = '{token}'")
        if proc.stdout.strip() == token:
            return True
        time.sleep(0.5)
    return False


def address_of(plan, hostname: str) -> str:
    return str(next(h.address for h in plan.hosts if h.hostname == hostname))


def in_network_of(container: str, *command: str, timeout: float = 120,
                  stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command of this machine inside a lab host's network namespace: its packets
    leave from that host's addresses and meet the firewalls as that host's would (how a
    test reaches a service only some zones may reach, with tools the host does not have)."""
    pid = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", container],
                         capture_output=True, text=True, check=True).stdout.strip()
    return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "--", *command],
                          input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)


CONNECT = ("import socket, sys; "
           "socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()")


def connects(container: str, address: str, port: int) -> subprocess.CompletedProcess[str]:
    """A TCP connection from inside a lab host to address:port (rc 0: it connected)."""
    return in_network_of(container, sys.executable, "-c", CONNECT, address, str(port))


LAB_STATE = Path("/var/lib/courtcloud/lab")
S3_PROBE = str(Path(__file__).with_name("s3_probe.py"))
RGW_PORT = 7480


def s3_call(plan, client_host: str, gateway: str, site: str, user: str, method: str,
            stdin: str | None = None, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """One S3 call from inside `client_host` to the RGW on `gateway`, as `user` of `site`'s
    gateway (keys from the lab's secrets): (0, response) or (3, {"Error": code})."""
    secrets = LAB_STATE / "secrets" / "ceph" / site
    proc = in_network_of(
        container_of(plan, client_host), sys.executable, S3_PROBE,
        f"https://{address_of(plan, gateway)}:{RGW_PORT}", str(LAB_STATE / "pki" / site / "ca.crt"),
        str(secrets / f"{user}-access-key"), str(secrets / f"{user}-secret-key"), method,
        json.dumps(kwargs), stdin=stdin)
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    return proc.returncode, json.loads(proc.stdout)
