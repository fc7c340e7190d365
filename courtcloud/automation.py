"""The account Ansible connects as on every host, defined once for cloud-init (production),
`lab up` (the lab's stand-in for cloud-init), the inventory and the baseline's SSH rules.

It logs in with a key alone (the baseline's `Match Group` makes that the only method for its
group), has no password to guess or to type, and so gets sudo without one; every command
it runs as root is still in sudo's log and the audit trail.
"""

from __future__ import annotations

USER = "courtcloud"
GROUP = "automation"
SUDO_RULE = "ALL=(ALL:ALL) NOPASSWD: ALL"
SUDOERS_FILE = "/etc/sudoers.d/90-courtcloud-automation"


def inventory_vars() -> dict[str, object]:
    """Connection settings every host shares (production and lab)."""
    return {"ansible_user": USER, "ansible_become": True,
            "baseline_ssh_automation_group": GROUP}


def cloud_config_users(public_key: str) -> dict[str, object]:
    """The cloud-init keys that create the account (merged into a host's user data)."""
    return {
        "groups": [GROUP],
        "users": [{
            "name": USER, "gecos": "courtcloud automation (Ansible)", "shell": "/bin/bash",
            "groups": [GROUP], "lock_passwd": True, "sudo": [SUDO_RULE],
            "ssh_authorized_keys": [public_key.strip()],
        }],
    }
