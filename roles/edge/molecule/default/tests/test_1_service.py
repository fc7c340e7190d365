"""nginx runs with the configuration it was given: TLS 1.2+ only, the WAF on, the limits set."""


def test_nginx_runs_and_starts_at_boot(host):
    nginx = host.service("nginx")
    assert nginx.is_running and nginx.is_enabled


def test_nginx_listens_on_https_and_http(host):
    assert host.socket("tcp://0.0.0.0:443").is_listening
    assert host.socket("tcp://0.0.0.0:80").is_listening


def test_the_running_configuration_is_the_roles(host):
    config = host.check_output("nginx -T 2>/dev/null")
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in config
    assert "modsecurity on;" in config
    assert "limit_req zone=edge_requests burst=40 nodelay;" in config
    assert "limit_conn edge_connections 50;" in config
    assert "server litigation.court.test" not in config  # upstreams are addresses
    assert "server 127.0.0.1:8443" in config


def test_modsecurity_runs_the_core_rule_set_in_blocking_mode(host):
    config = host.check_output("nginx -T 2>/dev/null")
    assert "modsecurity_rules_file /etc/nginx/courtcloud/modsecurity.conf;" in config
    waf = host.file("/etc/nginx/courtcloud/modsecurity.conf").content_string
    assert "SecRuleEngine On" in waf
    assert "Include /usr/share/modsecurity-crs/rules/*.conf" in waf


def test_the_audit_log_is_not_world_readable(host):
    audit = host.file("/var/log/modsecurity/audit.json")
    assert audit.user == "www-data" and audit.group == "adm"
    assert audit.mode == 0o640
