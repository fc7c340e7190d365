"""The site's log host and time source, as their daemons report."""

import time

testinfra_hosts = ["mol-baseline-ops"]


def test_the_log_host_listens_with_tls(host):
    assert host.socket("tcp://0.0.0.0:6514").is_listening
    assert "rotate 180" in host.file("/etc/logrotate.d/courtcloud-remote").content_string


def test_the_clients_log_line_arrived_over_tls(host):
    path = "/var/log/remote/mol-baseline/courtcloud-test.log"
    for _ in range(30):
        if host.file(path).exists:
            break
        time.sleep(1)
    assert host.file(path).exists
    assert "baseline-probe-" in host.file(path).content_string


def test_the_time_source_answered_the_client(host):
    stats = host.check_output("chronyc serverstats")
    received = int(stats.split("NTP packets received")[1].split(":")[1].split()[0])
    assert received > 0
