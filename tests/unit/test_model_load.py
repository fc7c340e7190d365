"""The project's own stacks load, and the production estate is sized to the white paper."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from courtcloud.model import (
    HostRole,
    estate_hosts,
    gateway,
    load_project_estate,
    requirements,
    site_hosts,
)
from courtcloud.model.addressing import HOST_OFFSET
from courtcloud.model.reference import WHITE_PAPER_CAPACITY
from courtcloud.model.summary import capacity


@pytest.fixture(scope="module")
def production(project):
    return load_project_estate(project, "production")


@pytest.fixture(scope="module")
def lab(project):
    return load_project_estate(project, "lab")


def test_production_has_the_three_sites(production):
    roles = {s.name: str(s.role) for s in production.sites}
    assert roles == {"primary": "primary", "standby": "standby", "dr-miyun": "dr"}


def test_production_totals_match_the_white_paper(production):
    figures = capacity(production)["figures"]
    assert {k: v["stacks"] for k, v in figures.items()} == WHITE_PAPER_CAPACITY


def test_every_host_has_a_unique_address_inside_its_zones(production, lab):
    for estate in (production, lab):
        hosts = estate_hosts(estate)
        addresses = [a for h in hosts for a in h.addresses.values()]
        assert len(addresses) == len(set(addresses))
        for host in hosts:
            site = estate.site(host.site)
            for zone, address in host.addresses.items():
                cidr = site.zone(zone).cidr
                assert address in cidr
                assert address != gateway(site.zone(zone))
                assert int(address) - int(cidr.network_address) >= HOST_OFFSET


def test_host_names_are_unique(production):
    names = [h.name for h in estate_hosts(production)]
    assert len(names) == len(set(names)) == WHITE_PAPER_CAPACITY["vms"]


def test_appending_a_pool_moves_no_existing_host(production):
    site = production.site("primary")
    extra = site.compute_pools[-1].model_copy(update={"name": "extra", "count": 2})
    grown = site.model_copy(update={"compute_pools": [*site.compute_pools, extra]})
    before = {h.name: h.addresses for h in site_hosts(site)}
    after = {h.name: h.addresses for h in site_hosts(grown)}
    assert all(after[name] == addrs for name, addrs in before.items())
    assert len(after) == len(before) + 2


def test_lab_and_production_address_plans_do_not_overlap(production, lab):
    """A lab test can then never address a production host by mistake."""
    prod = [z.cidr for s in production.sites for z in s.zones]
    labs = [z.cidr for s in lab.sites for z in s.zones]
    overlaps = [(a, b) for a, b in itertools.product(labs, prod) if a.overlaps(b)]
    assert overlaps == []
    assert all(c.subnet_of(ipaddress.IPv4Network("172.30.0.0/18")) for c in labs)


def test_lab_meets_the_same_security_level(lab, production):
    assert lab.security_level == production.security_level == 3
    need = requirements(3)
    for site in lab.sites:
        for app in site.apps:
            assert app.replicas >= need.min_app_replicas
        for pool in site.pools_with(HostRole.database):
            assert pool.count >= need.min_redundant_hosts


def test_flows_name_ports_as_ranges(production):
    flows = {f.name: f for f in production.site("primary").flows}
    assert flows["apps-to-postgres"].ports == [(5432, 5432)]
    assert flows["ceph-osd-traffic"].ports == [(6800, 7300)]
