"""TLS from the site CA: 1.2 and 1.3 accepted, 1.1 and weak suites refused by the server."""

import pytest

NAME = "litigation.court.test"
CA = "/etc/courtcloud/pki/ca.crt"


def s_client(host, address, *options):
    return host.run(f"echo | openssl s_client -connect {address}:443 -servername {NAME} "
                    f"-CAfile {CA} -verify_return_error {' '.join(options)}")


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_tls_1_2_and_1_3_are_accepted_with_a_certificate_the_site_ca_signed(host, address, version):
    result = s_client(host, address, version)
    assert result.rc == 0, result.stderr
    assert "Verify return code: 0 (ok)" in result.stdout
    assert f"Protocol  : TLSv1.{version[-1]}" in result.stdout or \
        f"New, TLSv1.{version[-1]}" in result.stdout


def test_tls_1_1_is_refused_by_the_server(host, address):
    # The client is told to offer TLS 1.1 at any security level; the server's alert refuses it.
    result = s_client(host, address, "-tls1_1", "-cipher", "'DEFAULT:@SECLEVEL=0'")
    assert result.rc != 0
    assert "alert protocol version" in result.stderr


def test_a_suite_without_forward_secrecy_is_refused(host, address):
    result = s_client(host, address, "-tls1_2", "-cipher", "AES128-SHA")
    assert result.rc != 0
    assert "alert handshake failure" in result.stderr


def test_the_certificate_names_the_published_name(host):
    text = host.check_output("openssl x509 -in /etc/nginx/courtcloud/published.crt -noout "
                             "-ext subjectAltName")
    assert f"DNS:{NAME}" in text
    assert "DNS:mol-edge.bench.court.test" in text
