"""A thin layer over the podman command line: run it, parse its JSON, explain failures."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

LABEL = "io.courtcloud.lab"  # value: the estate name; `lab down` removes what carries it
# Images carry a label of their own: containers inherit their image's labels, so a container
# someone makes from a lab image must not look like one the lab made.
IMAGE_LABEL = "io.courtcloud.lab-image"
RECIPE = "io.courtcloud.recipe"  # a digest of what a thing was made from, to spot drift


class LabError(Exception):
    """A lab step failed; the message says what and how to fix it."""


def require_podman() -> None:
    if shutil.which("podman") is None:
        raise LabError("podman is not installed: run `courtcloud lab up` as root (it installs "
                       "podman from Debian), or `apt-get install podman runc`")


def podman(*args: str, check: bool = True, input_bytes: bytes | None = None,
           timeout: float | None = 600) -> subprocess.CompletedProcess[str]:
    require_podman()
    proc = subprocess.run(["podman", *args], capture_output=True, text=input_bytes is None,
                          input=input_bytes, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
        raise LabError(f"podman {' '.join(args[:3])} failed: {err.strip()[-800:]}")
    return proc


def podman_json(*args: str) -> Any:
    out = podman(*args, "--format", "json").stdout
    return json.loads(out or "[]")


def exists(kind: str, name: str) -> bool:
    """kind: container, network, image."""
    return podman(kind, "exists", name, check=False).returncode == 0


def labelled(kind: str, estate: str) -> list[dict[str, Any]]:
    """Containers, networks or images carrying the lab label of this estate."""
    if kind == "container":
        return podman_json("ps", "-a", "--filter", f"label={LABEL}={estate}")
    if kind == "network":
        return podman_json("network", "ls", "--filter", f"label={LABEL}={estate}")
    return podman_json("images", "--filter", f"label={IMAGE_LABEL}={estate}")


def remove_containers(*names: str, grace_s: int = 5) -> None:
    """Stop (systemd gets SIGRTMIN+3 and `grace_s` to halt) and remove. podman 4.3 can report
    "container state improper" when the kill races the container's own exit; the container
    is then stopped but still there, so try again."""
    if not names:
        return
    for attempt in range(3):
        proc = podman("rm", "-f", "-t", str(grace_s), *names, check=False)
        left = [n for n in names if exists("container", n)]
        if not left:
            return
        names = tuple(left)
        if attempt == 2:
            raise LabError(f"could not remove {', '.join(left)}: {proc.stderr.strip()[-400:]}")
