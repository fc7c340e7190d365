"""Host settings: podman's configuration file and the Debian mirror the images use."""

from __future__ import annotations

from courtcloud.lab import hostprep
from courtcloud.lab.images import DEFAULT_MIRROR, host_mirror


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


def test_mirror_defaults_when_none_is_named(tmp_path):
    (tmp_path / "other.list").write_text("deb https://packages.example/apt stable main\n")
    assert host_mirror((tmp_path,)) == DEFAULT_MIRROR
