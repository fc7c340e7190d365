"""How Ansible reaches the lab's hosts: the controller's key, the known hosts, and the
inventory's SSH settings (the account itself is made on real hosts in tests/lab)."""

from __future__ import annotations

import shutil
import stat
import subprocess

import pytest

from courtcloud import automation
from courtcloud.inventory import build_inventory
from courtcloud.lab import access
from courtcloud.model import estate_hosts, load_project_estate


@pytest.fixture(scope="module")
def estate(project):
    return load_project_estate(project, "lab")


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_the_controller_key_is_made_once_and_kept_private(tmp_path):
    assert access.ensure_key(tmp_path, "lab") is True
    key = tmp_path / access.KEY
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    first = key.read_bytes()
    assert access.ensure_key(tmp_path, "lab") is False  # kept, not replaced
    assert key.read_bytes() == first
    # A real key pair: the public half is derived from the private one.
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True,
                             text=True, check=True).stdout.split()[:2]
    assert derived == key.with_suffix(".pub").read_text().split()[:2]


def test_known_hosts_name_every_address_of_a_host_and_are_rewritten_only_on_change(
        tmp_path, estate):
    node = next(h for h in estate_hosts(estate) if h.name == "primary-node-1")
    keys = [(node, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample")]
    assert access.write_known_hosts(tmp_path, keys) is True
    line = (tmp_path / access.KNOWN_HOSTS).read_text()
    assert line == ("primary-node-1,172.30.1.13,172.30.4.10 "
                    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n")
    assert access.write_known_hosts(tmp_path, keys) is False


def test_the_lab_inventory_uses_ssh_with_strict_host_keys_and_the_podman_way_in(tmp_path,
                                                                               estate):
    ssh = build_inventory(estate, access.connection(estate, tmp_path))["all"]
    host = ssh["hosts"]["primary-database-1"]
    assert ssh["vars"]["ansible_user"] == automation.USER and ssh["vars"]["ansible_become"]
    assert host["ansible_ssh_private_key_file"] == str(tmp_path / access.KEY)
    assert f"UserKnownHostsFile={tmp_path / access.KNOWN_HOSTS}" in host["ansible_ssh_common_args"]
    assert host["courtcloud_controller_addresses"] == ["172.30.2.1"]
    podman = build_inventory(estate, access.podman_connection(estate, tmp_path))["all"]
    host = podman["hosts"]["primary-database-1"]
    assert host["ansible_connection"] == "containers.podman.podman"
    assert host["ansible_host"] == "cc-primary-database-1" and host["ansible_user"] == "root"
