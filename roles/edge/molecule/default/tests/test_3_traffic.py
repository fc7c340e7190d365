"""Ordinary requests pass to the upstream, with the client's address; the rest is turned away."""

import json


def test_an_ordinary_request_reaches_the_upstream(curl, address):
    body, status = curl("/cases/2024-0001?view=summary").rsplit("\n", 1)
    assert status == "200"
    answer = json.loads(body)
    assert answer["upstream"] == "ok" and answer["path"] == "/cases/2024-0001?view=summary"
    assert answer["forwarded_for"] == address
    assert answer["host"] == "litigation.court.test"


def test_an_ordinary_post_reaches_the_upstream(curl):
    # A filing's form fields pass the WAF (the app answers GET only: 501 is the app's).
    status = curl("/filings", "-d", "party=Zhang San&claim=contract dispute").rsplit("\n", 1)[1]
    assert status == "501"


def test_security_headers_are_sent(curl):
    headers = curl("/", "-D", "-", "-o", "/dev/null").lower()
    assert "strict-transport-security: max-age=31536000" in headers
    assert "x-content-type-options: nosniff" in headers


def test_plain_http_is_redirected_to_https(host, address):
    out = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' "
                            f"-H 'Host: litigation.court.test' http://{address}/cases")
    assert out == "301 https://litigation.court.test/cases"


def test_a_name_the_site_does_not_publish_gets_404(host, address):
    out = host.check_output(f"curl -sk -o /dev/null -w '%{{http_code}}' https://{address}/")
    assert out == "404"


def test_each_request_is_logged_as_json_through_syslog(host):
    lines = host.check_output("tail -n 20 /var/log/nginx/access.json").splitlines()
    records = [json.loads(line) for line in lines]
    assert any(r["uri"] == "/cases/2024-0001?view=summary" and r["status"] == 200
               and r["upstream"] == "127.0.0.1:8443" for r in records)
    assert all(r["tls_protocol"] in ("TLSv1.2", "TLSv1.3", "") for r in records)
