"""The exporters answer /metrics over TLS from the site CA, to a scraper holding a certificate
of the same CA, on the host's own address only."""

import pytest

PKI = "/etc/courtcloud/pki"


@pytest.fixture(scope="module")
def address(host):
    return host.check_output("hostname -I").split()[0]


def scrape(host, url, *, client_cert=True):
    cert = f"--cert {PKI}/host.crt --key {PKI}/host.key" if client_cert else ""
    return host.run(f"curl -sS --max-time 10 --cacert {PKI}/ca.crt {cert} {url}")


@pytest.mark.parametrize("service", ["prometheus-node-exporter", "prometheus-postgres-exporter"])
def test_the_exporters_run_and_start_at_boot(host, service):
    assert host.service(service).is_running and host.service(service).is_enabled


def test_node_exporter_answers_with_node_metrics(host, address):
    result = scrape(host, f"https://{address}:9100/metrics")
    assert result.rc == 0, result.stderr
    assert "node_cpu_seconds_total" in result.stdout
    assert "node_memory_MemAvailable_bytes" in result.stdout
    assert "node_systemd_unit_state" in result.stdout  # the extra collector


def test_the_postgres_exporter_answers(host, address):
    result = scrape(host, f"https://{address}:9187/metrics")
    assert result.rc == 0, result.stderr
    # No PostgreSQL on this instance: the exporter says so (pg_up 0) rather than failing.
    assert "pg_up" in result.stdout


@pytest.mark.parametrize("port", [9100, 9187])
def test_the_exporters_listen_only_on_the_hosts_address(host, address, port):
    assert host.socket(f"tcp://{address}:{port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening
    assert scrape(host, f"https://127.0.0.1:{port}/metrics").rc != 0


def test_a_scraper_without_a_certificate_of_the_site_ca_is_refused(host, address):
    result = scrape(host, f"https://{address}:9100/metrics", client_cert=False)
    assert result.rc != 0


def test_plain_http_gets_no_metrics(host, address):
    result = host.run(f"curl -sS --max-time 10 http://{address}:9100/metrics")
    assert "node_cpu_seconds_total" not in result.stdout
