"""Churn: what a `pulumi up` would replace when the model changes a little.

The primary stack is planned once as it is, then once per variant of its config (one flow
added, one host more in a pool, a new boot image id, ...), the engine mocked. Two plans
are compared resource by resource, (type, name): added, deleted, and for those in both,
changed inputs that the provider SDK documents as creating a new resource - less the
inputs the resource's `ignore_changes` names - make a replacement; other changes are
in-place updates (courtcloud/infra/churn.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_openstack
import pytest

from courtcloud.infra.churn import Churn, force_new_inputs, ignored_inputs, plan, provider_schemas
from courtcloud.infra.engine import StackRun, run_stack, stack_config
from courtcloud.infra.mocks import Declared

PROJECT = Path(__file__).resolve().parents[2]
STACK = SITE = "primary"

INSTANCE = "openstack:compute/instance:Instance"
PORT = "openstack:networking/port:Port"
VOLUME = "openstack:blockstorage/volume:Volume"
RULE = "openstack:networking/secGroupRule:SecGroupRule"
MEMBER = "openstack:loadbalancer/member:Member"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
QUOTAS = {"openstack:compute/quotaSetV2:QuotaSetV2", "openstack:networking/quotaV2:QuotaV2",
          "openstack:blockstorage/quoteSetV3:QuoteSetV3"}

NEW_FLOW = {"name": "db-metrics", "source": "ops", "destination": "database",
            "ports": [9187]}  # the monitoring hosts scrape the PostgreSQL exporter
GROWN_POOL = "k8s-worker"  # one worker more: the everyday way a site grows
NEW_IMAGE_ID = "5f0c8a52-7d1e-4c3b-9a61-2b8e4f0d9c17"


# --- force-new inputs, read from the provider SDK ------------------------------------------

def test_force_new_inputs_are_what_the_sdk_documents():
    """A few facts the SDK's docstrings state ("Changing this creates a new server." as
    against "... resizes / rebuilds / updates the existing server")."""
    force_new = force_new_inputs()
    instance = force_new[INSTANCE]
    assert {"userData", "networks", "keyPair", "blockDevices", "configDrive"} <= instance
    assert not {"flavorId", "imageId", "imageName", "metadata", "tags", "name"} & instance
    rule = force_new[RULE]
    assert {"remoteIpPrefix", "remoteGroupId", "portRangeMin", "portRangeMax", "direction",
            "protocol", "securityGroupId", "description"} <= rule
    assert "networkId" in force_new[PORT]
    assert not {"fixedIps", "name", "securityGroupIds"} & force_new[PORT]
    assert "imageId" in force_new[VOLUME] and "size" not in force_new[VOLUME]
    assert {"address", "poolId", "protocolPort", "subnetId"} <= force_new[MEMBER]
    assert "pool" in force_new[FLOATING_IP]
    assert "projectId" in force_new["openstack:networking/quotaV2:QuotaV2"]
    assert "port" not in force_new["openstack:networking/quotaV2:QuotaV2"]
    # nested input types count: a database instance's `databases` entries say so
    assert "databases" in force_new["openstack:database/instance:Instance"]


def test_every_resource_the_sdk_registers_is_read():
    """The SDK's own registry of resource modules names every type token; each has its
    input names (as the engine receives them) and the derivation cannot come back empty."""
    init = Path(pulumi_openstack.__file__).read_text(encoding="utf-8")
    registry = re.search(r'resource_modules="""(.*?)"""', init, re.DOTALL)
    assert registry is not None
    tokens = {t for module in json.loads(registry.group(1)) for t in module["classes"]}
    schemas = provider_schemas()
    assert len(tokens) > 100 and tokens <= set(schemas)
    assert sum(len(s.force_new) for s in schemas.values()) > 300
    assert schemas[INSTANCE].input_name("user_data") == "userData"
    assert schemas[RULE].input_name("remote_ip_prefix") == "remoteIpPrefix"


def test_the_comparison_replaces_by_force_new_inputs_less_ignore_changes():
    def server(**inputs: Any) -> Declared:
        return Declared(INSTANCE, "web-1", {"name": "web-1", **inputs}, True, "id")

    before = [server(userData="a", flavorId="f1", networks=[{"port": "p1"}])]
    key = (INSTANCE, "web-1")
    resized = plan(before, [server(userData="a", flavorId="f2", networks=[{"port": "p1"}])], {})
    assert resized.updated == {key: {"flavorId"}} and not resized.replaced
    renumbered = [server(userData="b", flavorId="f1", networks=[{"port": "p2"}])]
    assert plan(before, renumbered, {}).replaced == {key: {"userData", "networks"}}
    # the program names Python arguments and paths; the engine reads input names
    ignoring = {key: pulumi.ResourceOptions(ignore_changes=["user_data", "networks[0].port"])}
    assert ignored_inputs(renumbered[0], ignoring[key], provider_schemas()) == {
        "userData", "networks"}
    assert plan(before, renumbered, ignoring) == Churn()
    gone = plan(before, [Declared(INSTANCE, "web-2", {}, True, "id")], {})
    assert gone.added == {(INSTANCE, "web-2")} and gone.deleted == {key}


# --- the primary site's plans ----------------------------------------------------------------

def _with_site(config: dict[str, str], change: Callable[[dict[str, Any]], None]) -> dict[str, str]:
    """The stack's config with its site's model changed (the stack file is left alone)."""
    sites = json.loads(config["courtcloud:sites"])
    change(next(s for s in sites if s["name"] == SITE))
    return {**config, "courtcloud:sites": json.dumps(sites)}


def _pool(site: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in site["computePools"] if p["name"] == name)


def _add_flow(flow: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda site: site["flows"].append(flow)


def _grow(pool: str) -> Callable[[dict[str, Any]], None]:
    def change(site: dict[str, Any]) -> None:
        _pool(site, pool)["count"] += 1
    return change


def _add_zone(pool: str, zone: str) -> Callable[[dict[str, Any]], None]:
    return lambda site: _pool(site, pool)["zones"].append(zone)


def _variants(config: dict[str, str]) -> dict[str, dict[str, str]]:
    return {
        "flow": _with_site(config, _add_flow(NEW_FLOW)),
        "host": _with_site(config, _grow(GROWN_POOL)),
        "image": {**config, "site-cloud:imageId": NEW_IMAGE_ID},
        # must replace: a server's networks are fixed at creation (the "can fail" check)
        "cache-in-mgmt": _with_site(config, _add_zone("cache", "mgmt")),
        # a flow that needs some rules another flow already made (OSDs reach the monitors)
        "shared-rules": _with_site(config, _add_flow(
            {"name": "ceph-mon-from-storage", "source": "storage", "destination": "ceph-mon",
             "ports": [3300, 6789]})),
    }


@pytest.fixture(scope="module")
def base_config() -> dict[str, str]:
    config = stack_config(PROJECT, STACK)
    assert config.get("site-cloud:imageId") != NEW_IMAGE_ID
    return config


@pytest.fixture(scope="module")
def base(base_config) -> StackRun:
    return run_stack(PROJECT, STACK, config=base_config)


@pytest.fixture(scope="module")
def planned(base, base_config) -> Callable[[str], tuple[StackRun, Churn]]:
    """Each variant run once (on first use) and planned against the base run."""
    configs = _variants(base_config)
    done: dict[str, tuple[StackRun, Churn]] = {}

    def get(name: str) -> tuple[StackRun, Churn]:
        if name not in done:
            run = run_stack(PROJECT, STACK, config=configs[name])
            done[name] = run, plan(base.resources, run.resources, run.options)
        return done[name]
    return get


def test_an_added_flow_only_adds_its_rules(base, planned):
    run, churn = planned("flow")
    assert not churn.replaced and not churn.deleted
    assert churn.added and {t for t, _ in churn.added} == {RULE}
    added = [r for r in run.resources if (r.type, r.name) in churn.added]
    assert {r.inputs["direction"] for r in added} == {"ingress", "egress"}
    from courtcloud.infra.report import rule_flows

    flows = rule_flows(run)  # the model's flows behind each rule (plan's report)
    for rule in added:
        assert flows[rule.inputs["description"]] == NEW_FLOW["name"]
        assert rule.inputs["portRangeMin"] == rule.inputs["portRangeMax"] == 9187
    # the project's rule quota grows with them, in place
    assert {t for t, _ in churn.updated} <= QUOTAS


def test_one_more_host_adds_that_hosts_resources_and_replaces_nothing(base, base_config,
                                                                      planned):
    _, churn = planned("host")
    count = _pool(next(s for s in json.loads(base_config["courtcloud:sites"])
                       if s["name"] == SITE), GROWN_POOL)["count"]
    first, new = f"{SITE}-{GROWN_POOL}-1", f"{SITE}-{GROWN_POOL}-{count + 1}"
    # the new host gets what every host of its pool has: server, ports, boot volume
    like_first = {(r.type, new + r.name[len(first):]) for r in base.resources
                  if r.name == first or r.name.startswith(f"{first}-")}
    assert {INSTANCE, PORT} <= {t for t, _ in like_first}
    assert churn.added == like_first
    assert not churn.deleted
    assert not churn.replaced, sorted(churn.replaced.items())[:10]
    assert "openstack:compute/quotaSetV2:QuotaSetV2" in {t for t, _ in churn.updated}


def test_a_new_image_id_replaces_and_adds_nothing(base, planned):
    run, churn = planned("image")
    assert not churn.added and not churn.deleted and not churn.replaced
    # what keeps it so is the program's ignore_changes: without them every boot volume
    # would be re-created from the new image
    bare = plan(base.resources, run.resources, {})
    booted = {(r.type, r.name) for r in base.resources if r.type == VOLUME
              and "imageId" in r.inputs}
    assert booted and booted <= set(bare.replaced)
    assert {frozenset(bare.replaced[k]) for k in booted} == {frozenset({"imageId"})}


def test_the_comparison_sees_a_replacement(base, planned):
    """The test can fail: a change that must re-create servers shows up as such. Cache
    hosts gaining a port in the management zone change their `networks`, an input the
    provider re-creates a server for."""
    _, churn = planned("cache-in-mgmt")
    cache = {r.name for r in base.of_type(INSTANCE) if r.name.startswith(f"{SITE}-cache-")}
    assert cache
    servers = {k: v for k, v in churn.replaced.items() if k[0] == INSTANCE}
    assert servers == {(INSTANCE, name): {"networks"} for name in cache}
    assert {k for k in churn.added if k[0] == PORT} == {(PORT, f"{n}-mgmt") for n in cache}


def test_no_variant_deletes_or_replaces_what_is_protected(base, base_config, planned):
    """The project, the evidence container, the data hosts and their disks (protect=True
    in the base run) survive every one of these plans."""
    assert any(o.protect for o in base.options.values())
    for name in _variants(base_config):
        _, churn = planned(name)
        lost = churn.deleted | set(churn.replaced)
        protected = {k for k in lost if (o := base.options.get(k)) is not None and o.protect}
        assert not protected, (name, sorted(protected))


def test_one_more_host_moves_no_running_host(base, planned):
    run, _ = planned("host")
    before = {r.name: r.inputs.get("fixedIps") for r in base.of_type(PORT)}
    moved = sorted(r.name for r in run.of_type(PORT)
                   if r.name in before and r.inputs.get("fixedIps") != before[r.name])
    assert not moved, f"{len(moved)} ports renumbered, e.g. {moved[:5]}"


def test_a_flow_sharing_rules_with_another_replaces_none(base, planned):
    _, churn = planned("shared-rules")
    assert churn.added and {t for t, _ in churn.added} == {RULE}
    assert not churn.replaced, sorted(churn.replaced.items())
