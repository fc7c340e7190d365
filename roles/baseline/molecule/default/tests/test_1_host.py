"""The host under the baseline, as the daemons and PAM report it, not as files say."""

import re
import time

import pytest

testinfra_hosts = ["mol-baseline"]
PASSWORD = "Court-Filing-42x"


@pytest.fixture(scope="module")
def probe_user(host):
    host.run("userdel -r probe 2>/dev/null")
    host.check_output(f"useradd -m -s /bin/bash probe && echo 'probe:{PASSWORD}' | chpasswd")
    host.run("faillock --user probe --reset")
    yield "probe"
    host.run("userdel -r probe")


def pam_login(host, user, password):
    return host.run(f"printf '%s\\n' '{password}' | pamtester login {user} authenticate")


def test_the_right_password_authenticates(host, probe_user):
    assert pam_login(host, probe_user, PASSWORD).rc == 0


def test_an_account_locks_after_five_failures(host, probe_user):
    for _ in range(5):
        assert pam_login(host, probe_user, "wrong-password").rc != 0
    tally = host.check_output(f"faillock --user {probe_user}")
    assert len(re.findall(r"\bV\b", tally)) >= 5
    # Locked: now even the right password is refused.
    assert pam_login(host, probe_user, PASSWORD).rc != 0
    host.run(f"faillock --user {probe_user} --reset")
    assert pam_login(host, probe_user, PASSWORD).rc == 0


def test_weak_passwords_are_refused(host):
    for weak in ("password", "Court2024", "abcdefghijkl"):
        assert host.run(f"echo '{weak}' | pwscore").rc != 0, weak
    assert host.run(f"echo '{PASSWORD}' | pwscore").rc == 0


def test_the_ssh_daemon_runs_with_the_hardened_settings(host):
    settings = host.check_output("sshd -T")
    assert "permitrootlogin no" in settings
    assert "clientaliveinterval 300" in settings and "clientalivecountmax 2" in settings
    assert "maxauthtries 4" in settings
    assert "authenticationmethods publickey,password" in settings
    ciphers = re.search(r"^ciphers (.*)$", settings, re.M).group(1)
    macs = re.search(r"^macs (.*)$", settings, re.M).group(1)
    assert "cbc" not in ciphers
    assert not re.search(r"md5|sha1", macs)
    assert host.service("ssh").is_running


def test_idle_shells_end_and_the_timeout_cannot_be_lifted(host):
    assert host.check_output("bash -lc 'echo $TMOUT'") == "600"
    assert host.run("bash -lc 'TMOUT=0'").rc != 0
    assert host.check_output("bash -lc umask") == "0027"


def test_only_root_has_uid_0_and_no_password_is_empty(host):
    uid0 = [line.split(":")[0] for line in host.file("/etc/passwd").content_string.splitlines()
            if line.split(":")[2] == "0"]
    assert uid0 == ["root"]
    shadow = host.check_output("cat /etc/shadow")
    assert not [line for line in shadow.splitlines() if line.split(":")[1] == ""]


def test_cleartext_services_are_absent(host):
    for pkg in ("telnet", "rsh-client", "xinetd", "vsftpd"):
        assert not host.package(pkg).is_installed


def test_network_kernel_settings_are_recorded_for_boot(host):
    # A container cannot change them (/proc/sys is read-only); a VM applies them at boot.
    settings = host.file("/etc/sysctl.d/60-courtcloud-network.conf").content_string
    assert "net.ipv4.conf.all.accept_redirects=0" in settings.replace(" ", "")
    assert "net.ipv4.tcp_syncookies=1" in settings.replace(" ", "")


def test_administrators_are_separated(host):
    host.run("useradd -G secadmin probe-sec 2>/dev/null")
    rights = host.check_output("sudo -l -U probe-sec")
    host.run("userdel probe-sec")
    assert "/usr/sbin/nft" in rights
    assert "(ALL : ALL) ALL" not in rights and "NOPASSWD" not in rights
    assert host.run("visudo -c").rc == 0


def test_logs_reach_the_site_log_host(host):
    marker = f"baseline-probe-{time.time_ns()}"
    host.check_output(f"logger -t courtcloud-test {marker}")
    # The log host's side is checked in test_2_ops.py; leave the marker for it.
    host.check_output(f"echo {marker} > /tmp/log-marker")


def test_time_comes_from_the_site_time_source(host):
    for _ in range(30):
        sources = host.check_output("chronyc -n sources")
        if re.search(r"^\^\*", sources, re.M):
            break
        time.sleep(2)
    assert re.search(r"^\^\*", sources, re.M), sources
    assert len(re.findall(r"^\^", sources, re.M)) == 1  # the site's source, nothing else


def test_file_integrity_changes_are_found(host):
    assert host.file("/var/lib/aide/aide.db").exists
    assert host.service("dailyaidecheck.timer").is_enabled
    host.check_output("install -m 0755 /bin/true /usr/local/bin/intruder")
    try:
        check = host.run("aide --config /etc/aide/aide.conf --check")
        assert check.rc != 0
        assert "/usr/local/bin/intruder" in check.stdout
    finally:
        host.run("rm -f /usr/local/bin/intruder")


def test_audit_rules_are_in_place_but_the_daemon_waits_for_a_vm(host):
    rules = host.file("/etc/audit/rules.d/60-courtcloud.rules").content_string
    assert "-w /etc/shadow -p wa -k identity" in rules and rules.rstrip().endswith("-e 2")
    assert not host.service("auditd").is_running  # the kernel's audit is the machine's
