"""Real attacks from the Core Rule Set's own categories get 403 and land in the audit log,
which rsyslog picks up for the log hosts."""

import json
import uuid

import pytest

ATTACKS = {
    # (path, curl options, the CRS rule expected among the audit log's messages)
    "sql-injection": ("/cases?id=1%27%20OR%20%271%27%3D%271", (), "942100"),
    "sql-injection-union": ("/cases?id=1%20UNION%20SELECT%20password%20FROM%20users--", (),
                            "942100"),
    "path-traversal": ("/download?file=../../../../etc/passwd", (), "930100"),
    "scanner-nikto": ("/", ("-A", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)"),
                      "913100"),
    "scanner-sqlmap": ("/", ("-A", "sqlmap/1.7.2#stable (https://sqlmap.org)"), "913100"),
    "cross-site-scripting": ("/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", (),
                             "941100"),
    "remote-command": ("/ping?host=127.0.0.1%3Bcat%20/etc/passwd", (), "932100"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_attack_is_blocked_and_audited(host, curl, attack):
    path, options, rule = ATTACKS[attack]
    marker = str(uuid.uuid4())
    status = curl(path, "-H", f"X-Test-Id: {marker}", *options).rsplit("\n", 1)[1]
    assert status == "403", attack

    # The audit log: one JSON object a line; this request's carries the rule that fired.
    line = host.check_output(f"grep -h {marker} /var/log/modsecurity/audit.json")
    record = json.loads(line)["transaction"]
    assert record["response"]["http_code"] == 403
    rules = {m["details"]["ruleId"] for m in record["messages"]}
    assert rule in rules, rules
    assert "949110" in rules  # blocked by the anomaly score, as the CRS intends
    components = record["producer"]["components"]
    assert any(c.startswith("OWASP_CRS/3.3") for c in components), components


def test_the_audit_log_reaches_syslog_for_the_log_hosts(host):
    host.run("sleep 2")  # imfile polls the file
    shipped = host.check_output("grep -c 'edge_waf_audit:' /var/log/syslog || true")
    assert int(shipped or 0) >= len(ATTACKS)
