"""From the client: the flows the server allows connect; everything else is dropped."""

import pytest

testinfra_hosts = ["mol-firewall-client"]

PROBE = ("python3 -c \"import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])),"
         " timeout=3).close()\" {} {}")


@pytest.fixture(scope="module")
def server(host):
    return host.file("/etc/firewall-test-server").content_string.strip()


def test_an_allowed_flow_connects(host, server):
    assert host.run(PROBE.format(server, 5432)).rc == 0


def test_a_port_inside_an_allowed_range_connects(host, server):
    assert host.run(PROBE.format(server, 7001)).rc == 0


def test_the_controller_reaches_ssh(host, server):
    assert host.run(PROBE.format(server, 22)).rc == 0


def test_a_port_open_only_to_others_is_dropped(host, server):
    result = host.run(PROBE.format(server, 8443))
    assert result.rc != 0
    assert "timed out" in result.stderr  # dropped, not refused: nothing answers
