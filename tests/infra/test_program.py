"""The real program (`infra/__main__.py`) run end to end for each production stack, the
Pulumi engine mocked (`set_mocks` before the program is imported and executed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from courtcloud.infra.engine import run_stack, stack_config
from courtcloud.infra.mocks import CourtMocks
from courtcloud.infra.report import totals
from courtcloud.infra.verdicts import evaluate, stack_policy_config
from courtcloud.model import ModelError, site_hosts
from courtcloud.model.reference import WHITE_PAPER_CAPACITY
from courtcloud.model.schema import REDUNDANT_ROLES
from courtcloud.model.summary import site_totals
from infra.openstack.derive import DEFAULT_HYPERVISORS
from infra.policy.rules import POLICIES

PROJECT = Path(__file__).resolve().parents[2]
INSTANCE = "openstack:compute/instance:Instance"
PORT = "openstack:networking/port:Port"
VOLUME = "openstack:blockstorage/volume:Volume"
SITE_OF = {"primary": "primary", "standby": "standby", "miyun": "dr-miyun"}


def test_production_totals_match_the_white_paper(production_runs):
    assert list(production_runs) == ["primary", "standby", "miyun"]
    figures = [totals(run) for run in production_runs.values()]
    assert sum(f["vms"] for f in figures) == WHITE_PAPER_CAPACITY["vms"] == 346
    assert sum(f["memory_tb"] for f in figures) == pytest.approx(8)
    assert sum(f["storage_tb"] for f in figures) == pytest.approx(189)
    assert sum(f["dr_backup_tb"] for f in figures) == pytest.approx(51)


def test_each_stack_builds_exactly_its_sites_hosts(production_runs, production_estate):
    for stack, run in production_runs.items():
        site = production_estate.site(SITE_OF[stack])
        expected = {h.name: h for h in site_hosts(site)}
        servers = {s.name: s for s in run.of_type(INSTANCE)}
        assert set(servers) == set(expected)
        assert len(servers) == site_totals(site)["vms"]
        ports = {p.name: p for p in run.of_type(PORT)}
        for name, host in expected.items():
            meta = servers[name].inputs["metadata"]
            assert meta["courtcloud-zone"] == host.home_zone
            assert f"zone={host.home_zone}" in servers[name].inputs["tags"]
            for zone, address in host.addresses.items():
                fixed = ports[f"{name}-{zone}"].inputs["fixedIps"]
                assert fixed[0]["ipAddress"] == str(address)


def test_every_replicated_role_is_spread_by_anti_affinity(production_runs, production_estate):
    for stack, run in production_runs.items():
        site = production_estate.site(SITE_OF[stack])
        groups = {g.id: g.inputs for g in run.of_type(
            "openstack:compute/serverGroup:ServerGroup")}
        for pool in site.compute_pools:
            if pool.count < 2 or not REDUNDANT_ROLES.intersection(pool.roles):
                continue
            servers = [s for s in run.of_type(INSTANCE)
                       if s.inputs["metadata"]["courtcloud-pool"] == pool.name]
            assert len(servers) == pool.count
            used = {s.inputs["schedulerHints"][0]["group"] for s in servers}
            assert len(used) == 1, pool.name
            # hard anti-affinity while the pool fits on distinct hypervisors; a larger pool
            # (36 workers) would leave hosts unschedulable, so it spreads as far as it can
            expected = ("anti-affinity" if pool.count <= DEFAULT_HYPERVISORS
                        else "soft-anti-affinity")
            assert groups[used.pop()]["policies"] == expected, pool.name


def test_every_volume_is_on_an_encrypted_type(production_runs, production_estate):
    from infra.openstack import derive

    for run in production_runs.values():
        kinds = {t.inputs["name"]: t.inputs["extraSpecs"] for t in run.of_type(
            "openstack:blockstorage/volumeTypeV3:VolumeTypeV3")}
        backends = {b for site in production_estate.sites
                    for b in derive.encrypted_backends(site)}
        for volume in run.of_type(VOLUME):
            assert kinds[volume.inputs["volumeType"]]["volume_backend_name"] in backends
    primary = production_estate.site("primary")
    foundation = sum(p.count for p in primary.compute_pools
                     if set(p.roles) <= derive.FOUNDATION_ROLES)
    assert foundation == 15  # Ceph (mon, osd, rgw), bastions, time sources
    assert len(production_runs["primary"].of_type(VOLUME)) == 169 - foundation
    assert production_runs["miyun"].of_type(VOLUME) == []  # root disks on the hypervisors


def test_every_disk_on_a_hypervisor_is_encrypted_by_its_flavor(production_runs):
    for run in production_runs.values():
        for flavor in run.of_type("openstack:compute/flavor:Flavor"):
            assert flavor.inputs["extraSpecs"]["hw:ephemeral_encryption"] == "True"
    servers = production_runs["primary"].of_type(INSTANCE)
    local = [s for s in servers if not s.inputs.get("blockDevices")]
    assert {s.inputs["metadata"]["courtcloud-pool"] for s in local} == {
        "bastion", "time", "ceph-mon", "ceph-osd", "ceph-rgw"}
    assert all(s.inputs["imageId"] and not s.inputs.get("imageName") for s in local)


def test_security_groups_start_empty_and_hold_only_derived_rules(production_runs):
    from infra.openstack import derive

    run = production_runs["primary"]
    for group in run.of_type("openstack:networking/secGroup:SecGroup"):
        assert group.inputs["deleteDefaultRules"] is True
    rules = run.of_type("openstack:networking/secGroupRule:SecGroupRule")
    world = [r for r in rules if r.inputs.get("remoteIpPrefix") == derive.WORLD]
    assert sorted(int(r.inputs["portRangeMin"]) for r in world) == [80, 443, 443]
    assert all(r.inputs["description"].startswith("edge tier") for r in world)


def test_policy_pack_passes_on_every_production_stack(production_runs):
    for stack, run in production_runs.items():
        config = stack_policy_config(PROJECT, run, 3)
        for verdict in evaluate(POLICIES, run.resources, stack, config):
            assert verdict.passed, (stack, verdict.policy, verdict.violations[:3])


def test_charts_render_with_the_models_replicas(production_runs, production_estate):
    run = production_runs["primary"]
    deployments = {d.inputs["metadata"]["name"]: d.inputs
                   for d in run.of_type("kubernetes:apps/v1:Deployment")}
    replicas = {str(a.name): a.replicas for a in production_estate.site("primary").apps}
    assert {name.rsplit("-", 1)[-1]: d["spec"]["replicas"] for name, d in deployments.items()} \
        == {app: replicas[app] for app in ("chain", "litigation", "ocr", "asr")}
    for namespace in run.of_type("kubernetes:core/v1:Namespace"):
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.30"


def test_dr_site_reads_its_peers_by_stack_reference(production_runs):
    miyun = production_runs["miyun"]
    references = {r.inputs["name"] for r in miyun.of_type("pulumi:pulumi:StackReference")}
    assert references == {"organization/courtcloud/primary", "organization/courtcloud/standby"}
    records = {r.inputs["name"]: r.inputs["records"] for r in miyun.of_type(
        "openstack:dns/recordSet:RecordSet")}
    primary = production_runs["primary"].outputs["primary"]["publishedAddresses"]
    standby = production_runs["standby"].outputs["standby"]["publishedAddresses"]
    assert records["edge.bjinternet.court."] == [primary["edge.bjinternet.court"]]
    assert records["edge.failover.bjinternet.court."] == [standby["edge.bjinternet.court"]]
    vault = {c.inputs["name"] for c in miyun.of_type(
        "openstack:objectstorage/container:Container")}
    assert vault == {"dr-miyun-primary-backups", "dr-miyun-primary-objects",
                     "dr-miyun-standby-backups", "dr-miyun-standby-objects"}


def test_secrets_are_generated_or_come_from_secret_config(production_runs):
    run = production_runs["primary"]
    generated = {r.name for r in run.of_type("random:index/randomPassword:RandomPassword")}
    assert generated == {"primary-postgresSuperuser", "primary-postgresReplication",
                         "primary-patroniRest"}
    exported = run.outputs["primary-secrets"]["secrets"]
    assert all(len(value) == 32 for value in exported.values())
    # no literal secret travels in any resource's inputs
    text = json.dumps([r.inputs for r in run.resources], default=str)
    for value in exported.values():
        assert value not in text

    # the smallest stack with databases: a secret set in the stack's config replaces one
    given = run_stack(PROJECT, "miyun",
                      secrets={"site-secrets:postgresSuperuser": "from-secret-config"})
    names = {r.name for r in given.of_type("random:index/randomPassword:RandomPassword")}
    assert names == {"dr-miyun-postgresReplication", "dr-miyun-patroniRest"}
    assert given.outputs["dr-miyun-secrets"]["secrets"]["postgresSuperuser"] == (
        "from-secret-config")


def test_no_secret_crosses_to_another_stack(production_runs):
    """What a StackReference reads (the export named after the site) holds no key and no
    password; those are exported apart, for the site's operators, and Miyun reads only the
    published addresses."""
    for name, run in production_runs.items():
        for site, public in run.outputs.items():
            if site.endswith("-secrets"):
                continue
            secret = run.outputs[f"{site}-secrets"]
            values = [*secret["secrets"].values(), secret["ansiblePrivateKey"]]
            text = json.dumps(public, default=str)
            assert "secrets" not in public and "ansiblePrivateKey" not in public, (name, site)
            assert not any(v and str(v) in text for v in values), (name, site)


def _config_with(change) -> dict[str, str]:
    config = stack_config(PROJECT, "primary")
    sites = json.loads(config["courtcloud:sites"])
    change(sites[0])
    config["courtcloud:sites"] = json.dumps(sites)
    return config


def test_an_invalid_stack_fails_before_any_resource_naming_the_field():
    def bad(site: dict[str, Any]) -> None:
        site["computePools"][0]["count"] = "two"

    mocks = CourtMocks(PROJECT / "charts")
    with pytest.raises(ModelError) as caught:
        run_stack(PROJECT, "primary", config=_config_with(bad), mocks=mocks)
    fields = [p.field for p in caught.value.problems]
    assert fields == ["courtcloud:sites[0].computePools[0].count"]
    assert caught.value.problems[0].file == "Pulumi.primary.yaml"
    assert mocks.declared == []


def test_a_rule_breaking_stack_also_fails_before_any_resource():
    def single_database(site: dict[str, Any]) -> None:
        next(p for p in site["computePools"] if p["name"] == "database")["count"] = 1

    mocks = CourtMocks(PROJECT / "charts")
    with pytest.raises(ModelError) as caught:
        run_stack(PROJECT, "primary", config=_config_with(single_database), mocks=mocks)
    assert any(p.field.endswith(".count") for p in caught.value.problems)
    assert mocks.declared == []


def _index(run) -> dict[tuple[str, str], str]:
    return {(r.type, r.name): json.dumps(r.inputs, sort_keys=True, default=str)
            for r in run.resources}


def test_a_model_change_changes_only_the_resources_it_should(production_runs):
    def one_more_cache(site: dict[str, Any]) -> None:
        next(p for p in site["computePools"] if p["name"] == "cache")["count"] = 4

    before = _index(production_runs["primary"])
    after = _index(run_stack(PROJECT, "primary", config=_config_with(one_more_cache)))
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert removed == []
    assert added == [
        ("openstack:blockstorage/volume:Volume", "primary-cache-4-boot"),
        ("openstack:compute/instance:Instance", "primary-cache-4"),
        ("openstack:networking/port:Port", "primary-cache-4-data"),
    ]
    namespaces = ["asr", "chain", "exchange", "litigation", "ocr"]
    assert changed == sorted([
        ("courtcloud:openstack:HostPool", "primary-cache"),  # its count
        ("openstack:blockstorage/quoteSetV3:QuoteSetV3", "primary-volume-quota"),
        ("openstack:compute/quotaSetV2:QuotaSetV2", "primary-compute-quota"),
        ("openstack:networking/quotaV2:QuotaV2", "primary-network-quota"),
        # the apps' egress to the cache pool lists its hosts one by one
        *[("kubernetes:networking.k8s.io/v1:NetworkPolicy",
           f"primary-k8s-court-{n}-allow-site-flows") for n in namespaces],
    ])


def test_every_redirect_policy_has_a_rule_that_matches_every_path(production_runs):
    """Octavia applies an L7 policy only through its rules: a policy alone leaves port 80
    answering 503."""
    seen = 0
    for name, run in production_runs.items():
        policies = run.of_type("openstack:loadbalancer/l7PolicyV2:L7PolicyV2")
        rules = run.of_type("openstack:loadbalancer/l7RuleV2:L7RuleV2")
        seen += len(policies)
        for policy in policies:
            mine = [r.inputs for r in rules if r.inputs["l7policyId"] == policy.id]
            assert mine == [{"l7policyId": policy.id, "type": "PATH",
                             "compareType": "STARTS_WITH", "value": "/"}], (name, policy.name)
    assert seen  # the primary and standby sites publish port 80


def test_a_plan_never_replaces_or_deletes_what_holds_the_courts_data(production_runs,
                                                                    production_estate):
    """What a real `pulumi up` does with these options: the project, the evidence and vault
    containers, the DNS zone and the data hosts with their disks are protected; a new image,
    key or cloud-init text replaces no server or volume; a port is freed before its
    replacement takes its fixed address."""
    from infra.openstack import derive

    def opts(run, type_):
        return [(r, run.opts(r)) for r in run.of_type(type_)]

    primary, miyun = production_runs["primary"], production_runs["miyun"]
    for r, o in opts(primary, "openstack:identity/project:Project"):
        assert o.protect, r.name
    for run in (primary, miyun):
        for r, o in opts(run, "openstack:objectstorage/container:Container"):
            assert o.protect and o.retain_on_delete, r.name
    for r, o in opts(miyun, "openstack:dns/zone:Zone"):
        assert o.protect and o.retain_on_delete, r.name
    servers = opts(primary, "openstack:compute/instance:Instance")
    site = production_estate.site("primary")
    stateful = {h.name for p in site.compute_pools if derive.stateful(p)
                for h in derive.pool_hosts(site)[p.name]}
    assert stateful and any(r.name not in stateful for r, _ in servers)
    for r, o in servers:
        assert {"user_data", "key_pair", "image_id", "block_devices"} <= set(o.ignore_changes)
        assert bool(o.protect) == (r.name in stateful), r.name
    for r, o in opts(primary, "openstack:blockstorage/volume:Volume"):
        assert "image_id" in o.ignore_changes, r.name
    for r, o in opts(primary, "openstack:networking/port:Port"):
        assert o.delete_before_replace, r.name



def test_nothing_in_a_project_is_created_before_its_quotas(production_runs):
    """The provider scoped to the site's project (which every resource inside it uses)
    waits for the project's compute, network and volume quotas."""
    run = production_runs["primary"]
    (provider,) = [r for r in run.of_type("pulumi:providers:openstack")
                   if r.name == "primary-in-project"]
    waits = {d._name for d in run.opts(provider).depends_on}  # type: ignore[attr-defined]
    assert waits == {"primary-compute-quota", "primary-network-quota", "primary-volume-quota",
                     "primary-deployer"}


def test_the_apps_stage_waits_for_the_sites_own_cluster():
    """Without the site's kubeconfig, nothing is deployed to Kubernetes (the ambient context
    could be another site's cluster); the cloud stage is declared whole."""
    before = run_stack(PROJECT, "primary", cluster=False)
    assert not [r for r in before.resources if r.type.startswith("kubernetes:")]
    assert before.of_type("openstack:compute/instance:Instance")
    after = run_stack(PROJECT, "primary")  # with the (mocked) cluster's kubeconfig
    assert after.of_type("pulumi:providers:kubernetes")
    assert after.of_type("kubernetes:apps/v1:Deployment")


def test_every_resource_of_a_site_goes_through_its_projects_provider(production_runs):
    """Only what makes the project (the project, its quotas, the flavors an administrator
    owns) uses the default provider; everything else, the Miyun vault and the court's DNS
    zone included, is created inside the site's project."""
    outside = {"openstack:identity/project:Project", "openstack:compute/flavor:Flavor",
               "openstack:compute/quotaSetV2:QuotaSetV2",
               "openstack:networking/quotaV2:QuotaV2",
               "openstack:blockstorage/quoteSetV3:QuoteSetV3",
               "openstack:compute/flavorAccess:FlavorAccess",
               "openstack:identity/roleAssignment:RoleAssignment"}
    for stack, run in production_runs.items():
        mine = [r for r in run.resources if r.custom and r.package == "openstack"]
        assert mine, stack
        for r in mine:
            inside = "-in-project::" in r.provider
            assert inside == (r.type not in outside), (stack, r.type, r.name, r.provider)
    miyun = production_runs["miyun"]
    assert miyun.of_type("openstack:dns/zone:Zone")
    assert miyun.of_type("openstack:objectstorage/container:Container")


def test_the_sites_provider_logs_in_to_the_new_project_explicitly(production_runs):
    """With OS_CLOUD set, a provider given only tenant_id would scope its token to the
    clouds.yaml project; the site's provider carries complete auth for the new project,
    and the deploying user is granted a role there before the provider is used."""
    run = production_runs["primary"]
    project = run.named("openstack:identity/project:Project", "primary-project")
    provider = run.named("pulumi:providers:openstack", "primary-in-project")
    config = run.config
    assert provider.inputs["tenantId"] == project.id
    assert provider.inputs["authUrl"] == config["site-cloud:authUrl"]
    assert provider.inputs["userName"] == config["site-cloud:deployUser"]
    assert provider.inputs["userDomainName"] == "Default"
    assert provider.inputs["password"]
    assert "cloud" not in provider.inputs
    grant = run.named("openstack:identity/roleAssignment:RoleAssignment", "primary-deployer")
    assert grant.inputs["projectId"] == project.id
    assert grant.inputs["userId"] == "courtcloud-deploy-user-id"
    assert grant.inputs["roleId"] == "member-role-id"
    waits = {d._name for d in run.opts(provider).depends_on}  # type: ignore[attr-defined]
    assert "primary-deployer" in waits


def test_a_site_is_deployed_in_two_stages_around_its_own_ceph():
    """Until the site's Ceph serves Cinder volumes, only the foundation (Ceph hosts,
    bastions, time sources, on encrypted hypervisor disks) is declared, with a warning
    naming the next steps; no volume is asked of a back end that does not exist."""
    first = run_stack(PROJECT, "primary", storage=False, cluster=False)
    assert first.of_type(VOLUME) == []
    pools = {s.inputs["metadata"]["courtcloud-pool"] for s in first.of_type(INSTANCE)}
    assert pools == {"bastion", "time", "ceph-mon", "ceph-osd", "ceph-rgw"}
    assert all(not s.inputs.get("blockDevices") for s in first.of_type(INSTANCE))
    # the networks, tiers and storage types are there already
    assert first.of_type("openstack:networking/secGroupRule:SecGroupRule")
    assert first.of_type("openstack:blockstorage/volumeTypeV3:VolumeTypeV3")


def test_the_core_router_reaches_the_other_sites_through_the_wan(production_runs,
                                                                  production_estate):
    run = production_runs["primary"]
    routes = run.of_type("openstack:networking/routerRoute:RouterRoute")
    others = {str(z.cidr) for s in production_estate.sites if s.name != "primary"
              for z in s.zones if z.kind != "interconnect"}
    assert {r.inputs["destinationCidr"] for r in routes} == others
    assert {r.inputs["nextHop"] for r in routes} == {run.config["site-cloud:wanNextHop"]}
    core = run.named("openstack:networking/router:Router", "primary-core-router")
    assert {r.inputs["routerId"] for r in routes} == {core.id}
    for route in routes:
        waits = {d._name for d in run.opts(route).depends_on}  # type: ignore[attr-defined]
        assert waits == {"primary-link"}  # the router's interface in the interconnect zone


@pytest.mark.parametrize(("hop", "says"), [
    (None, "site-cloud:wanNextHop is not set"),
    ("10.10.4.7", "not a host of the interconnect zone"),
    ("10.10.28.1", "the site's own router"),
    ("wan-router", "is not an IPv4 address"),
])
def test_a_wrong_or_missing_wan_next_hop_is_named(hop, says):
    config = stack_config(PROJECT, "primary")
    config.pop("site-cloud:wanNextHop")
    if hop:
        config["site-cloud:wanNextHop"] = hop
    with pytest.raises(Exception, match=says):
        run_stack(PROJECT, "primary", config=config, cluster=False)


def test_the_apps_run_images_from_the_registry_by_digest(production_runs):
    from courtcloud.infra.engine import MOCK_REGISTRY, mock_digests

    digests = mock_digests()
    for stack, run in production_runs.items():
        workloads = run.of_type("kubernetes:apps/v1:Deployment")
        assert workloads, stack
        for workload in workloads:
            for container in workload.inputs["spec"]["template"]["spec"]["containers"]:
                app = container["name"]
                assert container["image"] == f"{MOCK_REGISTRY}/{app}@{digests[app]}"


def test_an_app_without_a_digest_stops_the_apps_stage_naming_it():
    config = stack_config(PROJECT, "primary")
    config["site-k8s:images"] = json.dumps({"chain": "sha256:" + "0" * 64})
    with pytest.raises(Exception, match="no digest for app 'litigation' in site-k8s:images"):
        run_stack(PROJECT, "primary", config=config)


def test_the_ingress_namespace_carries_the_label_the_apps_let_in(production_runs):
    from infra.k8s.apps import INGRESS_NAMESPACE, ingress_label

    run = production_runs["primary"]
    namespaces = {n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"]
                  for n in run.of_type("kubernetes:core/v1:Namespace")}
    label = ingress_label()
    assert label.items() <= namespaces[INGRESS_NAMESPACE].items()
    assert [n for n, labels in namespaces.items() if label.items() <= labels.items()] == [
        INGRESS_NAMESPACE]
    policies = [p for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if p.inputs["metadata"]["namespace"] == INGRESS_NAMESPACE]
    from_edge = next(p for p in policies if p.inputs["metadata"]["name"] == "from-edge")
    sources = {b["ipBlock"]["cidr"] for b in from_edge.inputs["spec"]["ingress"][0]["from"]}
    edge = {f"{a}/32" for h in site_hosts(run_site(run)) if h.pool in ("edge", "exchange-intra")
            for a in h.addresses.values()}
    assert sources == edge


def run_site(run: Any) -> Any:
    from courtcloud.model import load_project_estate

    return load_project_estate(PROJECT, "production").site("primary")
