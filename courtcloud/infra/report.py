"""What a mocked run would create, summarised: resources by type and zone, the security
rules per tier, VM and storage totals against the white paper, and the policy verdicts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..model.reference import WHITE_PAPER_CAPACITY
from .engine import StackRun
from .mocks import Declared
from .verdicts import Verdict

INSTANCE = "openstack:compute/instance:Instance"
FLAVOR = "openstack:compute/flavor:Flavor"
VOLUME = "openstack:blockstorage/volume:Volume"
VOLUME_TYPE = "openstack:blockstorage/volumeTypeV3:VolumeTypeV3"
CONTAINER = "openstack:objectstorage/container:Container"
SEC_GROUP = "openstack:networking/secGroup:SecGroup"
SEC_GROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule"
SITE_WIDE = "(site)"


def _own_zone(resource: Declared) -> str | None:
    inputs = resource.inputs
    for tag in inputs.get("tags") or []:
        if str(tag).startswith("zone="):
            return str(tag)[5:]
    for key in ("metadata", "extraSpecs"):
        values = inputs.get(key) or {}
        for name in ("courtcloud-zone", "courtcloud:zone"):
            if values.get(name):
                return str(values[name])
    namespace = (inputs.get("metadata") or {}).get("namespace") if resource.type.startswith(
        "kubernetes:") else None
    if namespace:
        return f"k8s:{namespace}"
    if resource.type == "kubernetes:core/v1:Namespace":
        return f"k8s:{(inputs.get('metadata') or {}).get('name')}"
    return None


def zones_of(resources: list[Declared]) -> dict[str, str]:
    """Each resource's zone: its own tag or metadata, else that of a resource it refers to
    (a rule's security group, a member's subnet...), else site-wide."""
    by_id = {r.id: r for r in resources}
    zones: dict[str, str] = {}
    for resource in resources:
        zone = _own_zone(resource)
        if zone is None:
            for value in resource.inputs.values():
                other = by_id.get(value) if isinstance(value, str) else None
                if other is not None and (zone := _own_zone(other)):
                    break
        zones[resource.id] = zone or SITE_WIDE
    return zones


def by_type_and_zone(run: StackRun) -> dict[str, dict[str, int]]:
    zones = zones_of(run.resources)
    table: dict[str, Counter[str]] = {}
    for resource in run.resources:
        if resource.type.startswith("pulumi:providers:"):
            continue
        table.setdefault(resource.type, Counter())[zones[resource.id]] += 1
    return {t: dict(sorted(c.items())) for t, c in sorted(table.items())}


def rule_flows(run: StackRun) -> dict[str, str]:
    """Each rule's description (what it is) -> the model flows that need it."""
    if run.project_dir is None:
        return {}
    from infra.model import model_values
    from infra.openstack import derive

    from ..model.loader import validate_config

    # the run's own model, read as the program read it
    values = model_values(lambda key: run.config.get(f"courtcloud:{key}"))
    estate = validate_config(run.project_dir / f"Pulumi.{run.stack}.yaml", values)
    own = {s["name"] for s in values.get("sites") or []}
    return {rule.description: rule.flow for site in estate.sites if site.name in own
            for rule in derive.site_rules(estate, site)}


def rules_by_tier(run: StackRun) -> dict[str, list[dict[str, Any]]]:
    groups = {r.id: r.inputs.get("name", r.name) for r in run.of_type(SEC_GROUP)}
    flows = rule_flows(run)
    tiers: dict[str, list[dict[str, Any]]] = {}
    for rule in run.of_type(SEC_GROUP_RULE):
        inputs = rule.inputs
        description = str(inputs.get("description", ""))
        tier = description.split(" tier:", 1)[0] if " tier:" in description else "unknown"
        low, high = inputs.get("portRangeMin"), inputs.get("portRangeMax")
        ports = f"{int(low)}" if low == high else f"{int(low)}-{int(high)}"
        remote = inputs.get("remoteIpPrefix") or groups.get(inputs.get("remoteGroupId"), "?")
        flow = flows.get(description, "")
        tiers.setdefault(tier, []).append({
            "group": groups.get(inputs.get("securityGroupId"), "?"),
            "direction": inputs.get("direction"), "protocol": inputs.get("protocol"),
            "ports": ports, "remote": remote, "flow": flow,
        })
    # Resources register concurrently under the engine, so their order is not stable:
    # sort, so that two plans of one model print (and diff) the same.
    order = ("edge", "network", "host")
    return {tier: sorted(tiers[tier], key=_rule_key)
            for tier in (*order, *sorted(set(tiers) - set(order))) if tier in tiers}


def _rule_key(rule: dict[str, Any]) -> tuple[str, ...]:
    return (rule["group"], rule["flow"], rule["direction"] or "", rule["protocol"] or "",
            rule["ports"], rule["remote"])


def totals(run: StackRun) -> dict[str, float]:
    flavors = {f.id: f.inputs for f in run.of_type(FLAVOR)}
    servers = run.of_type(INSTANCE)
    volumes = run.of_type(VOLUME)
    storage = 0.0
    vault = 0.0
    for kind in run.of_type(VOLUME_TYPE):
        storage += float((kind.inputs.get("extraSpecs") or {}).get("courtcloud:capacity-tb", 0))
    for container in run.of_type(CONTAINER):
        meta = container.inputs.get("metadata") or {}
        capacity = float(meta.get("courtcloud-capacity-tb", 0))
        if meta.get("courtcloud-source-site"):
            vault += capacity
        else:
            storage += capacity
    return {
        "vms": len(servers),
        "vcpus": sum(int(flavors[s.inputs["flavorId"]]["vcpus"]) for s in servers),
        "memory_tb": sum(int(flavors[s.inputs["flavorId"]]["ram"]) for s in servers)
        / 1024 / 1024,
        "boot_volumes": len(volumes),
        "boot_volume_tb": sum(float(v.inputs.get("size", 0)) for v in volumes) / 1024,
        "storage_tb": storage,
        "dr_backup_tb": vault,
    }


def compare(stack_totals: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        key: {"stacks": round(sum(t[key] for t in stack_totals), 3),
              "white_paper": WHITE_PAPER_CAPACITY[key]}
        for key in WHITE_PAPER_CAPACITY
    }


def plan_report(runs: dict[str, StackRun], verdicts: dict[str, list[Verdict]],
                estate: str) -> dict[str, Any]:
    stacks = {}
    for name, run in runs.items():
        stacks[name] = {
            "seconds": round(run.seconds, 3),
            "resources": len(run.resources),
            "by_type_and_zone": by_type_and_zone(run),
            "rules_by_tier": rules_by_tier(run),
            "totals": totals(run),
            "policies": [v.as_dict() for v in verdicts.get(name, [])],
            "charts": [{"chart": c["chart"], "release": c["release"],
                        "namespace": c["namespace"], "objects": len(c["objects"])}
                       for c in run.charts],
        }
    all_passed = all(v.passed for vs in verdicts.values() for v in vs)
    return {
        "estate": estate,
        "stacks": stacks,
        "capacity": compare([s["totals"] for s in stacks.values()]),
        "policies_passed": all_passed,
    }
