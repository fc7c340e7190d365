"""Host settings: podman's configuration file and the Debian mirror the images use."""

from __future__ import annotations

from pathlib import Path

import pytest

from courtcloud.lab import hostprep
from courtcloud.lab.images import MIRROR_ENV, host_mirror
from courtcloud.lab.podman import LabError


def test_containers_conf_written_when_absent_and_kept_when_current(tmp_path):
    path = tmp_path / "containers.conf"
    assert hostprep.write_containers_conf(path) is True
    text = path.read_text()
    assert 'runtime = "runc"' in text and "nofile=4096:4096" in text
    assert hostprep.write_containers_conf(path) is False


def test_containers_conf_of_the_operator_is_left_alone(tmp_path):
    path = tmp_path / "containers.conf"
    path.write_text("[engine]\nruntime = \"crun\"\n")
    assert hostprep.write_containers_conf(path) is False
    assert path.read_text() == "[engine]\nruntime = \"crun\"\n"


def test_an_older_managed_conf_is_updated(tmp_path):
    path = tmp_path / "containers.conf"
    path.write_text(hostprep.MARKER + " (old)\n[engine]\n")
    assert hostprep.write_containers_conf(path) is True
    assert path.read_text() == hostprep.CONTAINERS_CONF_TEXT


def test_mirror_from_deb822_sources(tmp_path):
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n")
    assert host_mirror((tmp_path / "missing.list", tmp_path)) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources(tmp_path):
    path = tmp_path / "sources.list"
    path.write_text("# comment\ndeb [arch=amd64] http://archive.example/debian/ bookworm main\n")
    assert host_mirror((path,)) == "http://archive.example/debian"


def test_no_archive_in_the_sources_stops_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    (tmp_path / "other.list").write_text("deb https://packages.example/apt stable main\n")
    with pytest.raises(LabError) as err:
        host_mirror((tmp_path,))
    assert "other.list" in str(err.value) and MIRROR_ENV in str(err.value)


def test_an_explicit_mirror_wins_over_the_sources(tmp_path, monkeypatch):
    (tmp_path / "debian.sources").write_text("URIs: http://mirror.example/debian\n")
    monkeypatch.setenv(MIRROR_ENV, "http://court-mirror.example/debian/")
    assert host_mirror((tmp_path,)) == "http://court-mirror.example/debian"
    monkeypatch.setenv(MIRROR_ENV, "court-mirror/debian")
    with pytest.raises(LabError, match=MIRROR_ENV):
        host_mirror((tmp_path,))


def test_no_archive_host_is_named_in_the_tool():
    """A court's intranet has its own mirror: the code names none (only the machine's apt
    configuration or the operator does)."""
    import courtcloud

    root = Path(courtcloud.__file__).parent
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".txt", ".conf", ""}:
            text = path.read_text(errors="replace")
            assert "debian.org" not in text, path


def _fake_machine(reqs, removed):
    """A machine whose installed packages are `reqs` but `removed`: each package's command
    is present exactly when the package is."""
    have = {r.package for r in reqs} - {removed}
    by_command = {r.command: r.package for r in reqs}
    return {"installed": lambda p: p in have, "present": lambda c: by_command[c] in have}


def test_the_host_check_passes_when_every_package_is_there():
    reqs = hostprep.requirements()
    hostprep.check_host(reqs, **_fake_machine(reqs, removed=None))


@pytest.mark.parametrize("removed", hostprep.PACKAGES)
def test_the_host_check_names_a_missing_package_and_why(removed):
    reqs = hostprep.requirements()
    with pytest.raises(LabError) as err:
        hostprep.check_host(reqs, **_fake_machine(reqs, removed))
    message = str(err.value)
    assert f"apt-get install {removed}" in message
    named = [line for line in message.splitlines() if line.startswith("  ")]
    assert len(named) == 1 and named[0].startswith(f"  {removed} (")


def test_iptables_is_required_for_netavark():
    """Debian's netavark runs iptables without depending on it (seen on a fresh machine)."""
    reqs = {r.package: r for r in hostprep.requirements()}
    assert "iptables" in reqs and "netavark" in reqs["iptables"].why


def test_a_malformed_requirements_line_names_file_and_line(tmp_path):
    path = tmp_path / "host-packages.txt"
    path.write_text("# comment\npodman podman runs hosts\nrunc\n")
    with pytest.raises(LabError, match=r"host-packages.txt:3"):
        hostprep.requirements(path)
