"""The court's services as the platform ships them: each app's version (from its own
`pyproject.toml`), its image reference and its build context. The one place that the lab's
image tags, the state's image list and the charts' image references come from."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

APPS_DIR = Path(__file__).resolve().parents[1] / "apps"
# Images are built on the machine (no registry is pulled from); production mirrors them
# into the court's own registry under the same names.
REPOSITORY = "localhost/courtcloud"
# Each app's Containerfile installs from wheels made here, offline (git-ignored).
WHEELS = Path("build") / "wheels"


class AppCatalogueError(Exception):
    """An app directory is incomplete; the message names the file and the fix."""


@dataclass(frozen=True)
class AppRelease:
    name: str
    version: str
    directory: Path
    # Serves reads from a read-only copy of its database (a standby site's cluster) and
    # refuses changes there, rather than waiting for that cluster's promotion to start.
    # Declared by the app itself: `[tool.courtcloud] serves-from-standby = true`.
    serves_from_standby: bool = False

    @property
    def repository(self) -> str:
        return f"{REPOSITORY}/{self.name}"

    @property
    def image(self) -> str:
        return f"{self.repository}:{self.version}"

    @property
    def containerfile(self) -> Path:
        return self.directory / "Containerfile"

    @property
    def wheels(self) -> Path:
        return self.directory / WHEELS


def release(directory: Path) -> AppRelease:
    pyproject = directory / "pyproject.toml"
    try:
        document = tomllib.loads(pyproject.read_text())
        version = str(document["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise AppCatalogueError(f"{pyproject}: cannot read [project] version ({exc}); every app "
                                "declares its version there") from exc
    standby = document.get("tool", {}).get("courtcloud", {}).get("serves-from-standby", False)
    if not isinstance(standby, bool):
        raise AppCatalogueError(f"{pyproject}: [tool.courtcloud] serves-from-standby must be "
                                f"true or false, not {standby!r}")
    return AppRelease(directory.name, version, directory, standby)


def releases(apps_dir: Path = APPS_DIR) -> dict[str, AppRelease]:
    """Every app that ships an image: a directory under apps/ with a Containerfile."""
    return {d.name: release(d) for d in sorted(apps_dir.iterdir())
            if (d / "Containerfile").is_file()}
