"""Component by component, under Pulumi's mocks (set before any component is imported),
asserting on the resources' outputs with `@pulumi.runtime.test`."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from courtcloud.infra.engine import mock_digests
from courtcloud.infra.mocks import CourtMocks

PROJECT = Path(__file__).resolve().parents[2]
pulumi.runtime.set_mocks(CourtMocks(PROJECT / "charts"), project="courtcloud", stack="primary",
                         preview=False)

from courtcloud.model import load_project_estate, site_hosts  # noqa: E402
from infra.k8s import SiteApps, SiteAppsArgs  # noqa: E402
from infra.openstack import derive  # noqa: E402
from infra.openstack.compute import HostPool, HostPoolArgs  # noqa: E402
from infra.openstack.network import SiteZones, ZonesArgs  # noqa: E402
from infra.openstack.security import SecurityTiers, TiersArgs  # noqa: E402

ESTATE = load_project_estate(PROJECT, "production")
PRIMARY = ESTATE.site("primary")


@pytest.fixture
def mocks() -> CourtMocks:
    """Fresh mocks for each test (other tests run whole stacks with their own)."""
    fresh = CourtMocks(PROJECT / "charts")
    pulumi.runtime.set_mocks(fresh, project="courtcloud", stack="primary", preview=False)
    return fresh


@pulumi.runtime.test
def test_security_tiers_hold_the_derived_groups_and_rules(mocks):
    tiers = SecurityTiers("t", TiersArgs(ESTATE, PRIMARY))
    expected = {g.key for g in derive.security_groups(PRIMARY)}
    assert set(tiers.groups) == expected

    rules = derive.site_rules(ESTATE, PRIMARY)
    assert len(tiers.rule_resources) == len(rules)

    def check(args: list) -> None:
        names, descriptions = args
        assert sorted(names) == sorted(f"primary-{k}" for k in expected)
        assert descriptions == [r.description for r in rules]

    return pulumi.Output.all(
        pulumi.Output.all(*[g.name for g in tiers.groups.values()]),
        pulumi.Output.all(*[r.description for r in tiers.rule_resources])).apply(check)


@pulumi.runtime.test
def test_zones_get_a_subnet_each_at_the_models_gateway(mocks):
    zones = SiteZones("z", ZonesArgs(PRIMARY, "public"))
    assert set(zones.subnets) == {z.name for z in PRIMARY.zones}

    def check(values: list[str]) -> None:
        assert values == [str(z.cidr[1]) for z in PRIMARY.zones]

    return pulumi.Output.all(*[s.gateway_ip for s in zones.subnets.values()]).apply(check)


@pulumi.runtime.test
def test_a_database_pool_is_three_spread_servers_at_fixed_addresses(mocks):
    pool = PRIMARY.pool("database")
    hosts = [h for h in site_hosts(PRIMARY) if h.pool == "database"]
    zones = SiteZones("z", ZonesArgs(PRIMARY, "public"))
    built = HostPool("p", HostPoolArgs(ESTATE, PRIMARY, pool, hosts, "flavor-id",
                                       "keypair", "ssh-ed25519 AAAA lab", zones.subnets,
                                       zones.networks, ["sg-id"], "primary-volumes", "image-id"))
    assert built.server_group is not None

    def check(args: list) -> None:
        names, policy, group_id, *hints = args
        assert names == ["primary-database-1", "primary-database-2", "primary-database-3"]
        assert policy == "anti-affinity"
        assert all(h[0]["group"] == group_id for h in hints)
        ports = {d.name: d.inputs for d in mocks.declared
                 if d.type == "openstack:networking/port:Port"}
        assert [ports[f"{h.name}-data"]["fixedIps"][0]["ipAddress"] for h in hosts] == [
            "10.10.8.10", "10.10.8.11", "10.10.8.12"]

    names = pulumi.Output.all(*[s.name for s in built.servers])
    return pulumi.Output.all(names, built.server_group.policies, built.server_group.id,
                             *[s.scheduler_hints for s in built.servers]).apply(check)


@pulumi.runtime.test
def test_site_apps_namespaces_deny_by_default_and_render_charts(mocks):
    cluster = PRIMARY.kubernetes[0]
    apps = SiteApps("a", SiteAppsArgs(ESTATE, PRIMARY, cluster, None, "registry.invalid/court",
                                      mock_digests()))
    assert set(apps.namespaces) == {str(a.name) for a in PRIMARY.apps}

    assert set(apps.default_deny) == set(apps.namespaces)
    assert set(apps.charts) == {"chain", "litigation", "ocr", "asr"}  # every app but exchange

    def check(args: list) -> None:
        names, specs, resources = args
        assert sorted(names) == sorted(f"court-{a.name}" for a in PRIMARY.apps)
        for spec in specs:
            assert not spec["pod_selector"]  # every pod
            assert list(spec["policy_types"]) == ["Ingress", "Egress"]
        kinds = sorted(key.split(":")[0] for key in resources)
        assert kinds == ["apps/v1/Deployment", "networking.k8s.io/v1/NetworkPolicy",
                         "policy/v1/PodDisruptionBudget", "v1/Service"]

    return pulumi.Output.all(
        pulumi.Output.all(*[n.metadata.name for n in apps.namespaces.values()]),
        pulumi.Output.all(*[p.spec for p in apps.default_deny.values()]),
        apps.charts["chain"].resources).apply(check)
