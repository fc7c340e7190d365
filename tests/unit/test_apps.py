"""The app catalogue (versions and image names from each app's own pyproject) and what an
app image's recipe is made of."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from courtcloud import apps
from courtcloud.lab import images


def _app(root: Path, name: str, version: str = "1.2.3") -> Path:
    d = root / name
    (d / "src" / name).mkdir(parents=True)
    (d / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "{version}"\n')
    (d / "Containerfile").write_text("FROM localhost/courtcloud/base:bookworm\n")
    (d / "src" / name / "__init__.py").write_text("")
    return d


def test_every_shipped_app_has_its_version_from_its_pyproject():
    found = apps.releases()
    assert {"litigation", "chain", "ocr", "asr"} <= set(found)
    for name, release in found.items():
        project = tomllib.loads((apps.APPS_DIR / name / "pyproject.toml").read_text())["project"]
        assert release.version == project["version"]
        assert release.image == f"localhost/courtcloud/{name}:{project['version']}"
        # The Containerfile installs from the wheels directory the lab fills.
        assert f"COPY {apps.WHEELS.as_posix()} " in release.containerfile.read_text()


def test_a_directory_without_a_containerfile_ships_no_image(tmp_path):
    _app(tmp_path, "court")
    (tmp_path / "notes").mkdir()
    assert list(apps.releases(tmp_path)) == ["court"]


def test_a_pyproject_without_a_version_is_named(tmp_path):
    d = _app(tmp_path, "court")
    (d / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(apps.AppCatalogueError, match=r"court/pyproject.toml.*version"):
        apps.releases(tmp_path)


def test_the_recipe_follows_sources_not_what_builds_and_tests_leave(tmp_path):
    release = apps.release(_app(tmp_path, "court"))
    before = images.app_recipe(release, "base1")
    for leftover in ("build/wheels/x.whl", "tests/test_x.py", "src/court/__pycache__/a.pyc",
                     "src/court.egg-info/PKG-INFO"):
        (release.directory / leftover).parent.mkdir(parents=True, exist_ok=True)
        (release.directory / leftover).write_text("x")
    assert images.app_recipe(release, "base1") == before
    assert images.app_recipe(release, "base2") != before  # a new base rebuilds the app
    (release.directory / "src" / "court" / "__init__.py").write_text("VERSION = 2\n")
    assert images.app_recipe(release, "base1") != before


def test_only_an_app_that_declares_it_serves_from_a_standby_copy():
    found = apps.releases()
    # litigation serves reads from the standby site's copy; the chain must write to serve.
    assert found["litigation"].serves_from_standby
    assert not found["chain"].serves_from_standby


def test_a_malformed_standby_declaration_is_named(tmp_path):
    d = _app(tmp_path, "court")
    text = (d / "pyproject.toml").read_text()
    (d / "pyproject.toml").write_text(text + '\n[tool.courtcloud]\nserves-from-standby = "yes"\n')
    with pytest.raises(apps.AppCatalogueError, match=r"court/pyproject.toml.*serves-from-standby"):
        apps.releases(tmp_path)
