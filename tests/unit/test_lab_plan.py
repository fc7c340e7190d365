"""The lab's plan, derived from the model: networks, hosts, routes, inventory."""

from __future__ import annotations

import ipaddress
import os

import pytest

from courtcloud.inventory import build_inventory
from courtcloud.lab import router
from courtcloud.lab.lab import lab_connection
from courtcloud.lab.plan import PROXY_NAME, lab_plan, mac_address
from courtcloud.model import estate_hosts, load_project_estate


@pytest.fixture(scope="module")
def estate(project):
    return load_project_estate(project, "lab")


@pytest.fixture(scope="module")
def plan(estate):
    return lab_plan(estate)


def test_one_internal_network_per_zone_of_each_site(estate, plan):
    zones = {(s.name, z.name): z for s in estate.sites for z in s.zones}
    assert {(n.site, n.zone) for n in plan.networks} == set(zones)
    for net in plan.networks:
        args = net.create_args()
        assert "--internal" in args  # no route out of the lab
        assert args[args.index("--subnet") + 1] == str(zones[(net.site, net.zone)].cidr)
        assert f"io.courtcloud.lab={estate.name}" in args


def test_each_host_gets_its_fixed_addresses_and_every_name(estate, plan):
    hosts = {h.name: h for h in estate_hosts(estate)}
    assert len(plan.hosts) == len(hosts)
    for spec in plan.hosts:
        host = hosts[spec.hostname]
        args = spec.run_args("image-id")
        networks = [args[i + 1] for i, a in enumerate(args) if a == "--network"]
        assert networks == [f"cc-{host.site}-{z}:ip={a},mac={mac_address(str(a))}"
                            for z, a in host.addresses.items()]
        added = dict(args[i + 1].split(":", 1) for i, a in enumerate(args) if a == "--add-host")
        assert all(added[name] == str(h.address) for name, h in hosts.items())
        home = estate.site(host.site).zone(host.home_zone).cidr
        assert ipaddress.IPv4Address(added[PROXY_NAME]) == home[1]
        assert args[-1] == "/sbin/init" and "--systemd" in args


def test_a_model_change_changes_only_the_hosts_it_touches(estate, plan):
    site = estate.sites[0]
    pools = list(site.compute_pools)
    pools[0] = pools[0].model_copy(update={"flavor": pools[0].flavor.model_copy(
        update={"memory_gb": 2})})
    changed = estate.model_copy(update={"sites": [
        site.model_copy(update={"compute_pools": pools}), *estate.sites[1:]]})
    before = {h.container: h.recipe for h in plan.hosts}
    after = {h.container: h.recipe for h in lab_plan(changed).hosts}
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {f"cc-{site.name}-{pools[0].name}-1"}


def test_routes_reach_every_other_zone_through_the_home_gateway(plan):
    spec = next(h for h in plan.hosts if len(h.networks) == 1)
    routes = router.host_routes(plan, spec)
    home = next(n for n in plan.networks if n.name == spec.networks[0][0])
    assert {dst for dst, _ in routes} == {str(n.subnet) for n in plan.networks} - {
        str(home.subnet)}
    assert {via for _, via in routes} == {str(home.gateway)}


def test_router_drops_whatever_would_leave_the_lab():
    rules = router.ruleset("lab", ["podman3", "podman1"])
    assert 'elements = { "podman1", "podman3" }' in rules
    assert "iifname @lab_bridges oifname @lab_bridges accept" in rules
    assert "iifname @lab_bridges counter drop" in rules
    assert "oifname @lab_bridges counter drop" in rules


def test_inventory_groups_by_site_zone_and_role(estate):
    inventory = build_inventory(estate, lab_connection(estate))["all"]
    groups = inventory["children"]
    assert set(groups["site_dr_miyun"]["hosts"]) == {"dr-miyun-ops-1", "dr-miyun-vault-1"}
    assert set(groups["role_database"]["hosts"]) == {
        "primary-database-1", "primary-database-2", "primary-database-3",
        "standby-database-1", "standby-database-2"}
    assert "primary-node-1" in groups["zone_primary_storage"]["hosts"]
    host = inventory["hosts"]["primary-database-2"]
    # Over SSH as the automation account, host keys checked against the lab's own file.
    assert "ansible_connection" not in host
    assert host["ansible_host"] == host["courtcloud_address"] == "172.30.2.11"
    assert "StrictHostKeyChecking=yes" in host["ansible_ssh_common_args"]
    assert inventory["vars"]["ansible_user"] == "courtcloud"
    assert inventory["vars"]["baseline_ssh_automation_group"] == "automation"
    # The controller is admitted from the gateway of each zone the host is on.
    assert inventory["hosts"]["primary-node-1"]["courtcloud_controller_addresses"] == [
        "172.30.1.1", "172.30.4.1"]
    assert inventory["vars"]["courtcloud_security_level"] == 3


def test_the_bench_is_apart_from_the_zones(estate, plan):
    assert plan.bench is not None
    assert plan.bench.network.subnet == estate.lab.bench_cidr
    assert plan.bench.network not in plan.networks
    assert "--internal" in plan.bench.network.create_args()
    rules = router.ruleset("lab", ["podman1"], bench="podman9")
    assert 'iifname "podman9" counter drop' in rules and 'oifname "podman9" counter drop' in rules


def test_hosts_may_not_change_the_machines_clock_or_audit_rules(plan):
    args = plan.hosts[0].run_args("image-id")
    caps = args[args.index("--cap-add") + 1].split(",")
    assert "SYS_TIME" not in caps and "AUDIT_CONTROL" not in caps
    assert "NET_ADMIN" in caps


def test_a_host_whose_process_was_killed_behind_podmans_back_is_remade():
    from courtcloud.lab.lab import _lost

    # podman keeps saying "running" after the machine's processes were killed; such a
    # container can be neither stopped nor started, so `lab up` must remake it.
    assert _lost({"State": {"Running": True, "Pid": 2**22 + 1}})  # above pid_max
    assert not _lost({"State": {"Running": True, "Pid": os.getpid()}})
    assert not _lost({"State": {"Running": False, "Pid": 0}})


def test_every_address_has_its_own_fixed_mac(plan):
    macs = [mac_address(a) for h in plan.hosts for _, a in h.networks]
    assert len(set(macs)) == len(macs)
    assert mac_address("172.30.1.13") == "02:cc:ac:1e:01:0d"
    assert all(int(m.split(":")[0], 16) & 0b11 == 0b10 for m in macs)  # local, unicast


def test_only_edge_hosts_may_use_raw_sockets(plan):
    for spec in plan.hosts:
        assert ("NET_RAW" in spec.capabilities) == ("edge" in spec.roles), spec.hostname
        assert "SYS_TIME" not in spec.capabilities and "SYS_ADMIN" not in spec.capabilities


def test_a_hosts_network_file_names_its_macs_then_its_routes(plan):
    spec = next(h for h in plan.hosts if h.hostname == "primary-node-1")
    text = router.network_text(spec, router.host_routes(plan, spec))
    lines = [line.split() for line in text.splitlines() if not line.startswith("#")]
    links = [line for line in lines if line[0] == "link"]
    routes = [line for line in lines if line[0] == "route"]
    assert links == [["link", a, mac_address(a)] for _, a in spec.networks]
    assert routes == [["route", dst, via] for dst, via in router.host_routes(plan, spec)]
    assert lines == links + routes  # MACs first: the routes' next hop must find the host
