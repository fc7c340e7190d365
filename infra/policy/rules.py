"""Graded-protection (GB/T 22239-2019, level 3) rules that can be seen in the program's
resources. Each policy carries its clause in `framework.reference`; thresholds come from
`courtcloud.model.levels` (the same numbers the site model enforces), with the level taken
from the policy's config (`securityLevel`, default 3).

Resources are read by their Pulumi type token and input properties (camelCase), the way
the analyzer hands them over, and judged by what they do: the prefixes a rule covers, the
ports it admits, which groups a server's ports carry, the back end a volume lands on, the
flavor a server's local disk comes from. The program's own markers (tags, Nova metadata,
rule descriptions) never exempt a resource: a server that serves a database port is a
database server whatever its metadata says. Attachments are followed through each
resource's property dependencies, as the engine records them.

Facts the resources cannot show (which storage back ends encrypt, where the management
zones are, which registry images come from) are policy config; by default they come from
the stack's own site model (`Pulumi.<stack>.yaml`, found from the resources' URN).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
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

# Plain data from the model (no Pulumi): the program's own derivations, so that the pack's
# defaults are the program's (a replicated pool larger than the site's hypervisors may use
# soft anti-affinity; hard would leave its extra hosts unschedulable).
from infra.openstack.derive import DEFAULT_HYPERVISORS, encrypted_backends

STANDARD = "GB/T 22239-2019"
VERSION = "level 3"

SEC_GROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule"
VOLUME = "openstack:blockstorage/volume:Volume"
VOLUME_TYPE = "openstack:blockstorage/volumeTypeV3:VolumeTypeV3"
INSTANCE = "openstack:compute/instance:Instance"
SERVER_GROUP = "openstack:compute/serverGroup:ServerGroup"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
FLOATING_IP_ASSOCIATE = "openstack:networking/floatingIpAssociate:FloatingIpAssociate"
# the compute-side association older provider versions (and stacks made with them) carry
COMPUTE_FLOATING_IP_ASSOCIATE = "openstack:compute/floatingIpAssociate:FloatingIpAssociate"
FLAVOR = "openstack:compute/flavor:Flavor"
SEC_GROUP = "openstack:networking/secGroup:SecGroup"
SUBNET = "openstack:networking/subnet:Subnet"
ROUTER = "openstack:networking/router:Router"
ROUTER_INTERFACE = "openstack:networking/routerInterface:RouterInterface"
LISTENER = "openstack:loadbalancer/listener:Listener"
PORT = "openstack:networking/port:Port"
NETWORK = "openstack:networking/network:Network"
L7_POLICY = "openstack:loadbalancer/l7PolicyV2:L7PolicyV2"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
REPLICATED_WORKLOADS = {DEPLOYMENT, STATEFUL_SET, "kubernetes:apps/v1:ReplicaSet"}
WORKLOADS = {**{t: ("spec", "template", "spec") for t in REPLICATED_WORKLOADS},
             "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
             "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
             "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
             "kubernetes:core/v1:Pod": ("spec",)}
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
BACKUP_PLAN = "courtcloud:dr:BackupPlan"
DR_SITE = "courtcloud:dr:DisasterRecoverySite"

WORLD = {"0.0.0.0/0", "::/0"}
# Ports through which hosts and clusters are administered or their state is reached.
MANAGEMENT_PORTS = [22, 23, 135, 139, 445, 2379, 2380, 3389, 5432, 5900, 5985, 5986, 6379,
                    6443, 8008, 10250]
PUBLIC_ZONE_KINDS = {"edge", "exchange-internet"}
# Remote shells and desktops: reached only from the management zone (8.1.4.4).
ADMIN_PORTS = [22, 23, 3389, 5900, 5985, 5986]
# Ports a database (a store of record for the court's data) answers on: a server admitting
# one is a database server, whatever its metadata says. PostgreSQL, MySQL, Oracle, SQL
# Server, Dameng, Kingbase, MongoDB, etcd. (Caches hold nothing of record.)
DATABASE_PORTS = [5432, 3306, 1521, 1433, 5236, 54321, 27017, 2379]
# The broadest source a rule may name: a zone (the model's zones are /22 at most).
MAX_SOURCE_ADDRESSES = 1024
NOVA_EPHEMERAL_ENCRYPTION = "hw:ephemeral_encryption"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PROJECT_DIR = Path(__file__).resolve().parents[2]
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


def _deps(resource: Any, prop: str, type_: str | None = None) -> list[Any]:
    """The resources one input of `resource` refers to (its property dependencies)."""
    found = (getattr(resource, "property_dependencies", None) or {}).get(prop) or []
    return [d for d in found if type_ is None or d.resource_type == type_]


def _stack_of(urn: str | None) -> str | None:
    # urn:pulumi:<stack>::<project>::<type>::<name>
    parts = str(urn or "").split(":", 3)
    return parts[2] if len(parts) > 3 and parts[:2] == ["urn", "pulumi"] else None


@functools.lru_cache(maxsize=16)
def model_facts(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The policy config a stack gets by default, from its own site model: the storage back
    ends that encrypt, the management zones (of the whole estate), and the registry its
    images come from. Empty when the stack has no file here (then give the config)."""
    from courtcloud.model import load_project_estate
    from courtcloud.model.loader import read_stack
    from courtcloud.model.schema import ZoneKind
    from infra.model import config_from_file

    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}
    stack_file = read_stack(path)
    estate = load_project_estate(project_dir, stack_file.estate)
    own = {s.get("name") for s in stack_file.config.get("sites") or [] if isinstance(s, dict)}
    facts: dict[str, Any] = {
        "encryptedBackends": sorted(b for site in estate.sites if site.name in own
                                    for b in encrypted_backends(site)),
        "managementCidrs": sorted(str(z.cidr) for site in estate.sites for z in site.zones
                                  if z.kind is ZoneKind.management),
    }
    raw = config_from_file(path)  # the cloud's keys, as Pulumi hands them to the program
    registry = raw.get("site-k8s:registry")
    if registry:
        facts["registries"] = [registry]
    facts["hypervisors"] = int(raw.get("site-cloud:hypervisors") or DEFAULT_HYPERVISORS)
    return facts


def _setting(args: ResourceValidationArgs | StackValidationArgs, key: str) -> Any:
    """A policy config value; by default the stack's own model's (`model_facts`)."""
    config = args.get_config() or {}
    if key in config:
        return config[key]
    if isinstance(args, ResourceValidationArgs):
        stack = _stack_of(args.urn)
    else:
        stack = next((_stack_of(r.urn) for r in args.resources), None)
    return model_facts(stack).get(key) if stack else None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(values: Iterable[str] | None) -> list[Network]:
    return [ipaddress.ip_network(v, strict=False) for v in values or []]


def _network(prefix: Any) -> Network | None:
    """A rule's prefix, or None when it cannot be read (each caller says what that means)."""
    try:
        return ipaddress.ip_network(str(prefix), strict=False)
    except ValueError:
        return None


def _admits_tcp(rule: Any, port: int) -> bool:
    """Whether the rule lets TCP to `port` through (any protocol, or TCP, over its range)."""
    span = _port_range(rule)
    return (rule.props.get("protocol") in (None, "", "tcp") and span is not None
            and span[0] <= port <= span[1])


def _port_range(rule: Any) -> tuple[int, int] | None:
    """The ports a rule admits; every port when it names none (or no protocol)."""
    props = rule.props
    if not props.get("protocol"):
        return (0, 65535)
    low, high = props.get("portRangeMin"), props.get("portRangeMax")
    if low in (None, 0) or high in (None, 0):
        return (0, 65535)
    return (int(low), int(high))


class Topology:
    """What the stack's servers are exposed to: ports, the groups on them, the rules in
    those groups, the subnets the ports sit in, all by property dependency."""

    def __init__(self, resources: Iterable[Any]):
        self.resources = list(resources)
        self.rules_of: dict[str, list[Any]] = {}
        for rule in _of(self.resources, SEC_GROUP_RULE):
            for group in _deps(rule, "securityGroupId", SEC_GROUP):
                self.rules_of.setdefault(group.urn, []).append(rule)
        self.ports_of: dict[str, list[Any]] = {}  # the ports each group is on
        for port in _of(self.resources, PORT):
            for group in _deps(port, "securityGroupIds", SEC_GROUP):
                self.ports_of.setdefault(group.urn, []).append(port)

    def ports(self, server: Any) -> list[Any]:
        return _deps(server, "networks", PORT)

    def groups(self, server: Any) -> list[Any]:
        seen = {g.urn: g for port in self.ports(server)
                for g in _deps(port, "securityGroupIds", SEC_GROUP)}
        return list(seen.values())

    def ingress(self, server: Any) -> list[Any]:
        return [r for g in self.groups(server) for r in self.rules_of.get(g.urn, [])
                if r.props.get("direction", "ingress") == "ingress"]

    def admits(self, server: Any, ports: Iterable[int]) -> list[int]:
        rules = self.ingress(server)
        return sorted({p for p in ports if any(_admits_tcp(r, p) for r in rules)})

    def is_database(self, server: Any) -> bool:
        roles = str((server.props.get("metadata") or {}).get("courtcloud-roles", ""))
        return "database" in roles.split(",") or bool(self.admits(server, DATABASE_PORTS))

    def subnets(self, port: Any) -> list[Any]:
        return _deps(port, "fixedIps", SUBNET)


# --- 8.1.3.2 / 8.1.4.4: no world-open management ports ----------------------------------

def _world_open(props: Mapping[str, Any]) -> bool:
    """Whether the rule's remote reaches any internet address: judged by what the prefix
    covers (0.0.0.0/1 with 128.0.0.0/1 is the world in two rules), not by its spelling."""
    prefix = props.get("remoteIpPrefix")
    if not prefix:
        # no remote at all means any address
        return not props.get("remoteGroupId") and not props.get("remoteAddressGroupId")
    net = _network(prefix)
    return net is None or not net.is_private  # what cannot be read is not trusted


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


# --- 8.1.4.4: remote administration only from the management zone ---------------------

def _inside(prefix: str, zones: list[Network]) -> bool:
    net = _network(prefix)
    return net is not None and any(net.version == z.version and net.subnet_of(z)
                                   for z in zones)


def check_management_sources(args: StackValidationArgs, report: ReportViolation) -> None:
    zones = _networks(_setting(args, "managementCidrs"))
    topology = Topology(args.resources)
    subnet_cidrs = {s.urn: str(s.props.get("cidr")) for s in _of(args.resources, SUBNET)}
    for rule in _of(args.resources, SEC_GROUP_RULE):
        props = rule.props
        if props.get("direction", "ingress") != "ingress":
            continue
        admin = [p for p in ADMIN_PORTS if _admits_tcp(rule, p)]
        if not admin:
            continue
        where = f"rule {rule.name} admits {admin}"
        if props.get("remoteIpPrefix"):
            if not _inside(str(props["remoteIpPrefix"]), zones):
                report(f"{where} from {props['remoteIpPrefix']}, outside the management "
                       "zone(s); administer through the bastion", rule.urn)
            continue
        remote = _deps(rule, "remoteGroupId", SEC_GROUP)
        if not remote:
            report(f"{where} from a source that cannot be shown to be the management zone",
                   rule.urn)
            continue
        members = [p for g in remote for p in topology.ports_of.get(g.urn, [])]
        outside = sorted({subnet_cidrs.get(s.urn, "?") for p in members
                          for s in topology.subnets(p)
                          if not _inside(subnet_cidrs.get(s.urn, ""), zones)})
        if outside or not members:
            report(f"{where} from group {remote[0].name}, whose ports sit outside the "
                   f"management zone ({', '.join(outside) or 'no port at all'})", rule.urn)


management_from_management_zone = StackValidationPolicy(
    name="management-from-management-zone",
    description="Remote shells and desktops (SSH, telnet, RDP, VNC, WinRM) are reachable only "
                "from the management zone: by a prefix inside it, or from a group whose every "
                "port sits in it.",
    validate=check_management_sources,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.4"),
    tags=["access-control", "management"],
    config_schema=PolicyConfigSchema(properties={"managementCidrs": {
        "type": "array", "items": {"type": "string"}}}),
    remediation_steps="Name the bastion pool's group (or the management zone) as the source.",
)


# --- 8.1.3.2: sources no broader than a zone ---------------------------------------------

def check_source_prefix(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SEC_GROUP_RULE or not args.props.get("remoteIpPrefix"):
        return
    prefix = str(args.props["remoteIpPrefix"])
    net = _network(prefix)
    if net is None:
        report(f"remote prefix {prefix!r} cannot be read")
        return
    if net.is_private and net.num_addresses > MAX_SOURCE_ADDRESSES:
        report(f"remote prefix {prefix} spans {net.num_addresses} addresses, more than a "
               f"zone ({MAX_SOURCE_ADDRESSES}): name the zone or the pool's hosts")


narrow_source_prefixes = ResourceValidationPolicy(
    name="narrow-source-prefixes",
    description="No rule names an intranet source broader than one zone (a /22): flows are "
                "point to point, zone or host.",
    validate=check_source_prefix,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.3.2"),
    tags=["access-control"],
)


# --- 8.1.4.8: encrypted volumes ----------------------------------------------------------

def check_encrypted_volumes(args: StackValidationArgs, report: ReportViolation) -> None:
    """A volume is encrypted when its type lands on a back end that encrypts (the model's
    encrypted Ceph pools, or `encryptedBackends`): a spec claiming encryption proves
    nothing. A server's local disk is encrypted only by its flavor's Nova ephemeral
    encryption."""
    backends = set(_setting(args, "encryptedBackends") or [])
    encrypted = {
        str(r.props.get("name")) for r in _of(args.resources, VOLUME_TYPE)
        if str((r.props.get("extraSpecs") or {}).get("volume_backend_name")) in backends
    }
    for volume in _of(args.resources, VOLUME):
        kind = volume.props.get("volumeType")
        if not kind:
            report(f"volume {volume.name} has no volume type, so no encryption", volume.urn)
        elif kind not in encrypted:
            report(f"volume {volume.name} uses type {kind!r}, whose back end is not one that "
                   f"encrypts ({', '.join(sorted(backends)) or 'none known'})", volume.urn)
    for server in _of(args.resources, INSTANCE):
        devices = server.props.get("blockDevices") or []
        for device in devices:
            if (device.get("sourceType") != "volume"
                    and device.get("destinationType") == "volume"
                    and device.get("volumeType") not in encrypted):
                report(f"server {server.name} has Nova create a volume of type "
                       f"{device.get('volumeType') or 'the default'}, not encrypted", server.urn)
        boots_from_volume = any(d.get("destinationType") == "volume"
                                and int(d.get("bootIndex", -1) or 0) == 0 for d in devices)
        local = not boots_from_volume or any(
            d.get("destinationType") in (None, "", "local") for d in devices)
        if not local:
            continue
        flavors = _deps(server, "flavorId", FLAVOR)
        specs = (flavors[0].props.get("extraSpecs") or {}) if flavors else {}
        if str(specs.get(NOVA_EPHEMERAL_ENCRYPTION, "")).lower() != "true":
            report(f"server {server.name} keeps a disk on the hypervisor whose flavor does not "
                   f"set {NOVA_EPHEMERAL_ENCRYPTION}=True", server.urn)


encrypted_volumes = StackValidationPolicy(
    name="encrypted-volumes",
    description="Every volume lands on a back end that encrypts; every disk a server keeps on "
                "its hypervisor is encrypted by its flavor.",
    validate=check_encrypted_volumes,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.8"),
    tags=["confidentiality"],
    config_schema=PolicyConfigSchema(properties={"encryptedBackends": {
        "type": "array", "items": {"type": "string"}}}),
)


# --- 8.1.4.9 / 8.1.2.1: anti-affinity for replicated roles --------------------------------

def check_anti_affinity(args: StackValidationArgs, report: ReportViolation) -> None:
    """Replicated roles by the program's metadata, and every server that serves a database
    port whatever its metadata (grouped by the security groups it carries), must sit in a
    hard anti-affinity group that its scheduler hints name."""
    topology = Topology(args.resources)
    redundant = {str(r) for r in REDUNDANT_ROLES}
    need = max(requirements(_level(args)).min_redundant_hosts, 2)
    hypervisors = int(_setting(args, "hypervisors") or DEFAULT_HYPERVISORS)
    pools: dict[tuple[str, ...], list[Any]] = {}
    for server in _of(args.resources, INSTANCE):
        meta = server.props.get("metadata") or {}
        roles = set(filter(None, str(meta.get("courtcloud-roles", "")).split(",")))
        if roles & redundant:
            key = ("pool", str(meta.get("courtcloud-site")),
                   str(meta.get("courtcloud-pool", server.name)))
        elif topology.is_database(server):
            key = ("groups", *sorted(g.urn for g in topology.groups(server)))
        else:
            continue
        pools.setdefault(key, []).append(server)
    for key, servers in pools.items():
        if len(servers) < need:
            if key[0] == "groups":
                for server in servers:
                    report(f"database server {server.name} has no peer in the stack: level "
                           f"{_level(args)} keeps {need} hosts of a replicated role", server.urn)
            continue
        for server in servers:
            hinted = _deps(server, "schedulerHints", SERVER_GROUP)
            policy = hinted[0].props.get("policies") if hinted else None
            if isinstance(policy, list):
                policy = policy[0] if policy else None
            if not hinted:
                report(f"server {server.name} (replicated, {len(servers)} alike) names no "
                       "server group in its scheduler hints", server.urn)
            elif policy == "soft-anti-affinity" and len(servers) > hypervisors:
                continue  # spread as far as the hypervisors allow
            elif policy != "anti-affinity":
                report(f"server {server.name} is in server group {hinted[0].name} with "
                       f"{policy!r}, not hard anti-affinity", server.urn)


anti_affinity_for_replicated_roles = StackValidationPolicy(
    name="anti-affinity-for-replicated-roles",
    description="Servers of every replicated role, and every database server whatever its "
                "metadata, sit in a hard anti-affinity server group (soft when the pool is "
                "larger than the site's hypervisors).",
    validate=check_anti_affinity,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.9, 8.1.2.1"),
    tags=["redundancy"],
    config_schema=PolicyConfigSchema(properties={
        **_LEVEL_SCHEMA.properties, "hypervisors": {"type": "integer", "minimum": 1}}),
)


# --- 8.1.4.9: core apps keep the level's minimum replicas --------------------------------

def check_core_replicas(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in REPLICATED_WORKLOADS:
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
    description="Every core app (Deployment, StatefulSet, ReplicaSet) runs at least the "
                "level's minimum replicas.",
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
    topology = Topology(args.resources)
    has_data = any(topology.is_database(s) for s in _of(args.resources, INSTANCE))
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
    elif args.resource_type in (FLOATING_IP_ASSOCIATE, COMPUTE_FLOATING_IP_ASSOCIATE):
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


# --- 8.1.2.1: only internet-facing zones behind the border router ------------------------

def check_border_router(args: StackValidationArgs, report: ReportViolation) -> None:
    """A subnet on a router with an external gateway faces the internet: it must be an
    edge-facing zone, and no database server may have a port in it."""
    topology = Topology(args.resources)
    on_subnet: dict[str, list[Any]] = {}
    for server in _of(args.resources, INSTANCE):
        if topology.is_database(server):
            for port in topology.ports(server):
                for subnet in topology.subnets(port):
                    on_subnet.setdefault(subnet.urn, []).append(server)
    for interface in _of(args.resources, ROUTER_INTERFACE):
        routers = _deps(interface, "routerId", ROUTER)
        if not any(r.props.get("externalNetworkId") for r in routers):
            continue
        for subnet in _deps(interface, "subnetId", SUBNET):
            kind = _tags(subnet.props).get("zone-kind")
            if kind not in PUBLIC_ZONE_KINDS:
                report(f"subnet {subnet.name} ({kind or 'no zone-kind'}) is attached to border "
                       f"router {routers[0].name}; only {sorted(PUBLIC_ZONE_KINDS)} zones face "
                       "the internet", interface.urn)
            for server in on_subnet.get(subnet.urn, []):
                report(f"database server {server.name} has a port in {subnet.name}, which the "
                       f"border router {routers[0].name} exposes", interface.urn)


data_zones_off_the_border = StackValidationPolicy(
    name="data-zones-off-the-border-router",
    description="Only internet-facing zones hang off a router with an external gateway; no "
                "database server has a port there.",
    validate=check_border_router,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.2.1, 8.1.3.1"),
    tags=["boundary"],
)


# --- 8.1.4.6 / 8.1.4.7: images of known provenance ---------------------------------------

def _containers(props: Mapping[str, Any], path: tuple[str, ...]) -> list[Mapping[str, Any]]:
    spec: Any = props
    for key in path:
        spec = (spec or {}).get(key) if isinstance(spec, Mapping) else None
    spec = spec or {}
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def check_image_provenance(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Pods run images from the court's registry, pinned by digest (a tag can be moved);
    servers boot from an image given by id (a name can be uploaded again by anyone)."""
    if args.resource_type in WORKLOADS:
        registries = [str(r).rstrip("/") + "/" for r in _setting(args, "registries") or []]
        for container in _containers(args.props, WORKLOADS[args.resource_type]):
            image = str(container.get("image") or "")
            if not DIGEST.search(image):
                report(f"container {container.get('name')} runs {image!r}, not pinned by "
                       "digest (@sha256:...)")
            if not any(image.startswith(r) for r in registries):
                report(f"container {container.get('name')} runs {image!r}, not from the "
                       f"court's registry ({', '.join(registries) or 'none configured'})")
    elif args.resource_type == INSTANCE and args.props.get("imageName"):
        report(f"server boots from the image named {args.props['imageName']!r}; give the "
               "image's id (site-cloud:imageId)")
    elif args.resource_type == VOLUME and args.props.get("imageName"):
        report("volume made from an image by name; give the image's id")


image_provenance = ResourceValidationPolicy(
    name="image-provenance",
    description="Container images come from the court's registry pinned by digest; servers "
                "and volumes take their image by id.",
    validate=check_image_provenance,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.6, 8.1.4.7"),
    tags=["integrity", "kubernetes"],
    config_schema=PolicyConfigSchema(properties={"registries": {
        "type": "array", "items": {"type": "string"}}}),
)


# --- 8.1.4.3 / 8.1.3.5: every host's logs reach a collector that keeps them -----------------

SYSLOG_TLS_PORT = 6514


def _host_facts(server: Any) -> dict[str, Any]:
    """The facts the server's cloud-init leaves for Ansible (/etc/courtcloud/host.json)."""
    import json

    import yaml

    try:
        document = yaml.safe_load(str(server.props.get("userData") or "")) or {}
        for item in document.get("write_files") or []:
            if str(item.get("path", "")).endswith("/host.json"):
                return json.loads(item.get("content") or "{}")
    except (ValueError, AttributeError, yaml.YAMLError):
        pass
    return {}


def _addresses(topology: Topology, server: Any) -> list[ipaddress.IPv4Address]:
    found = []
    for port in topology.ports(server):
        for fixed in port.props.get("fixedIps") or []:
            try:
                found.append(ipaddress.ip_address(str(fixed.get("ipAddress"))))
            except ValueError:
                continue
    return found


def check_log_retention(args: StackValidationArgs, report: ReportViolation) -> None:
    topology = Topology(args.resources)
    servers = _of(args.resources, INSTANCE)
    if not servers:
        return
    collectors = [s for s in servers if topology.admits(s, [SYSLOG_TLS_PORT])]
    if not collectors:
        report(f"no server of the stack takes logs (syslog over TLS, {SYSLOG_TLS_PORT}/tcp): "
               "audit records are not kept centrally")
        return
    keep = requirements(_level(args)).min_log_retention_days
    for collector in collectors:
        days = _host_facts(collector).get("log_retention_days")
        if not isinstance(days, int) or days < keep:
            report(f"log collector {collector.name} is told to keep logs {days or 'no'} days; "
                   f"level {_level(args)} needs {keep}", collector.urn)
    groups = {g.urn for c in collectors for g in topology.groups(c)}
    addresses = [a for c in collectors for a in _addresses(topology, c)]
    for server in servers:
        if server in collectors:
            continue
        sends = False
        for group in topology.groups(server):
            for rule in topology.rules_of.get(group.urn, []):
                span = _port_range(rule)
                if (rule.props.get("direction") != "egress" or not span
                        or not span[0] <= SYSLOG_TLS_PORT <= span[1]):
                    continue
                if any(g.urn in groups for g in _deps(rule, "remoteGroupId", SEC_GROUP)):
                    sends = True
                prefix = rule.props.get("remoteIpPrefix")
                net = _network(prefix) if prefix else None  # unreadable: reaches no collector
                if net is not None and any(a in net for a in addresses):
                    sends = True
        if not sends:
            report(f"server {server.name} may not send its logs to a collector "
                   f"({SYSLOG_TLS_PORT}/tcp): its audit records stay on the host", server.urn)


audit_log_retention = StackValidationPolicy(
    name="audit-log-retention",
    description="Every server may ship its logs to a collector of the stack (syslog over TLS), "
                "and the collectors are told to keep them the level's minimum days.",
    validate=check_log_retention,
    enforcement_level=EnforcementLevel.MANDATORY,
    framework=_framework("8.1.4.3, 8.1.3.5"),
    tags=["audit"],
    config_schema=_LEVEL_SCHEMA,
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


def _everyone(peer: Mapping[str, Any]) -> bool:
    """A peer that stands for every pod or every address."""
    if "ipBlock" in peer:
        net = _network((peer.get("ipBlock") or {}).get("cidr"))
        return net is None or net.prefixlen == 0 or not net.is_private
    namespaces, pods = peer.get("namespaceSelector"), peer.get("podSelector")
    every = ({}, {"matchLabels": {}})
    return namespaces in every and pods in (*every, None)


def _allows_all(policy: Any) -> list[str]:
    """The directions in which a NetworkPolicy lets everything through: a rule with no
    peers, or with a peer standing for everyone, on every port. Policies add up, so one
    such rule undoes the namespace's default deny."""
    spec = policy.props.get("spec") or {}
    found = []
    for direction, key in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction) or []:
            peers = (rule or {}).get(key) or []
            open_peer = not peers or any(_everyone(p or {}) for p in peers)
            world = any("ipBlock" in (p or {}) and _everyone(p) for p in peers)
            if open_peer and (not (rule or {}).get("ports") or world):
                found.append(direction)
                break
    return found


def check_namespaces(args: StackValidationArgs, report: ReportViolation) -> None:
    policies = _of(args.resources, NETWORK_POLICY)
    denied = {(p.props.get("metadata") or {}).get("namespace") for p in policies
              if _denies_all(p)}
    for policy in policies:
        opened = _allows_all(policy)
        if opened:
            meta = policy.props.get("metadata") or {}
            report(f"NetworkPolicy {meta.get('name', policy.name)} in {meta.get('namespace')} "
                   f"allows all {' and '.join(opened)} traffic, undoing the default deny",
                   policy.urn)
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
        net = _network(prefix)
        if net is None:
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
    management_from_management_zone,
    narrow_source_prefixes,
    encrypted_volumes,
    anti_affinity_for_replicated_roles,
    core_app_replicas,
    backups_to_dr_site,
    no_public_ip_in_data_zone,
    tls_on_listeners,
    default_deny_in_every_namespace,
    port_security_everywhere,
    data_zones_off_the_border,
    image_provenance,
    audit_log_retention,
]

