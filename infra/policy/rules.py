"""Graded-protection (GB/T 22239-2019, level 3) rules that can be seen in the program's
resources. Each policy carries its clause in `framework.reference`; thresholds come from
`courtcloud.model.levels` (the same numbers the site model enforces), with the level taken
from the policy's config (`securityLevel`, default 3).

Resources are read by their Pulumi type token and input properties (camelCase), the way
the analyzer hands them over; courtcloud's own markers are tags, Nova metadata, volume-type
extra specs and rule descriptions that the program writes (see `infra/openstack/derive.py`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from courtcloud.model import requirements
from courtcloud.model.schema import REDUNDANT_ROLES

STANDARD = "GB/T 22239-2019"
VERSION = "level 3"

SEC_GROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule"
VOLUME = "openstack:blockstorage/volume:Volume"
VOLUME_TYPE = "openstack:blockstorage/volumeTypeV3:VolumeTypeV3"
INSTANCE = "openstack:compute/instance:Instance"
SERVER_GROUP = "openstack:compute/serverGroup:ServerGroup"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
FLOATING_IP_ASSOCIATE = "openstack:networking/floatingIpAssociate:FloatingIpAssociate"
LISTENER = "openstack:loadbalancer/listener:Listener"
PORT = "openstack:networking/port:Port"
NETWORK = "openstack:networking/network:Network"
L7_POLICY = "openstack:loadbalancer/l7PolicyV2:L7PolicyV2"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
BACKUP_PLAN = "courtcloud:dr:BackupPlan"
DR_SITE = "courtcloud:dr:DisasterRecoverySite"

WORLD = {"0.0.0.0/0", "::/0"}
# Ports through which hosts and clusters are administered or their state is reached.
MANAGEMENT_PORTS = [22, 23, 135, 139, 445, 2379, 2380, 3389, 5432, 5900, 5985, 5986, 6379,
                    6443, 8008, 10250]
PUBLIC_ZONE_KINDS = {"edge", "exchange-internet"}
PUBLISHED_PORTS = (80, 443)  # what the court publishes (policy config `publishedPorts`)
TLS_PROTOCOLS = {"HTTPS", "TERMINATED_HTTPS"}
REDIRECTS = {"REDIRECT_PREFIX", "REDIRECT_TO_URL"}

_LEVEL_SCHEMA = PolicyConfigSchema(
    properties={"securityLevel": {"type": "integer", "default": 3, "enum": [2, 3, 4]}})


def _framework(clause: str) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(name=STANDARD, version=VERSION, reference=clause,
                                     specification="8.1 general requirements, level 3")


def _level(args: ResourceValidationArgs | StackValidationArgs) -> int:
    return int((args.get_config() or {}).get("securityLevel", 3))


def _tags(props: Mapping[str, Any]) -> dict[str, str]:
    found = {}
    for tag in props.get("tags") or []:
        key, _, value = str(tag).partition("=")
        found[key] = value
    return found


def _of(resources: Iterable[Any], type_: str) -> list[Any]:
    return [r for r in resources if r.resource_type == type_]


# --- 8.1.3.2 / 8.1.4.4: no world-open management ports ----------------------------------

def _world_open(props: Mapping[str, Any]) -> bool:
    """Whether the rule's remote reaches any internet address: judged by what the prefix
    covers (0.0.0.0/1 with 128.0.0.0/1 is the world in two rules), not by its spelling."""
    prefix = props.get("remoteIpPrefix")
    if not prefix:
        # no remote at all means any address
        return not props.get("remoteGroupId") and not props.get("remoteAddressGroupId")
    try:
        return not ipaddress.ip_network(prefix, strict=False).is_private
    except ValueError:
        return True  # what cannot be read is not trusted


def _published_ports(args: ResourceValidationArgs) -> set[int]:
    return {int(p) for p in (args.get_config() or {}).get("publishedPorts", PUBLISHED_PORTS)}


def check_world_open_rule(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SEC_GROUP_RULE:
        return
    props = args.props
    if not _world_open(props):
        return
    remote = props.get("remoteIpPrefix") or "any address"
    if props.get("direction", "ingress") == "egress":
        report(f"egress to the internet ({remote}): egress is point to point, to named "
               "peers (8.1.3.2)")
        return
    low, high = props.get("portRangeMin"), props.get("portRangeMax")
    protocol = props.get("protocol")
    if not protocol or low in (None, 0) or high in (None, 0):
        report("ingress from anywhere on every port (or protocol): name the published ports")
        return
    exposed = [p for p in MANAGEMENT_PORTS if int(low) <= p <= int(high)]
    if exposed:
        report(f"management port(s) {exposed} open to {remote}; "
               "reach them from the management zone through the bastion")
    published = _published_ports(args)
    outside = [p for p in range(int(low), min(int(high), int(low) + 1024) + 1)
               if p not in published]
    if protocol != "tcp" or outside or int(high) - int(low) > 1024:
        report(f"{protocol}/{low}-{high} open to {remote}: only the published ports "
               f"({', '.join(map(str, sorted(published)))}/tcp) may face the internet, "
               "whatever the rule's description says")


no_world_open_management_ports = ResourceValidationPolicy(
    name="no-world-open-management-ports",
    description="No security-group rule opens management ports to the internet (any prefix "
                "that covers a public address); only the published ports face it, and no "
                "rule lets traffic out to it.",
    validate=check_world_open_rule,
    config_schema=PolicyConfigSchema(properties={"publishedPorts": {
        "type": "array", "items": {"type": "integer"}, "default": list(PUBLISHED_PORTS)}}),
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.3.2, 8.1.4.4"),
    tags=["boundary", "access-control"],
    remediation_steps="Give the rule a remote group or a zone CIDR; publish through the edge.",
)


# --- 8.1.4.8: encrypted volumes ----------------------------------------------------------

def check_encrypted_volumes(args: StackValidationArgs, report: ReportViolation) -> None:
    encrypted = {
        str(r.props.get("name")) for r in _of(args.resources, VOLUME_TYPE)
        if str((r.props.get("extraSpecs") or {}).get("courtcloud:encrypted")).lower() == "true"
    }
    for volume in _of(args.resources, VOLUME):
        kind = volume.props.get("volumeType")
        if not kind:
            report(f"volume {volume.name} has no volume type, so no encryption", volume.urn)
        elif kind not in encrypted:
            report(f"volume {volume.name} uses type {kind!r}, which is not an encrypted "
                   "Ceph-backed type of this stack", volume.urn)


encrypted_volumes = StackValidationPolicy(
    name="encrypted-volumes",
    description="Every volume uses a volume type whose storage is encrypted.",
    validate=check_encrypted_volumes,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.8"),
    tags=["confidentiality"],
)


# --- 8.1.4.9 / 8.1.2.1: anti-affinity for replicated roles --------------------------------

def check_anti_affinity(args: StackValidationArgs, report: ReportViolation) -> None:
    groups = {str(r.props.get("name")): r for r in _of(args.resources, SERVER_GROUP)}
    redundant = {str(r) for r in REDUNDANT_ROLES}
    need = requirements(_level(args)).min_redundant_hosts
    servers = _of(args.resources, INSTANCE)
    pool_sizes: dict[tuple[str, str], int] = {}
    for server in servers:
        meta = server.props.get("metadata") or {}
        key = (str(meta.get("courtcloud-site")), str(meta.get("courtcloud-pool", server.name)))
        pool_sizes[key] = pool_sizes.get(key, 0) + 1
    for server in servers:
        meta = server.props.get("metadata") or {}
        roles = set(filter(None, str(meta.get("courtcloud-roles", "")).split(",")))
        size = pool_sizes[(str(meta.get("courtcloud-site")),
                           str(meta.get("courtcloud-pool", server.name)))]
        if not roles & redundant or size < max(need, 2):
            continue
        name = meta.get("courtcloud-server-group")
        group = groups.get(str(name)) if name else None
        policy = group.props.get("policies") if group is not None else None
        if isinstance(policy, list):
            policy = policy[0] if policy else None
        if group is None or policy != "anti-affinity":
            report(f"server {server.name} ({', '.join(sorted(roles & redundant))}) is not in a "
                   "server group with hard anti-affinity", server.urn)
        elif not server.props.get("schedulerHints"):
            report(f"server {server.name} names no server group in its scheduler hints",
                   server.urn)


anti_affinity_for_replicated_roles = StackValidationPolicy(
    name="anti-affinity-for-replicated-roles",
    description="Servers of every replicated role sit in a hard anti-affinity server group.",
    validate=check_anti_affinity,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.9, 8.1.2.1"),
    tags=["redundancy"],
    config_schema=_LEVEL_SCHEMA,
)


# --- 8.1.4.9: core apps keep the level's minimum replicas --------------------------------

def check_core_replicas(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DEPLOYMENT:
        return
    labels = ((args.props.get("metadata") or {}).get("labels") or {})
    if str(labels.get("courtcloud.court/core", "false")).lower() != "true":
        return
    minimum = requirements(_level(args)).min_app_replicas
    replicas = (args.props.get("spec") or {}).get("replicas")
    if replicas is None or int(replicas) < minimum:
        report(f"core app runs {replicas if replicas is not None else 1} replica(s); level "
               f"{_level(args)} needs at least {minimum}")


core_app_replicas = ResourceValidationPolicy(
    name="core-app-replicas",
    description="Every core app runs at least the level's minimum replicas.",
    validate=check_core_replicas,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.9"),
    tags=["redundancy", "kubernetes"],
    config_schema=_LEVEL_SCHEMA,
)


# --- 8.1.4.9: backups go to the DR site --------------------------------------------------

def check_backups(args: StackValidationArgs, report: ReportViolation) -> None:
    if not requirements(_level(args)).offsite_backup_required:
        return
    if _of(args.resources, DR_SITE):
        return  # the DR site is where backups go
    has_data = any("database" in str((s.props.get("metadata") or {}).get("courtcloud-roles", ""))
                   for s in _of(args.resources, INSTANCE))
    plans = _of(args.resources, BACKUP_PLAN)
    if has_data and not plans:
        report("the stack runs databases but declares no backup plan to the DR site")
    for plan in plans:
        props = plan.props
        if props.get("targetRole") != "dr":
            report(f"backup plan {plan.name} targets {props.get('targetSite')!r}, which is not "
                   "a disaster-recovery site", plan.urn)
        if not props.get("schedule") or not props.get("retentionDays"):
            report(f"backup plan {plan.name} has no schedule or retention", plan.urn)


backups_to_dr_site = StackValidationPolicy(
    name="backups-to-dr-site",
    description="A stack that holds data backs it up to the disaster-recovery site.",
    validate=check_backups,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.9"),
    tags=["backup"],
    config_schema=_LEVEL_SCHEMA,
)


# --- 8.1.2.1 / 8.1.3.1: no public address in the data zone -------------------------------

def check_public_addresses(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == FLOATING_IP:
        kind = _tags(args.props).get("zone-kind")
        if kind is None:
            report("floating IP carries no zone-kind tag, so where it lands cannot be shown")
        elif kind not in PUBLIC_ZONE_KINDS:
            report(f"floating IP in a {kind} zone; only {sorted(PUBLIC_ZONE_KINDS)} zones "
                   "take public addresses")
    elif args.resource_type == FLOATING_IP_ASSOCIATE:
        report("associate public addresses through a tagged FloatingIp, not separately")
    elif args.resource_type == INSTANCE:
        meta = args.props.get("metadata") or {}
        if meta.get("courtcloud-zone-kind") == "data" and args.props.get("accessIpV4"):
            report("a data-zone server has a public access address")


no_public_ip_in_data_zone = ResourceValidationPolicy(
    name="no-public-ip-in-data-zone",
    description="Public addresses only in the edge-facing zones, never in the data zone.",
    validate=check_public_addresses,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.2.1, 8.1.3.1"),
    tags=["boundary"],
)


# --- 8.1.2.2: TLS on load-balancer listeners ---------------------------------------------

def check_listener_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    redirecting = {
        str(p.props.get("name", "")) for p in _of(args.resources, L7_POLICY)
        if p.props.get("action") in REDIRECTS
        and str(p.props.get("redirectPrefix") or p.props.get("redirectUrl") or "")
        .startswith("https://")
    }
    for listener in _of(args.resources, LISTENER):
        protocol = listener.props.get("protocol")
        if protocol in TLS_PROTOCOLS:
            continue
        name = str(listener.props.get("name", listener.name))
        if protocol == "HTTP" and f"{name}-to-https" in redirecting:
            continue
        report(f"listener {name} speaks {protocol} without TLS and does not redirect to "
               "https", listener.urn)


tls_on_listeners = StackValidationPolicy(
    name="tls-on-load-balancer-listeners",
    description="Load-balancer listeners carry TLS; plain HTTP only redirects to HTTPS.",
    validate=check_listener_tls,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.2.2"),
    tags=["transmission"],
)


# --- 8.1.3.2 / 8.1.4.2: default deny and restricted pods in every namespace ---------------

def _denies_all(policy: Any) -> bool:
    spec = policy.props.get("spec") or {}
    every_pod = spec.get("podSelector") in ({}, None, {"matchLabels": {}})
    both_ways = {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
    return every_pod and both_ways and not spec.get("ingress") and not spec.get("egress")


def check_namespaces(args: StackValidationArgs, report: ReportViolation) -> None:
    denied = {
        (p.props.get("metadata") or {}).get("namespace")
        for p in _of(args.resources, NETWORK_POLICY) if _denies_all(p)
    }
    for namespace in _of(args.resources, NAMESPACE):
        meta = namespace.props.get("metadata") or {}
        name = meta.get("name")
        if name not in denied:
            report(f"namespace {name} has no default-deny NetworkPolicy", namespace.urn)
        enforce = (meta.get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        if enforce != "restricted":
            report(f"namespace {name} does not enforce the restricted Pod Security standard",
                   namespace.urn)


default_deny_in_every_namespace = StackValidationPolicy(
    name="default-deny-in-every-namespace",
    description="Every namespace denies traffic by default and enforces restricted pods.",
    validate=check_namespaces,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.3.2, 8.1.4.2"),
    tags=["kubernetes", "access-control"],
)


# --- 8.1.3.2: port security, so that the security groups apply at all ----------------------

def check_port_security(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (PORT, NETWORK):
        return
    props = args.props
    what = "port" if args.resource_type == PORT else "network"
    if props.get("portSecurityEnabled") is False:
        report(f"{what} with port security off: no security group applies to its traffic")
    for pair in props.get("allowedAddressPairs") or []:
        prefix = pair.get("ipAddress") if isinstance(pair, Mapping) else None
        try:
            net = ipaddress.ip_network(str(prefix), strict=False)
        except ValueError:
            report(f"allowed address pair {prefix!r} cannot be read")
            continue
        if net.num_addresses > 1:
            report(f"allowed address pair {prefix} lets the port send as {net.num_addresses} "
                   "addresses; name each address it takes over (a /32)")


port_security_everywhere = ResourceValidationPolicy(
    name="port-security-everywhere",
    description="Every network and port keeps port security on, and allowed address pairs "
                "name single addresses, so that the security groups apply to all traffic.",
    validate=check_port_security,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.3.2"),
    tags=["boundary", "access-control"],
    remediation_steps="Set port_security_enabled=True; give the keepalived/VIP address alone.",
)


POLICIES = [
    no_world_open_management_ports,
    encrypted_volumes,
    anti_affinity_for_replicated_roles,
    core_app_replicas,
    backups_to_dr_site,
    no_public_ip_in_data_zone,
    tls_on_listeners,
    default_deny_in_every_namespace,
    port_security_everywhere,
]

