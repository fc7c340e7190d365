"""The host holds a key only it can read and a certificate that the site CA verifiably signed
for its names and addresses."""


def test_the_certificate_verifies_against_the_site_ca(host):
    cmd = host.run("openssl verify -CAfile /etc/courtcloud/pki/ca.crt /etc/courtcloud/pki/host.crt")
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout.strip().endswith(": OK")


def test_the_certificate_names_the_host(host):
    text = host.check_output("openssl x509 -in /etc/courtcloud/pki/host.crt -noout -text")
    assert "DNS:mol-pki.bench.court.test" in text
    assert "IP Address:172.30.63.99" in text
    assert "TLS Web Server Authentication" in text


def test_the_certificate_belongs_to_the_host_key(host):
    cert = host.check_output("openssl x509 -in /etc/courtcloud/pki/host.crt -noout -pubkey")
    key = host.check_output("openssl pkey -in /etc/courtcloud/pki/host.key -pubout")
    assert cert == key


def test_the_key_is_kept_private(host):
    key = host.file("/etc/courtcloud/pki/host.key")
    assert key.user == "root" and key.group == "ssl-cert"
    assert key.mode == 0o640
    assert not host.file("/etc/courtcloud/pki/ca.key").exists
