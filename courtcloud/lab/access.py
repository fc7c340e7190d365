"""How Ansible reaches the lab's hosts: over SSH, as production does, not through `podman
exec` (a round trip and a file copy per module: 3.7x slower for the same re-run,
`benchmarks/site_bench.py`).

`lab up` stands in for cloud-init's account step: a key pair for the controller in the lab's
state directory, the automation account (`courtcloud.automation`) on every host with that
key, and each host's own SSH key in a known_hosts file of the lab's, so that host keys are
checked strictly. The controller is this machine, which sits on every zone's network at
the gateway address; the hosts' firewalls let it in for SSH alone (`connection`).
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import automation
from ..model import Estate, Host
from ..model.addressing import gateway
from .podman import LabError, podman

KEY = Path("ssh") / "id_ed25519"
KNOWN_HOSTS = Path("ssh") / "known_hosts"

# Run in each host as root, with the controller's public key as $1. Prints "changed" when it
# changed anything, then the host's key. sshd makes its keys when it first starts, so wait.
_ACCOUNT = r"""
set -eu
key="$1"; user="$2"; group="$3"; sudoers="$4"; rule="$5"; changed=
getent group "$group" >/dev/null || { groupadd --system "$group"; changed=1; }
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --groups "$group" --comment automation "$user"
  changed=1
fi
id -nG "$user" | tr ' ' '\n' | grep -qx "$group" || { usermod -aG "$group" "$user"; changed=1; }
home=$(getent passwd "$user" | cut -d: -f6)
install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
if [ "$(cat "$home/.ssh/authorized_keys" 2>/dev/null)" != "$key" ]; then
  printf '%s\n' "$key" > "$home/.ssh/authorized_keys"
  chown "$user:$user" "$home/.ssh/authorized_keys"; chmod 600 "$home/.ssh/authorized_keys"
  changed=1
fi
if [ "$(cat "$sudoers" 2>/dev/null)" != "$user $rule" ]; then
  printf '%s %s\n' "$user" "$rule" > "$sudoers.new"; chmod 440 "$sudoers.new"
  visudo -cqf "$sudoers.new"  # under set -e a rule sudo would refuse stops here
  mv "$sudoers.new" "$sudoers"; changed=1
fi
[ -z "$changed" ] || echo changed
for _ in $(seq 100); do [ -s /etc/ssh/ssh_host_ed25519_key.pub ] && break; sleep 0.1; done
echo "hostkey $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)"
"""


def ensure_key(directory: Path, estate: str) -> bool:
    """The controller's key pair, made once per lab. True when it was made now."""
    key = directory / KEY
    if key.exists() and key.with_suffix(".pub").exists():
        return False
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key.unlink(missing_ok=True)
    proc = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                           f"courtcloud-lab-{estate}", "-f", str(key)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"ssh-keygen could not make {key}: {proc.stderr.strip()}")
    return True


def ensure_account(directory: Path, container: str) -> tuple[bool, str]:
    """The automation account on one host; returns (changed, the host's public key)."""
    public = (directory / KEY).with_suffix(".pub").read_text().strip()
    proc = podman("exec", container, "sh", "-c", _ACCOUNT, "account", public, automation.USER,
                  automation.GROUP, automation.SUDOERS_FILE, automation.SUDO_RULE,
                  check=False, timeout=60)
    lines = proc.stdout.splitlines()
    hostkey = [line.split(" ", 1)[1] for line in lines if line.startswith("hostkey ssh-")]
    if proc.returncode != 0 or not hostkey:
        raise LabError(f"{container}: could not set up the automation account "
                       f"({proc.stderr.strip()[-300:] or 'sshd made no host key'}); see "
                       f"`podman exec {container} journalctl -u ssh`")
    return "changed" in lines, hostkey[0]


def write_known_hosts(directory: Path, keys: list[tuple[Host, str]]) -> bool:
    """known_hosts naming each host by name and by every address it has."""
    lines = []
    for host, key in sorted(keys, key=lambda item: item[0].name):
        names = [host.name, *sorted({str(a) for a in host.addresses.values()},
                                    key=ipaddress.ip_address)]
        lines.append(f"{','.join(names)} {key}\n")
    path = directory / KNOWN_HOSTS
    text = "".join(lines)
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text)
    return True


def connection(estate: Estate, directory: Path) -> Callable[[Host], dict[str, Any]]:
    """Inventory connection settings for the lab: SSH by address with the lab's key."""
    gateways = {(site.name, zone.name): str(gateway(zone))
                for site in estate.sites for zone in site.zones}

    def settings(host: Host) -> dict[str, Any]:
        return {
            "ansible_host": str(host.address),
            "ansible_ssh_private_key_file": str(directory / KEY),
            "ansible_ssh_common_args": (f"-o UserKnownHostsFile={directory / KNOWN_HOSTS} "
                                        "-o StrictHostKeyChecking=yes"),
            # The kernel, its clock and audit are the machine's: roles leave them alone.
            "courtcloud_in_container": True,
            # This machine, the lab's controller, is on each of the host's zones at the
            # gateway address; production's controller is a bastion the flows admit.
            "courtcloud_controller_addresses": sorted(
                {gateways[(host.site, zone)] for zone in host.addresses},
                key=ipaddress.ip_address),
        }

    return settings


def podman_connection(estate: Estate, directory: Path) -> Callable[[Host], dict[str, Any]]:
    """The way in that needs neither sshd nor the network: `podman exec`. Slower; for when
    SSH is what broke (a bad sshd or firewall setting), and as the benchmark's peer."""
    over_ssh = connection(estate, directory)

    def settings(host: Host) -> dict[str, Any]:
        return {**over_ssh(host), "ansible_connection": "containers.podman.podman",
                "ansible_host": f"cc-{host.name}", "ansible_user": "root"}

    return settings
