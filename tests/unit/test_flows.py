"""Flows resolved to each host's inbound rules: point to point, port by port."""

from __future__ import annotations

import pytest

from courtcloud.model import load_project_estate, site_hosts
from courtcloud.model.flows import ANY, inbound_rules


@pytest.fixture(scope="module")
def lab(project):
    return load_project_estate(project, "lab")


def rules_for(estate, host_name):
    site = estate.site(host_name.split("-")[0] if not host_name.startswith("dr-") else "dr-miyun")
    return {r.flow: r for r in inbound_rules(estate, site)[host_name]}


def test_a_pool_source_becomes_its_hosts_addresses(lab):
    rules = rules_for(lab, "primary-database-1")
    nodes = [h for h in site_hosts(lab.site("primary")) if h.pool == "node"]
    expected = {str(a) for h in nodes for a in h.addresses.values()}
    assert set(rules["apps-to-postgres"].sources) == expected
    assert rules["apps-to-postgres"].ports == ((5432, 5432),)


def test_another_sites_pool_is_named_by_site_and_pool(lab):
    rules = rules_for(lab, "primary-database-2")
    standby = [str(h.address) for h in site_hosts(lab.site("standby")) if h.pool == "database"]
    assert set(rules["standby-follows-primary"].sources) == set(standby)
    vault = rules_for(lab, "dr-miyun-vault-1")
    assert "backups-from-primary" in vault and "backups-from-standby" in vault


def test_a_zone_source_is_its_range_and_only_the_edge_hears_the_internet(lab):
    rules = rules_for(lab, "primary-ops-1")
    assert rules["time-data"].sources == (str(lab.site("primary").zone("data").cidr),)
    assert rules["time-data"].protocol == "udp"
    for site in lab.sites:
        for host, host_rules in inbound_rules(lab, site).items():
            world = [r.flow for r in host_rules if ANY in r.sources]
            if world:
                assert "-edge-" in host or "exchange-inet" in host, (host, world)


def test_ranges_are_kept_as_ranges(lab):
    rule = rules_for(lab, "primary-ceph-1")["ceph-peers"]
    assert rule.as_dict()["ports"] == ["3300", "6789", "6800-7300", "7480"]


def test_a_pool_named_like_a_zone_sends_from_every_address_of_its_hosts(project):
    """The edge pool and the edge zone share a name; an edge host reaches a worker from its
    app-zone address (they share that network), so the worker must let that address in as
    well as the edge zone (a worker dropped the edge's connections: 504 at the front door)."""
    estate = load_project_estate(project, "lab")
    site = estate.site("primary")
    rules = inbound_rules(estate, site)["primary-node-1"]
    (ingress,) = [r for r in rules if r.flow == "edge-to-ingress"]
    edges = [h for h in site_hosts(site) if h.pool == "edge"]
    assert str(site.zone("edge").cidr) in ingress.sources
    assert all(str(h.addresses["app"]) in ingress.sources for h in edges)
