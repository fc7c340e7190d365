"""The whole site playbook on the lab, by the user's own command (`courtcloud lab configure`):
every host of the three sites converges; then, through the firewalls it closed, a row
written in the primary site is read in the standby site, evidence put from the app zone
reaches the Miyun vault, logs reach the site's log host, what the model does not allow is
dropped, root cannot log in; and a second run changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from courtcloud.lab import lab

from .conftest import (
    ANSIBLE_PLAYBOOK,
    FIGURES,
    LAB_STATE,
    address_of,
    connects,
    container_of,
    courtcloud,
    host_run,
    member_in_role,
    recap,
    s3_call,
    written_row_is_read,
)

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible is not installed")]



def configure(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = courtcloud("lab", "configure", "--project-dir", str(project), *args, timeout=5400)
    seconds = time.monotonic() - started
    sys.stderr.write(f"lab configure {' '.join(args)}: {seconds:.0f} s\n")
    return proc, seconds


@dataclass
class SiteRun:
    proc: subprocess.CompletedProcess[str]
    seconds: float
    after_a_whole_run: bool  # the hosts had had a whole successful site run before this one


@pytest.fixture(scope="module")
def configured(lab_up, project, lab_estate):
    before = lab.configured(lab_estate.name)
    proc, seconds = configure(project)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return SiteRun(proc, seconds, before)


def figures(run_name: str, proc: subprocess.CompletedProcess[str], seconds: float) -> dict:
    """A run's time and results, kept for the test session's closing summary."""
    counts = recap(proc.stdout)
    result = {"run": run_name, "seconds": round(seconds, 1), "hosts": len(counts),
              "task_results": sum(c["ok"] + c["changed"] + c["skipped"] for c in counts.values()),
              "changed": sum(c["changed"] for c in counts.values()),
              "failed": sum(c["failed"] + c["unreachable"] for c in counts.values())}
    FIGURES.append(result)
    return result


def test_every_host_of_every_site_converged(configured, lab_plan_):
    counts = recap(configured.proc.stdout)
    assert set(counts) == {h.hostname for h in lab_plan_.hosts}
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), counts


def test_a_row_written_in_the_primary_site_is_read_in_the_standby_site(configured, lab_plan_):
    primary = member_in_role(lab_plan_, "primary", "Leader")
    standby = member_in_role(lab_plan_, "standby", "Standby Leader")
    assert written_row_is_read(lab_plan_, primary, standby, "site_probe")


def test_evidence_put_from_the_app_zone_reaches_the_miyun_vault(configured, lab_plan_):
    key, body = f"site-probe/{uuid.uuid4()}", uuid.uuid4().hex * 32
    # A Kubernetes worker (app zone) is where the litigation service writes evidence from.
    rc, put = s3_call(lab_plan_, "primary-node-1", "primary-ceph-1", "primary", "evidence",
                      "put_object", stdin=body, Bucket="evidence", Key=key)
    assert rc == 0 and put["VersionId"], put
    proc = host_run(container_of(lab_plan_, "primary-ceph-1"), "systemctl", "start",
                    "courtcloud-evidence-copy.service", timeout=300)
    assert proc.returncode == 0, proc.stderr
    # Read back in Miyun from where the copy comes from (the vault admits the storage zone).
    rc, copied = s3_call(lab_plan_, "primary-ceph-1", "dr-miyun-vault-1", "dr-miyun",
                         "copy-primary", "get_object", Bucket="evidence-primary", Key=key)
    assert rc == 0 and bytes.fromhex(copied["Body"]).decode() == body


def test_a_database_hosts_log_lines_reach_the_site_log_host(configured, lab_plan_):
    token = f"site-probe-{uuid.uuid4()}"
    proc = host_run(container_of(lab_plan_, "primary-database-2"), "logger", "-t",
                    "courtcloud-probe", token)
    assert proc.returncode == 0, proc.stderr
    found = None
    for _ in range(60):
        found = host_run(container_of(lab_plan_, "primary-ops-1"), "grep", "-rl", token,
                         "/var/log/remote/")
        if found.returncode == 0:
            break
        time.sleep(0.5)
    assert found is not None and "primary-database-2" in found.stdout, found


# What the site's Prometheus does: scrape over TLS with its host certificate from the site CA.
SCRAPE = """
import ssl, sys, urllib.request
pki = "/etc/courtcloud/pki"
context = ssl.create_default_context(cafile=f"{pki}/ca.crt")
context.load_cert_chain(f"{pki}/host.crt", f"{pki}/host.key")
print(urllib.request.urlopen(sys.argv[1], context=context, timeout=20).read().decode())
"""


def test_the_monitoring_host_scrapes_the_database_exporter_with_a_live_login(configured,
                                                                             lab_plan_):
    database = address_of(lab_plan_, "primary-database-2")
    proc = host_run(container_of(lab_plan_, "primary-ops-1"), "python3", "-c", SCRAPE,
                    f"https://{database}:9187/metrics")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # pg_up 1: the exporter logged in (its pg_monitor login replicated to every member).
    assert "\npg_up 1" in proc.stdout, proc.stdout[-2000:]


def test_the_firewalls_admit_the_models_flows_and_drop_the_rest(configured, lab_plan_):
    database = address_of(lab_plan_, "primary-database-1")
    # app -> data on 5432 is a flow of the model; edge -> data is not.
    assert connects(container_of(lab_plan_, "primary-node-1"), database, 5432).returncode == 0
    dropped = connects(container_of(lab_plan_, "primary-edge-1"), database, 5432)
    assert dropped.returncode != 0 and "timed out" in dropped.stderr, dropped.stderr
    # Nor may the app zone reach the database hosts' SSH: that is the bastion's flow.
    dropped = connects(container_of(lab_plan_, "primary-node-1"), database, 22)
    assert dropped.returncode != 0 and "timed out" in dropped.stderr, dropped.stderr


def test_root_cannot_log_in_over_ssh_and_the_automation_account_can(configured, lab_plan_):
    address = address_of(lab_plan_, "primary-database-1")
    ssh = ["ssh", "-i", str(LAB_STATE / "ssh" / "id_ed25519"), "-o", "BatchMode=yes",
           "-o", f"UserKnownHostsFile={LAB_STATE / 'ssh' / 'known_hosts'}",
           "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10"]
    # Even holding a key root accepts (as if planted), root is turned away by sshd itself.
    host = container_of(lab_plan_, "primary-database-1")
    public = (LAB_STATE / "ssh" / "id_ed25519.pub").read_text()
    planted = host_run(host, "sh", "-c", "install -d -m 700 /root/.ssh && "
                       "cat > /root/.ssh/authorized_keys.probe && "
                       "test ! -e /root/.ssh/authorized_keys && "
                       "mv /root/.ssh/authorized_keys.probe /root/.ssh/authorized_keys",
                       stdin=public)
    assert planted.returncode == 0, planted.stderr
    try:
        root = subprocess.run([*ssh, f"root@{address}", "true"], capture_output=True,
                              text=True, timeout=60, check=False)
    finally:
        host_run(host, "rm", "-f", "/root/.ssh/authorized_keys")
    assert root.returncode == 255 and "Permission denied" in root.stderr, root.stderr
    automation = subprocess.run([*ssh, f"courtcloud@{address}", "sudo", "-n", "id", "-u"],
                                capture_output=True, text=True, timeout=60, check=False)
    assert automation.returncode == 0 and automation.stdout.strip() == "0", automation.stderr


def test_the_run_after_a_whole_run_changes_nothing(configured, project):
    """From the second run after a cold one (in CI: `lab up` ran the cold one), nothing
    changes on any host."""
    if configured.after_a_whole_run:
        proc, seconds = configured.proc, configured.seconds
    else:  # the fixture's run was the lab's first whole run: run once more
        proc, seconds = configure(project)
        assert proc.returncode == 0, proc.stdout[-4000:]
    run = figures("site playbook, converged", proc, seconds)
    counts = recap(proc.stdout)
    changed = {h: c["changed"] for h, c in counts.items() if c["changed"]}
    assert counts and not changed, (changed, changed_tasks(proc.stdout))
    assert run["failed"] == 0


def changed_tasks(output: str) -> set[tuple[str, str]]:
    """(task, host) for every result Ansible reported as changed."""
    found = set()
    task = ""
    for line in output.splitlines():
        header = re.match(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\] \*+", line)
        if header:
            task = header.group(1)
            continue
        result = re.match(r"^changed: \[([^\]]+?)(?: -> [^\]]+)?\]", line)
        if result:
            found.add((task, result.group(1)))
    return found


DRIFT_PACKAGE = "libpwquality-tools"  # the baseline installs it; nothing depends on it


def test_a_converged_run_repairs_exactly_what_drifted(configured, project, lab_plan_):
    """A sysctl and a PAM line changed by hand on one host, a package removed on another:
    the next run changes those three things, on those two hosts, and nothing else."""
    first, second = "primary-ops-1", "primary-edge-1"
    sysctl = "/etc/sysctl.d/60-courtcloud-network.conf"
    drift = [
        (first, f"sed -i 's/^net.ipv4.tcp_syncookies = 1$/net.ipv4.tcp_syncookies = 0/' {sysctl}"
                f" && grep -q 'tcp_syncookies = 0' {sysctl}"),
        (first, "sed -i '/pam_faillock.so preauth/d' /etc/pam.d/common-auth"
                " && ! grep -q 'pam_faillock.so preauth' /etc/pam.d/common-auth"),
        (second, f"apt-get remove -y -qq {DRIFT_PACKAGE} >/dev/null"
                 f" && ! dpkg-query -W -f='${{Status}}' {DRIFT_PACKAGE} | grep -q 'ok installed'"),
    ]
    for host, command in drift:
        done = host_run(container_of(lab_plan_, host), "sh", "-c", command)
        assert done.returncode == 0, (host, command, done.stderr)
    proc, seconds = configure(project, "--limit", f"{first},{second}")
    assert proc.returncode == 0, proc.stdout[-4000:]
    figures("site playbook, two drifted hosts", proc, seconds)
    assert changed_tasks(proc.stdout) == {
        ("baseline : Set network kernel settings", first),
        ("baseline : Put the PAM stacks in place (lockout, no empty passwords, quality, history)",
         first),
        ("baseline : Install what the controls need", second),
    }
    host = container_of(lab_plan_, first)
    assert "net.ipv4.tcp_syncookies = 1" in host_run(host, "cat", sysctl).stdout
    assert "pam_faillock.so preauth" in host_run(host, "cat", "/etc/pam.d/common-auth").stdout
    installed = host_run(container_of(lab_plan_, second), "dpkg-query", "-W", "-f=${Status}",
                         DRIFT_PACKAGE)
    assert "ok installed" in installed.stdout
