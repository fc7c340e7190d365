"""What the OpenStack components build, as plain data derived from the model."""

from __future__ import annotations

import ipaddress

import yaml

from courtcloud import automation
from courtcloud.model import HostRole, ZoneKind, site_hosts
from courtcloud.model.schema import REDUNDANT_ROLES
from infra.openstack import derive
from infra.openstack.compute import cloud_init


def test_only_the_edge_tier_faces_the_world_and_only_on_published_ports(production_estate):
    for site in production_estate.sites:
        published = {(f.destination, p) for f in site.flows if f.source == "internet"
                     for p in f.ports}
        for rule in derive.site_rules(production_estate, site):
            if rule.remote_cidr == derive.WORLD:
                assert rule.tier == "edge" and rule.direction == "ingress"
                assert (rule.group.removeprefix("edge-"), (rule.port_min, rule.port_max)) \
                    in published


def test_every_flow_becomes_point_to_point_ingress(production_estate):
    site = production_estate.site("primary")
    rules = derive.site_rules(production_estate, site)
    for flow in site.flows:
        mine = [r for r in rules if flow.name in r.flow.split(" + ") and r.direction == "ingress"]
        assert len(mine) == len(flow.ports), flow.name
        for rule in mine:
            assert rule.remote_group or rule.remote_cidr
            if flow.source != "internet":
                assert rule.remote_cidr != derive.WORLD


def test_postgres_from_workers_is_host_tier_by_group(production_estate):
    site = production_estate.site("primary")
    rules = derive.site_rules(production_estate, site)
    ingress = [r for r in rules if r.flow == "apps-to-postgres" and r.direction == "ingress"]
    assert [(r.tier, r.group, r.remote_group, r.port_min) for r in ingress] == [
        ("host", "host-database", "host-k8s-worker", 5432)]
    egress = [r for r in rules if r.flow == "apps-to-postgres" and r.direction == "egress"]
    assert [(r.group, r.remote_group) for r in egress] == [("host-k8s-worker", "host-database")]


def test_cross_site_links_follow_replication_and_backup(production_estate):
    links = {(k.purpose, k.sender, k.receiver, k.receiver_pool, k.ports)
             for k in derive.cross_site_links(production_estate)}
    assert ("database-replication", "primary", "standby", "database",
            ((5432, 5432), (8008, 8008))) in links
    assert ("database-replication", "standby", "primary", "database",
            ((5432, 5432), (8008, 8008))) in links
    assert ("backup", "primary", "dr-miyun", "vault", ((8432, 8432),)) in links
    assert ("backup", "standby", "dr-miyun", "vault", ((8432, 8432),)) in links
    assert ("object-replication", "primary", "dr-miyun", "ceph-rgw", ((443, 443),)) in links
    # the standby's database hosts, one by one, may reach the primary's database pool
    primary = production_estate.site("primary")
    standby_db = {f"{h.address}/32" for h in site_hosts(production_estate.site("standby"))
                  if HostRole.database in h.roles}
    remote = {r.remote_cidr for r in derive.link_rules(production_estate, primary)
              if r.direction == "ingress" and r.group == "host-database"}
    assert remote == standby_db


def test_replicated_roles_get_hard_anti_affinity(production_estate):
    for site in production_estate.sites:
        for pool in site.compute_pools:
            policy = derive.server_group_policy(pool)
            if pool.count >= 2 and REDUNDANT_ROLES.intersection(pool.roles):
                hard = pool.count <= derive.DEFAULT_HYPERVISORS
                assert policy == ("anti-affinity" if hard else "soft-anti-affinity"), pool.name
                # with as many hypervisors as hosts, every replicated pool is hard
                assert derive.server_group_policy(pool, pool.count) == "anti-affinity"
            elif pool.count >= 2:
                assert policy == "soft-anti-affinity", pool.name
            else:
                assert policy is None


def test_subnets_keep_the_models_address_plan(production_estate):
    site = production_estate.site("primary")
    for plan in derive.subnet_plans(site):
        zone = site.zone(plan.zone)
        assert plan.gateway == str(zone.cidr[1])
        assert (plan.dynamic_start, plan.dynamic_end) == (str(zone.cidr[2]), str(zone.cidr[9]))
        facing = zone.kind in derive.BORDER_KINDS
        assert plan.router == ("border" if facing else "core")
    link = next(p for p in derive.subnet_plans(site) if p.kind is ZoneKind.interconnect)
    assert link.router == "core"


def test_quotas_are_sized_to_the_model(production_estate):
    site = production_estate.site("primary")
    counts = derive.exact_counts(production_estate, site)
    quotas = derive.quotas(production_estate, site)
    hosts = site_hosts(site)
    assert counts["instances"] == len(hosts) == 169
    assert counts["ram_mb"] == sum(h.flavor.memory_gb for h in hosts) * 1024
    assert counts["floating_ips"] == 2
    # Neutron's own rules count too: the default group's four, and the two egress rules
    # each new group has until they are deleted
    groups = derive.security_groups(site)
    assert counts["security_group_rules"] == (
        len(derive.site_rules(production_estate, site)) + 4 + 2 * len(groups))
    # and every quota leaves room above its count (a replacement before its original goes)
    for key, count in counts.items():
        assert quotas[key] >= count + max(1, count // 5), key


def test_published_endpoints_are_the_internet_flows(production_estate):
    endpoints = derive.published_endpoints(production_estate, production_estate.site("primary"))
    assert [(e.name, e.ports, len(e.members)) for e in endpoints] == [
        ("edge.bjinternet.court", (80, 443), 4),
        ("exchange-inet.bjinternet.court", (443,), 2)]
    for endpoint in endpoints:
        for member in endpoint.members:
            zone = production_estate.site("primary").zone(endpoint.zone)
            assert ipaddress.ip_address(member) in zone.cidr


def test_cloud_init_hands_the_host_to_ansible_without_secrets(production_estate):
    site = production_estate.site("primary")
    host = next(h for h in site_hosts(site) if h.pool == "database")
    text = cloud_init(production_estate, site, host, "ssh-ed25519 AAAAC3Nz automation\n")
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    # The account Ansible logs in as: the key only, in the group the baseline lets in by key.
    [account] = document["users"]
    assert account["name"] == automation.USER and account["groups"] == [automation.GROUP]
    assert account["lock_passwd"] is True
    assert account["ssh_authorized_keys"] == ["ssh-ed25519 AAAAC3Nz automation"]
    assert document["hostname"] == "primary-database-1"
    assert document["ssh_pwauth"] is False and document["disable_root"] is True
    assert "10.10.8.10" in document["write_files"][0]["content"]
    assert "password" not in text.lower()


def test_cross_site_flows_the_model_states_replace_derived_links():
    from pathlib import Path

    from courtcloud.model import load_project_estate

    lab = load_project_estate(Path(__file__).resolve().parents[2], "lab")
    vault_site, primary = lab.site("dr-miyun"), lab.site("primary")
    primary_db = {f"{a}/32" for h in site_hosts(primary) if h.pool == "database"
                  for a in h.addresses.values()}
    ingress = {r.remote_cidr for r in derive.site_rules(lab, vault_site)
               if r.flow == "backups-from-primary" and r.direction == "ingress"}
    assert ingress == primary_db
    egress = [r for r in derive.site_rules(lab, primary)
              if r.flow == "dr-miyun/backups-from-primary"]
    assert {(r.group, r.direction, r.port_min) for r in egress} == {
        ("host-database", "egress", 8432)}
    # the model states these flows, so nothing is derived from the backup settings as well
    assert not [r for r in derive.site_rules(lab, primary) if r.flow.startswith("backup-to-")]


def test_hosts_may_not_be_placed_in_the_interconnect_zone(edit_stack):
    import pytest

    from courtcloud.model import ModelError, validate_file

    def into_link(config):
        config["courtcloud:sites"][0]["computePools"][0]["zones"].append("link")

    path = edit_stack("Pulumi.primary.yaml", into_link)
    with pytest.raises(ModelError) as caught:
        validate_file(path)
    assert [p.field for p in caught.value.problems] == [
        "courtcloud:sites[0].computePools[0].zones"]


def test_rules_are_named_by_what_they_are_so_a_new_flow_renames_none(production_estate):
    """Adding a flow as a site's second adds that flow's rules and leaves every other
    rule's name alone (an index in the name renamed 111 of 113, which Neutron refuses)."""
    from courtcloud.model.schema import Flow

    site = production_estate.site("primary")
    before = {r.key: r for r in derive.site_rules(production_estate, site)}
    flow = Flow(name="metrics-scrape-data", source="ops", destination="data", ports=[9187])
    grown = site.model_copy(update={"flows": [site.flows[0], flow, *site.flows[1:]]})
    estate = production_estate.model_copy(update={"sites": [
        grown if s.name == site.name else s for s in production_estate.sites]})
    after = {r.key: r for r in derive.site_rules(estate, grown)}
    assert set(before) <= set(after)
    added = [after[k] for k in set(after) - set(before)]
    assert added and all(r.flow == flow.name for r in added)


def test_no_two_rules_are_one_to_neutron(production_estate):
    """Two flows that imply the same rule make one rule naming both (a second identical
    rule is a 409 from Neutron)."""
    for site in production_estate.sites:
        rules = derive.site_rules(production_estate, site)
        keys = [r.key for r in rules]
        assert len(keys) == len(set(keys)), site.name
    merged = [r for s in production_estate.sites for r in derive.site_rules(production_estate, s)
              if " + " in r.flow]
    assert merged  # Miyun's vault: two flows need the same port from the same group
