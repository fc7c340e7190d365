"""The inventory carries what each site's edge publishes: a name per app, and the workers
the edge reaches on the port of the model's edge-to-ingress flow."""

from __future__ import annotations

import pytest

from courtcloud.inventory import build_inventory
from courtcloud.model import load_project_estate


@pytest.fixture(scope="module")
def site_vars(project):
    children = build_inventory(load_project_estate(project, "lab"))["all"]["children"]
    return {name: group["vars"] for name, group in children.items() if "vars" in group}


def test_each_app_of_the_site_is_published_under_the_courts_domain(site_vars):
    names = [p["name"] for p in site_vars["site_primary"]["courtcloud_published"]]
    assert names == ["litigation.bjinternet.court", "chain.bjinternet.court",
                     "ocr.bjinternet.court", "asr.bjinternet.court", "exchange.bjinternet.court"]
    standby = [p["app"] for p in site_vars["site_standby"]["courtcloud_published"]]
    assert standby == ["litigation", "chain"]


def test_upstreams_are_the_workers_on_the_flows_port_in_a_zone_the_edge_shares(site_vars):
    litigation = site_vars["site_primary"]["courtcloud_published"][0]
    # The node pool (app and storage zones) on its app-zone address, port 443 (edge-to-ingress).
    assert litigation["upstreams"] == ["172.30.1.13:443", "172.30.1.14:443"]


def test_a_site_without_edge_hosts_publishes_nothing(site_vars):
    assert site_vars["site_dr_miyun"]["courtcloud_published"] == []
