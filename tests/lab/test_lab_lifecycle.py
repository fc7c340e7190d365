"""`lab up` and `lab down` on a second, tiny estate beside the lab: down removes exactly what
its estate made, and an `up` that fails part-way takes back what it made."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest

from courtcloud.lab import lab, router
from courtcloud.lab.podman import LabError, exists, labelled
from courtcloud.lab.proxy import PackageProxy
from courtcloud.model import load_project_estate

from .conftest import courtcloud

pytestmark = pytest.mark.lab

STACK = """\
config:
  courtcloud:estate: labtest
  courtcloud:court: {name: Test Court, code: test, domain: test.court}
  courtcloud:securityLevel: 3
  courtcloud:sites:
  - name: probe
    role: dr
    location: lab lifecycle test
    zones:
    - {name: mgmt, kind: management, cidr: 172.30.60.0/24}
    - {name: vault, kind: backup, cidr: 172.30.61.0/24}
    computePools:
    - {name: ops, roles: [log-host], zones: [mgmt, vault],
       flavor: {vcpus: 1, memoryGb: 1, diskGb: 10}, count: 1}
    - {name: vault, roles: [backup-vault], zones: [vault],
       flavor: {vcpus: 1, memoryGb: 1, diskGb: 10}, count: 1}
"""


class Quiet:
    def step(self, title):
        return nullcontext()

    def log(self, message):
        pass


@pytest.fixture
def labtest(tmp_path, monkeypatch, lab_up):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.labtest.yaml").write_text(STACK)
    monkeypatch.setenv("COURTCLOUD_STATE_DIR", str(tmp_path / "state"))
    yield project
    courtcloud("lab", "down", "--estate", "labtest", "--keep-images")


@contextmanager
def foreign_things():
    """A network and a container the lab did not make (the container even from a lab image)."""
    subprocess.run(["podman", "network", "create", "--internal", "--subnet", "172.30.62.0/24",
                    "cc-foreign"], check=True, capture_output=True)
    subprocess.run(["podman", "create", "--name", "cc-foreign", "--network", "cc-foreign",
                    "localhost/courtcloud/host:bookworm"], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["podman", "rm", "-f", "cc-foreign"], capture_output=True, check=False)
        subprocess.run(["podman", "network", "rm", "-f", "cc-foreign"], capture_output=True,
                       check=False)


def test_down_removes_its_estate_and_nothing_else(labtest: Path, lab_up):
    with foreign_things():
        up = courtcloud("lab", "up", "--estate", "labtest", "--no-host-setup", "--no-configure",
                        "--project-dir", str(labtest))
        assert up.returncode == 0, up.stderr[-2000:]
        assert {c["Names"][0] for c in labelled("container", "labtest")} == {
            "cc-probe-ops-1", "cc-probe-vault-1"}
        assert router.current_bridges("labtest")

        down = courtcloud("lab", "down", "--estate", "labtest")
        assert down.returncode == 0, down.stderr[-2000:]
        assert labelled("container", "labtest") == []
        assert labelled("network", "labtest") == []
        assert router.current_bridges("labtest") is None
        # Untouched: the foreign network and container, the lab, and the images labtest
        # did not build.
        assert exists("network", "cc-foreign") and exists("container", "cc-foreign")
        assert {h["container"] for h in lab_up["hosts"]} <= {
            c["Names"][0] for c in labelled("container", "lab")}
        assert router.current_bridges("lab")
        assert exists("image", "localhost/courtcloud/host:bookworm")


def test_down_keeps_an_image_that_a_foreign_container_uses(labtest: Path, tmp_path):
    """An image of the estate's own, in use by a container the lab did not make: `down`
    removes the estate's unused images but neither that image nor the container."""
    context = tmp_path / "image"
    context.mkdir()
    (context / "Containerfile").write_text("FROM localhost/courtcloud/host:bookworm\n")
    for tag in ("in-use", "unused"):
        subprocess.run(["podman", "build", "-q", "--label", "io.courtcloud.lab-image=labtest",
                        "--label", f"probe={tag}", "-t", f"localhost/courtcloud/labtest-{tag}",
                        str(context)], check=True, capture_output=True)
    subprocess.run(["podman", "create", "--name", "cc-foreign-user",
                    "localhost/courtcloud/labtest-in-use"], check=True, capture_output=True)
    try:
        down = courtcloud("lab", "down", "--estate", "labtest")
        assert down.returncode == 0, down.stderr[-2000:]
        assert exists("container", "cc-foreign-user")
        assert exists("image", "localhost/courtcloud/labtest-in-use")
        assert not exists("image", "localhost/courtcloud/labtest-unused")
        assert exists("image", "localhost/courtcloud/host:bookworm")  # the lab's, not labtest's
    finally:
        subprocess.run(["podman", "rm", "-f", "cc-foreign-user"], capture_output=True,
                       check=False)
        for tag in ("in-use", "unused"):
            subprocess.run(["podman", "rmi", f"localhost/courtcloud/labtest-{tag}"],
                           capture_output=True, check=False)


def test_down_keeps_a_network_that_a_foreign_container_joined(labtest: Path):
    up = courtcloud("lab", "up", "--estate", "labtest", "--no-host-setup", "--no-configure",
                    "--project-dir", str(labtest))
    assert up.returncode == 0, up.stderr[-2000:]
    subprocess.run(["podman", "create", "--name", "cc-foreign-guest", "--network",
                    "cc-probe-mgmt", "localhost/courtcloud/host:bookworm"], check=True,
                   capture_output=True)
    try:
        down = courtcloud("lab", "down", "--estate", "labtest")
        assert down.returncode == 0, down.stderr[-2000:]
        assert "kept" in down.stdout and "cc-probe-mgmt" in down.stdout
        assert exists("container", "cc-foreign-guest")
        assert [n["name"] for n in labelled("network", "labtest")] == ["cc-probe-mgmt"]
        assert labelled("container", "labtest") == []
    finally:
        subprocess.run(["podman", "rm", "-f", "cc-foreign-guest"], capture_output=True,
                       check=False)


def test_a_failed_up_takes_back_what_it_made(labtest: Path, monkeypatch):
    estate = load_project_estate(labtest, "labtest")

    def broken(self, gateways):
        raise LabError("injected: the proxy could not start")

    monkeypatch.setattr(PackageProxy, "ensure", broken)
    with pytest.raises(LabError, match="injected"):
        lab.up(estate, Quiet(), configure_host=False)
    assert labelled("container", "labtest") == []
    assert labelled("network", "labtest") == []
    assert router.current_bridges("labtest") is None
