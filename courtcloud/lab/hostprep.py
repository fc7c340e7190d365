"""The host's side of the lab: Debian packages and the podman settings these machines need."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from .podman import LabError

# nftables: the lab's router is an nftables table of its own on the host; openssh-client:
# Ansible reaches the hosts over SSH with a key the lab makes.
PACKAGES = ("podman", "runc", "netavark", "aardvark-dns", "debootstrap", "apt-cacher-ng",
            "iproute2", "nftables", "openssh-client")
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
MARKER = "# Managed by courtcloud"
# podman here runs only with runc and explicit ulimits, and the host has no systemd to
# manage cgroups or the event journal.
CONTAINERS_CONF_TEXT = f"""{MARKER} (lab host settings; see ARCHITECTURE.md, "The lab").
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def missing_packages() -> list[str]:
    missing = []
    for pkg in PACKAGES:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                              capture_output=True, text=True, check=False)
        if "install ok installed" not in proc.stdout:
            missing.append(pkg)
    return missing


def install_packages(log: Callable[[str], None]) -> list[str]:
    missing = missing_packages()
    if not missing:
        return []
    if os.geteuid() != 0:
        raise LabError(f"missing host packages {', '.join(missing)} and not root: run as root "
                       f"or `apt-get install {' '.join(missing)}`")
    log(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise LabError(f"{' '.join(cmd[:2])} failed: {proc.stderr.strip()[-600:]}")
    return missing


def write_containers_conf(path: Path = CONTAINERS_CONF) -> bool:
    """Write the podman settings unless an operator's own file is there. True if written."""
    if path.exists():
        current = path.read_text()
        if current == CONTAINERS_CONF_TEXT or not current.startswith(MARKER):
            return False  # ours and current, or the operator's: theirs wins
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONTAINERS_CONF_TEXT)
    return True


def have_tools() -> bool:
    return all(shutil.which(t) for t in ("podman", "debootstrap", "apt-cacher-ng"))
