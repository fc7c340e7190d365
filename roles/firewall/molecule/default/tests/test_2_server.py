"""On the server: the daemon's ruleset is the model's, and drops are counted."""

import re

testinfra_hosts = ["mol-firewall-server"]


def test_the_loaded_ruleset_defaults_to_drop(host):
    rules = host.check_output("nft list table inet courtcloud")
    assert "hook input priority filter; policy drop;" in rules
    assert "hook forward priority filter; policy drop;" in rules
    assert 'tcp dport 5432 counter packets' in rules and 'comment "db-from-client"' in rules
    assert "tcp dport 7000-7002" in rules


def test_the_dropped_probe_was_counted(host):
    rules = host.check_output("nft list table inet courtcloud")
    dropped = re.search(r"counter packets (\d+) bytes \d+ comment \"dropped in\"", rules)
    assert dropped and int(dropped.group(1)) > 0


def test_nftables_loads_the_rules_at_boot(host):
    assert host.service("nftables").is_enabled
    assert host.run("nft -c -f /etc/nftables.conf").rc == 0
