"""The lab's images, built here: a Debian base from debootstrap, imported (no registry can
be pulled from), the host image with systemd built on it, and each app's image built on the
base from wheels made on this machine (the apps' own Containerfiles, offline inside)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from ..apps import AppRelease
from . import hostprep
from .plan import BASE_IMAGE, HOST_IMAGE, SERVER_IMAGE
from .podman import IMAGE_LABEL, RECIPE, LabError, exists, podman, podman_json, remove_containers

SUITE = "bookworm"
HOST_CONTEXT = Path(__file__).parent / "images" / "host"
TOOL_DIR = Path(__file__).resolve().parents[2]  # the playbooks and roles ship with the tool
SERVER_PLAYBOOK = TOOL_DIR / "playbooks" / "server-image.yml"
SERVER_BUILDER = "courtcloud-server-image-build"
APT_PROXY_CONF = "/etc/apt/apt.conf.d/01courtcloud-proxy"
# An operator's explicit choice of archive (an air-gapped court's own mirror, say) wins over
# what the machine's apt sources name. No archive is ever named in this code.
MIRROR_ENV = "COURTCLOUD_DEBIAN_MIRROR"
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))


def host_mirror(sources: tuple[Path, ...] = APT_SOURCES) -> str:
    """The Debian archive for the lab's images: COURTCLOUD_DEBIAN_MIRROR if set, otherwise
    the first Debian archive the machine's own apt sources name (one-line or deb822)."""
    explicit = os.environ.get(MIRROR_ENV, "").strip()
    if explicit:
        if not re.match(r"^(https?|file)://\S+$", explicit):
            raise LabError(f"{MIRROR_ENV}={explicit!r} is not an archive URI: give one such as "
                           "http://<your mirror>/debian")
        return explicit.rstrip("/")
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            files += sorted(src.glob("*.list")) + sorted(src.glob("*.sources"))
        elif src.exists():
            files.append(src)
    for path in files:
        text = path.read_text(errors="replace")
        for match in re.finditer(r"^\s*(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)", text, re.M):
            uri = match.group(1).rstrip("/")
            if re.search(r"/debian$", uri) and uri.startswith("http"):
                return uri
    read = ", ".join(str(p) for p in files) or ", ".join(str(s) for s in sources)
    raise LabError(f"no Debian archive found in this machine's apt sources ({read}): add the "
                   "court's mirror to the apt sources, or set "
                   f"{MIRROR_ENV}=http://<mirror>/debian for the lab alone")


def _recipe(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def base_recipe(mirror: str) -> str:
    return _recipe("debootstrap", "minbase", SUITE, mirror, IMAGE_LABEL)


def host_recipe(base_id: str) -> str:
    files = sorted(p for p in HOST_CONTEXT.rglob("*") if p.is_file())
    return _recipe(base_id, *(p.name + p.read_text() for p in files))


def image_recipe(name: str) -> str | None:
    if not exists("image", name):
        return None
    info = podman_json("image", "inspect", name)[0]
    return (info.get("Labels") or {}).get(RECIPE)


def image_id(name: str) -> str:
    return podman_json("image", "inspect", name)[0]["Id"][:12]


def build_base(estate: str, log: Callable[[str], None]) -> bool:
    """Build the base image unless one from the same recipe exists. True if built."""
    mirror = host_mirror()
    recipe = base_recipe(mirror)
    if image_recipe(BASE_IMAGE) == recipe:
        return False
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is missing: apt-get install debootstrap")
    with tempfile.TemporaryDirectory(prefix="courtcloud-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        log(f"debootstrap --variant=minbase {SUITE} from {mirror}")
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=ca-certificates", SUITE, str(root),
             mirror], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LabError(f"debootstrap failed: {(proc.stderr or proc.stdout).strip()[-800:]}\n"
                           f"check that {mirror} is reachable from this machine")
        # The archive the host uses, in the image too; the lab's hosts reach it by the proxy.
        (root / "etc/apt/sources.list").write_text(
            f"deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\n")
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        (root / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        log("importing the root file system")
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        proc = subprocess.run(
            ["podman", "import", "--change", f"LABEL {IMAGE_LABEL}={estate}",
             "--change", f"LABEL {RECIPE}={recipe}", "--change", 'CMD ["/bin/bash"]',
             "-", BASE_IMAGE], stdin=tar.stdout, capture_output=True, text=True, check=False)
        tar.stdout.close()
        tar.wait()
        if proc.returncode != 0 or tar.returncode != 0:
            raise LabError(f"podman import failed: {proc.stderr.strip()[-800:]}")
    return True


def build_host(estate: str, log: Callable[[str], None]) -> bool:
    """Build the host image on the base unless one from the same recipe exists."""
    recipe = host_recipe(image_id(BASE_IMAGE))
    if image_recipe(HOST_IMAGE) == recipe:
        return False
    log("podman build of the host image (systemd, python3, sshd)")
    podman("build", "--build-arg", f"BASE={BASE_IMAGE}", "--label", f"{IMAGE_LABEL}={estate}",
           "--label", f"{RECIPE}={recipe}", "--layers=false", "-t", HOST_IMAGE,
           str(HOST_CONTEXT), timeout=1800)
    return True


def _included_role_files(playbook: Path) -> list[Path]:
    """The task files and defaults of every role the playbook includes (tasks_from)."""
    files: list[Path] = []
    for play in yaml.safe_load(playbook.read_text()) or []:
        for task in play.get("tasks") or []:
            spec = task.get("ansible.builtin.include_role") or task.get("include_role")
            if not spec:
                continue
            role = TOOL_DIR / "roles" / spec["name"]
            files += [role / "tasks" / f"{spec.get('tasks_from', 'main')}.yml",
                      role / "defaults" / "main.yml"]
    return [f for f in files if f.exists()]


def server_recipe(host_id: str, playbook: Path = SERVER_PLAYBOOK) -> str:
    """The host image, the playbook and what it runs of each role: a change to a role's
    package list makes a new server image (and so new hosts)."""
    files = [playbook, *_included_role_files(playbook)]
    return _recipe(host_id, *(f"{f.relative_to(TOOL_DIR)}:{f.read_text()}" for f in files))


def build_server(estate: str, log: Callable[[str], None], log_dir: Path,
                 playbook: Path = SERVER_PLAYBOOK) -> bool:
    """The server image: a container from the host image, the roles' package tasks run on it
    by Ansible (podman connection), committed. Unless one from the same recipe exists."""
    recipe = server_recipe(image_id(HOST_IMAGE), playbook)
    if image_recipe(SERVER_IMAGE) == recipe:
        return False
    path = hostprep.ansible_path()
    remove_containers(SERVER_BUILDER)
    # On podman's default network, as `podman build` is: the archive directly, not the
    # lab's proxy (which listens on the lab's internal networks only).
    podman("run", "-d", "--name", SERVER_BUILDER, "--label", f"{IMAGE_LABEL}={estate}",
           HOST_IMAGE, "sh", "-c", "trap exit TERM; while :; do sleep 3600 & wait; done")
    try:
        # No init runs here: packages' scripts must not start their services (policy-rc.d).
        podman("exec", SERVER_BUILDER, "sh", "-c",
               f"mv {APT_PROXY_CONF} /root/apt-proxy.conf && printf '#!/bin/sh\\nexit 101\\n'"
               " > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d")
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / "server-image.log"
        log(f"ansible-playbook {playbook.name} on a container from the host image "
            f"(log: {log_path})")
        env = {**os.environ, "PATH": path, "ANSIBLE_CONFIG": str(TOOL_DIR / "ansible.cfg")}
        with log_path.open("w") as out:
            proc = subprocess.run(
                ["ansible-playbook", "-i", f"{SERVER_BUILDER},", "-c", "containers.podman.podman",
                 "-e", "ansible_python_interpreter=/usr/bin/python3", str(playbook)],
                cwd=TOOL_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, check=False,
                timeout=1800)
        if proc.returncode != 0:
            tail = "\n".join(log_path.read_text().splitlines()[-15:])
            raise LabError(f"the server image's playbook failed ({playbook.name}):\n{tail}\n"
                           f"whole log: {log_path}")
        # The package lists stay, dated when the playbook fetched them: a host booted within
        # the roles' cache_valid_time (an hour) updates nothing, so a cold site run does
        # not make 23 hosts fetch the same lists at once (about a minute, and a burst that
        # once hung apt-cacher-ng); an older image's hosts refresh them as before. No SSH
        # host keys or machine id; the proxy back for the hosts.
        podman("exec", SERVER_BUILDER, "sh", "-c",
               "apt-get clean"
               f" && rm -f /etc/ssh/ssh_host_* && : > /etc/machine-id"
               f" && mv /root/apt-proxy.conf {APT_PROXY_CONF} && rm /usr/sbin/policy-rc.d")
        podman("stop", "-t", "5", SERVER_BUILDER)
        podman("commit", "-q", "--change", 'CMD ["/sbin/init"]',
               "--change", "STOPSIGNAL SIGRTMIN+3",
               "--change", f"LABEL {IMAGE_LABEL}={estate}", "--change", f"LABEL {RECIPE}={recipe}",
               SERVER_BUILDER, SERVER_IMAGE, timeout=1800)
    finally:
        remove_containers(SERVER_BUILDER)
    return True


# What an app's image is made from: its sources, not what builds or tests leave beside them.
_NOT_SOURCES = {"build", "tests", "__pycache__", ".pytest_cache", ".ruff_cache", ".venv"}


def app_sources(release: AppRelease) -> list[Path]:
    return sorted(
        p for p in release.directory.rglob("*")
        if p.is_file() and not any(part in _NOT_SOURCES or part.endswith(".egg-info")
                                   for part in p.relative_to(release.directory).parts))


def app_recipe(release: AppRelease, base_id: str) -> str:
    return _recipe(base_id, release.version, *(
        f"{p.relative_to(release.directory)}:{hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in app_sources(release)))


def build_app(release: AppRelease, estate: str, log: Callable[[str], None]) -> bool:
    """The app's image from its Containerfile, unless one from the same sources exists. The
    wheels are made here (pinned in the app's pyproject); the image installs them offline."""
    recipe = app_recipe(release, image_id(BASE_IMAGE))
    if image_recipe(release.image) == recipe:
        return False
    log(f"{release.name} {release.version}: wheels (pip wheel, pinned)")
    shutil.rmtree(release.wheels, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
         "--wheel-dir", str(release.wheels), str(release.directory)],
        capture_output=True, text=True, check=False, timeout=1800)
    if proc.returncode != 0:
        raise LabError(f"app {release.name}: pip wheel failed: {proc.stderr.strip()[-800:]}")
    log(f"{release.name}: podman build {release.image}")
    try:
        podman("build", "--label", f"{IMAGE_LABEL}={estate}", "--label", f"{RECIPE}={recipe}",
               "--label", f"io.courtcloud.app={release.name}", "--layers=false",
               "-f", str(release.containerfile), "-t", release.image, str(release.directory),
               timeout=3600)
    except LabError as exc:
        raise LabError(f"app {release.name}: {exc}") from exc
    return True


IMAGE_LIST = "images.json"


def write_image_list(directory: Path, releases: list[AppRelease]) -> tuple[Path, bool]:
    """The lab's images with their ids and digests, in the lab's state: what an offline
    bundle would carry, and what the running platform was made from. (path, changed)"""
    rows = []
    for name in (BASE_IMAGE, HOST_IMAGE, SERVER_IMAGE, *(r.image for r in releases)):
        info = podman_json("image", "inspect", name)[0]
        rows.append({"image": name, "id": info["Id"], "digest": info.get("Digest", ""),
                     "app": (info.get("Labels") or {}).get("io.courtcloud.app"),
                     "size_mb": round(info.get("Size", 0) / 1e6, 1)})
    path = directory / IMAGE_LIST
    text = json.dumps(rows, indent=2) + "\n"
    if path.exists() and path.read_text() == text:
        return path, False
    path.write_text(text)
    return path, True
