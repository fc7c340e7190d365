"""Where the lab keeps its files, and the lock that lets one run at a time touch it."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .podman import LabError


def state_dir(estate: str) -> Path:
    """`$COURTCLOUD_STATE_DIR/<estate>`, by default under /var/lib/courtcloud."""
    base = Path(os.environ.get("COURTCLOUD_STATE_DIR", "/var/lib/courtcloud"))
    return base / estate


class LabBusy(LabError):
    pass


@contextmanager
def lab_lock(directory: Path) -> Iterator[None]:
    """Hold the lab's lock; a second run fails at once rather than interleave with the first."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lab.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LabBusy(f"another courtcloud lab run (pid {holder}) holds {path}; wait for it "
                          "to finish, or stop it, then try again") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()


class Undo:
    """What this run created, undone in reverse order if the run fails part-way, so that a
    failed `lab up` leaves the lab as it found it."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def add(self, what: str, action: Callable[[], object]) -> None:
        self._steps.append((what, action))

    def run(self) -> list[str]:
        errors = []
        for what, action in reversed(self._steps):
            try:
                action()
            except Exception as exc:  # keep undoing the rest; report what could not be
                errors.append(f"{what}: {exc}")
        self._steps.clear()
        return errors


def running_pid(pidfile: Path) -> int | None:
    """The pid a daemon of the lab's wrote, if that process still runs."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def stop_daemon(pidfile: Path, *extra: Path) -> bool:
    """SIGTERM the daemon, wait up to 5 s for it to go, remove its files. True if it ran."""
    pid = running_pid(pidfile)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    for path in (pidfile, *extra):
        path.unlink(missing_ok=True)
    return True
