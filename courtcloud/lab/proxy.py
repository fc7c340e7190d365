"""The lab's package proxy: apt-cacher-ng on the host, listening only on the gateway
addresses of the lab's networks, so hosts with no route out can still install packages."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .plan import PROXY_PORT
from .podman import LabError
from .state import running_pid, stop_daemon


def host_addresses() -> set[str]:
    proc = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True, check=True)
    return {a["local"] for link in json.loads(proc.stdout) for a in link.get("addr_info", [])}


FRESH_INDEX_S = 600


class PackageProxy:
    def __init__(self, directory: Path):
        self.directory = directory
        self.pidfile = directory / "apt-cacher-ng.pid"
        self.bindfile = directory / "apt-cacher-ng.bind"

    def pid(self) -> int | None:
        return running_pid(self.pidfile)

    def bound(self) -> list[str]:
        return self.bindfile.read_text().split() if self.bindfile.exists() else []

    def ensure(self, gateways: list[str]) -> bool:
        """Run the proxy on those gateway addresses that are up. True if (re)started."""
        wanted = sorted(set(gateways) & host_addresses())
        if not wanted:
            raise LabError("no lab network has a bridge up; the proxy has nowhere to listen")
        conf_file = self.directory / "acng" / "acng.conf"
        if (self.pid() and self.bound() == wanted and conf_file.exists()
                and conf_file.read_text() == self._config(wanted)):
            return False
        self.stop()
        conf = self._write_config(wanted)
        proc = subprocess.run(["apt-cacher-ng", "-c", str(conf)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LabError(f"apt-cacher-ng did not start: {proc.stderr.strip()[-400:]}")
        for _ in range(50):
            if self.pid():
                break
            time.sleep(0.1)
        else:
            raise LabError(f"apt-cacher-ng did not write {self.pidfile}; see "
                           f"{self.directory / 'log'}")
        self.bindfile.write_text(" ".join(wanted))
        return True

    def _write_config(self, addresses: list[str]) -> Path:
        """Our own configuration, not Debian's: Debian's remaps the archive to mirror lists
        that this closed network cannot resolve, while a plain caching proxy fetches from
        the archive the hosts name (the host's own mirror)."""
        conf = self.directory / "acng"
        for sub in (conf, self.directory / "cache", self.directory / "log"):
            sub.mkdir(parents=True, exist_ok=True)
        (conf / "acng.conf").write_text(self._config(addresses))
        return conf

    def _config(self, addresses: list[str]) -> str:
        conf = self.directory / "acng"
        return (
            "# Managed by courtcloud: the lab's package proxy.\n"
            f"CacheDir: {self.directory / 'cache'}\n"
            f"LogDir: {self.directory / 'log'}\n"
            "SupportDir: /usr/lib/apt-cacher-ng\n"
            f"PidFile: {self.pidfile}\n"
            f"SocketPath: {conf / 'socket'}\n"
            f"Port: {PROXY_PORT}\n"
            f"BindAddress: {' '.join(addresses)}\n"
            "ForeGround: 0\n"
            "ExThreshold: 4\n"
            # Index files fetched once stay fresh for 10 minutes: a site run makes all 23
            # hosts update at once, and apt-cacher-ng 3.7 refreshing one index file for
            # several clients in the same second fails to move the old copy aside ("File
            # exists"), answers an error, and apt's http method then waits for ever (seen
            # in a CI rehearsal: two hosts' `apt update` hung, and the run with them).
            f"FreshIndexMaxAge: {FRESH_INDEX_S}\n")

    def stop(self) -> bool:
        return stop_daemon(self.pidfile, self.bindfile)
