"""Start-up fails fast naming the setting; migrations match the models; the package
and the image follow the house rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from litigation.app import main
from litigation.settings import Settings, SettingsError
from litigation.store.db import head_revision, make_engine, migrate
from litigation.store.models import Base

APP = Path(__file__).resolve().parents[1]
BASE = {
    "LITIGATION_DATABASE_URL": "postgresql://x@127.0.0.1/x",
    "LITIGATION_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "LITIGATION_S3_BUCKET": "court-files",
    "LITIGATION_CHAIN_URL": "http://127.0.0.1:8080",
    "LITIGATION_JWKS_JSON": '{"keys": [{"kty": "OKP", "crv": "Ed25519",'
    ' "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}',
    "LITIGATION_TOKEN_ISSUER": "https://idp.court.test",
    "LITIGATION_TOKEN_AUDIENCE": "courtcloud-litigation",
    "LITIGATION_TOKEN_COURT": "bjinternet",
}


def test_complete_settings_load() -> None:
    s = Settings.from_env(BASE)
    assert s.court_code == "京0491" and s.token_algorithms == ("RS256", "ES256", "EdDSA")
    assert Settings.from_env({**BASE, "LITIGATION_TOKEN_ALGORITHMS": "ES256"}).token_algorithms == (
        "ES256",
    )


@pytest.mark.parametrize("missing", [k for k in BASE if k != "LITIGATION_JWKS_JSON"])
def test_a_missing_setting_is_named(missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env({k: v for k, v in BASE.items() if k != missing})


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("LITIGATION_S3_BUCKET", "Bad_Bucket", "LITIGATION_S3_BUCKET"),
        ("LITIGATION_PORT", "eighty", "LITIGATION_PORT"),
        ("LITIGATION_TOKEN_ALGORITHMS", "HS256", "LITIGATION_TOKEN_ALGORITHMS"),
        ("LITIGATION_TIMEZONE", "Mars/Olympus", "LITIGATION_TIMEZONE"),
        ("LITIGATION_JWKS_FILE", "/etc/jwks.json", "LITIGATION_JWKS_JSON"),
        ("LITIGATION_S3_ACCESS_KEY_FILE", "/run/a", "LITIGATION_S3_SECRET_KEY_FILE"),
    ],
)
def test_malformed_settings_are_named(name: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({**BASE, name: value})


def test_main_exits_2_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k, v in BASE.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("LITIGATION_CHAIN_URL")
    assert main([]) == 2
    assert "LITIGATION_CHAIN_URL" in capsys.readouterr().err
    monkeypatch.setenv("LITIGATION_CHAIN_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("LITIGATION_JWKS_JSON", '{"keys": []}')
    assert main([]) == 2
    assert "keys" in capsys.readouterr().err


def test_migrations_match_the_models_and_run_once(postgres_server) -> None:
    url = postgres_server.create_database("litigation_migrations")
    engine = make_engine(url, 1, 0)
    try:
        assert migrate(engine) == (None, head_revision())
        assert migrate(engine) == (head_revision(), head_revision())  # a second start
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], diff
    finally:
        engine.dispose()
        postgres_server.drop_database("litigation_migrations")


def test_every_dependency_is_pinned() -> None:
    meta = tomllib.loads((APP / "pyproject.toml").read_text())["project"]
    deps = meta["dependencies"] + [d for ds in meta["optional-dependencies"].values() for d in ds]
    pinned = re.compile(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*")
    assert deps and all(pinned.fullmatch(d) for d in deps), deps
    for line in (APP / "requirements-test.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert pinned.fullmatch(line.strip()), line


def test_containerfile_builds_offline_as_non_root() -> None:
    text = (APP / "Containerfile").read_text()
    assert re.search(r"^FROM localhost/courtcloud/base:bookworm$", text, re.M)
    assert "--no-index" in text and "--find-links" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("0", "root"))


@pytest.mark.lab
def test_container_image_builds_and_refuses_to_start_without_settings() -> None:
    podman = shutil.which("podman")
    assert podman, "podman is needed for lab tests"
    base = "localhost/courtcloud/base:bookworm"
    if subprocess.run([podman, "image", "exists", base], check=False).returncode != 0:
        cli = shutil.which("courtcloud")
        assert cli, f"{base} is missing and the courtcloud tool is not installed to build it"
        subprocess.run([cli, "lab", "images"], check=True)
    wheels = APP / "build" / "wheels"
    pip = shutil.which("pip") or "pip"
    subprocess.run([pip, "wheel", "-q", "--wheel-dir", str(wheels), str(APP)], check=True)
    tag = "localhost/courtcloud/litigation:test"
    subprocess.run(
        [podman, "build", "-q", "-f", str(APP / "Containerfile"), "-t", tag, str(APP)], check=True
    )
    try:
        uid = subprocess.run(
            [podman, "run", "--rm", "--read-only", "--entrypoint", "id", tag, "-u"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert uid == "10002"
        bad = subprocess.run(
            [podman, "run", "--rm", "--read-only", tag], capture_output=True, text=True, check=False
        )
        assert bad.returncode == 2 and "LITIGATION_DATABASE_URL" in bad.stderr
    finally:
        subprocess.run([podman, "rmi", "-f", tag], capture_output=True, check=False)
