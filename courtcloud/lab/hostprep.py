"""The host's side of the lab: Debian packages and the podman settings these machines need."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .podman import LabError


@dataclass(frozen=True)
class HostRequirement:
    """A Debian package the lab needs, a command it provides that the lab runs, and why."""

    package: str
    command: str  # a name looked up on PATH (sbin included), or an absolute path
    why: str


REQUIREMENTS_FILE = Path(__file__).with_name("host-packages.txt")


def requirements(path: Path = REQUIREMENTS_FILE) -> tuple[HostRequirement, ...]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split(None, 2)
        if len(fields) < 3:
            raise LabError(f"{path}:{number}: expected `package command why`, got {line!r}")
        found.append(HostRequirement(*fields))
    return tuple(found)


PACKAGES = tuple(r.package for r in requirements())
# root's PATH, whatever the caller's: iptables and friends live in sbin.
SEARCH_PATH = os.pathsep.join(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
                               "/sbin", "/bin"])


def _package_installed(package: str) -> bool:
    dpkg_query = shutil.which("dpkg-query", path=SEARCH_PATH)
    if dpkg_query is None:
        raise LabError("dpkg-query is missing: the lab runs on Debian 12 (bookworm)")
    proc = subprocess.run([dpkg_query, "-W", "-f=${Status}", package],
                          capture_output=True, text=True, check=False)
    return "install ok installed" in proc.stdout


def _command_present(command: str) -> bool:
    if command.startswith("/"):
        return os.access(command, os.X_OK)
    return shutil.which(command, path=SEARCH_PATH) is not None


def check_host(reqs: tuple[HostRequirement, ...] | None = None, *,
               installed: Callable[[str], bool] = _package_installed,
               present: Callable[[str], bool] = _command_present) -> None:
    """Stop, naming each missing package, its command and why the lab needs it, before the
    lab builds or starts anything (a missing iptables otherwise surfaces as netavark's
    "No such file or directory" in the middle of an image build)."""
    missing = [r for r in (reqs if reqs is not None else requirements())
               if not installed(r.package) or not present(r.command)]
    if missing:
        lines = "\n".join(f"  {r.package} ({r.command}): {r.why}" for r in missing)
        raise LabError(f"this machine lacks what the lab needs:\n{lines}\n"
                       f"install it with `apt-get install {' '.join(r.package for r in missing)}`"
                       " (`courtcloud lab up` does so as root unless --no-host-setup)")


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
    return [pkg for pkg in PACKAGES if not _package_installed(pkg)]


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


def ansible_path() -> str:
    """PATH for running Ansible: the one installed beside this interpreter (the project's
    .venv) first. Stops with the install command when there is none."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if shutil.which("ansible-playbook", path=path) is None:
        raise LabError("ansible-playbook is not installed: pip install -r requirements/ansible.txt")
    return path
