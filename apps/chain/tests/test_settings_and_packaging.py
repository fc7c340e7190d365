"""Start-up fails fast naming the setting; the package and image follow the house rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from chain.app import main
from chain.settings import Settings, SettingsError

APP = Path(__file__).resolve().parents[1]
BASE = {
    "CHAIN_DATABASE_URL": "postgresql://x@127.0.0.1/x",
    "CHAIN_NODE_NAME": "primary",
    "CHAIN_EPHEMERAL_KEY": "true",
}


@pytest.mark.parametrize("missing", ["CHAIN_DATABASE_URL", "CHAIN_NODE_NAME"])
def test_a_missing_setting_is_named(missing: str) -> None:
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


def test_no_key_and_no_ephemeral_key_is_refused() -> None:
    env = {k: v for k, v in BASE.items() if k != "CHAIN_EPHEMERAL_KEY"}
    with pytest.raises(SettingsError, match="CHAIN_SIGNING_KEY_FILE"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHAIN_BATCH_MAX_SIZE", "many"),
        ("CHAIN_NODE_NAME", "Bad Name"),
        ("CHAIN_SIGNING_ALGORITHM", "rsa"),
        ("CHAIN_WITNESS_PEERS", '[{"name": "x"}]'),
    ],
)
def test_malformed_settings_are_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({**BASE, name: value})


def test_main_exits_2_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for k in list(BASE):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("CHAIN_NODE_NAME", "primary")
    assert main([]) == 2
    assert "CHAIN_DATABASE_URL" in capsys.readouterr().err


def test_a_bad_key_file_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k"
    key.write_text("not hex")
    for k, v in {**BASE, "CHAIN_SIGNING_KEY_FILE": str(key)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("CHAIN_EPHEMERAL_KEY")
    assert main([]) == 2
    assert str(key) in capsys.readouterr().err


def test_every_dependency_is_pinned() -> None:
    meta = tomllib.loads((APP / "pyproject.toml").read_text())["project"]
    deps = meta["dependencies"] + [d for ds in meta["optional-dependencies"].values() for d in ds]
    pinned = re.compile(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*")
    assert deps and all(pinned.fullmatch(d) for d in deps), deps


def test_containerfile_builds_offline_as_non_root() -> None:
    text = (APP / "Containerfile").read_text()
    assert re.search(r"^FROM localhost/courtcloud/base:bookworm$", text, re.M)
    assert "--no-index" in text and "--find-links" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("0", "root"))


@pytest.mark.lab
def test_container_image_builds() -> None:
    """Builds the wheels and the image with podman, then runs it read-only as non-root."""
    podman = shutil.which("podman")
    assert podman, "podman is needed for lab tests"
    base = "localhost/courtcloud/base:bookworm"
    if subprocess.run([podman, "image", "exists", base], check=False).returncode != 0:
        cli = shutil.which("courtcloud")
        assert cli, f"{base} is missing and the courtcloud tool is not installed to build it"
        subprocess.run([cli, "lab", "images"], check=True)
    wheels = APP / "build" / "wheels"  # the build context's wheel directory (git-ignored)
    pip = shutil.which("pip") or "pip"
    subprocess.run([pip, "wheel", "-q", "--wheel-dir", str(wheels), str(APP)], check=True)
    tag = "localhost/courtcloud/chain:test"
    subprocess.run(
        [podman, "build", "-q", "-f", str(APP / "Containerfile"), "-t", tag, str(APP)], check=True
    )
    try:
        run = [podman, "run", "--rm", "--read-only", tag]
        out = subprocess.run(
            [*run[:-1], "--entrypoint", "id", tag, "-u"], check=True, capture_output=True, text=True
        ).stdout.strip()
        assert out == "10001"
        out = subprocess.run([*run, "keygen"], check=True, capture_output=True, text=True).stdout
        assert '"algorithm": "sm2"' in out
        bad = subprocess.run(run, capture_output=True, text=True, check=False)
        assert bad.returncode == 2 and "CHAIN_DATABASE_URL" in bad.stderr
    finally:
        subprocess.run([podman, "rmi", "-f", tag], capture_output=True, check=False)
