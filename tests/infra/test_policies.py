"""Every policy of the pack with passing and failing fixtures, called through `validate`."""

from __future__ import annotations

from typing import Any

import pytest

from courtcloud.infra.mocks import Declared
from courtcloud.infra.verdicts import resource_args, stack_args
from infra.policy import rules

# The config a stack's model gives the pack (`model_facts`), here for a made-up stack.
LEVEL = {"securityLevel": 3, "encryptedBackends": ["ceph-volumes"],
         "managementCidrs": ["10.10.12.0/22"], "registries": ["registry.court/courtcloud"],
         "hypervisors": 16}


def res(type_: str, logical: str, **inputs: Any) -> Declared:
    return Declared(type_, logical, inputs, True, f"{logical}-id")


def violations_of(policy: Any, resources: list[Declared]) -> list[str]:
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    if isinstance(policy, rules.ResourceValidationPolicy):
        for resource in resources:
            policy.validate(resource_args(resource, "test", config=LEVEL), report)
    else:
        policy.validate(stack_args(resources, "test", config=LEVEL), report)
    return found


def rule(**inputs: Any) -> Declared:
    base = {"direction": "ingress", "protocol": "tcp", "ethertype": "IPv4",
            "securityGroupId": "sg-id"}
    return res(rules.SEC_GROUP_RULE, "rule", **(base | inputs))


@pytest.mark.parametrize("fixture", [
    rule(portRangeMin=443, portRangeMax=443, remoteIpPrefix="0.0.0.0/0",
         description="edge tier: public-https ingress 0.0.0.0/0 tcp/443-443"),
    rule(portRangeMin=22, portRangeMax=22, remoteGroupId="bastion-id",
         description="network tier: admin-ssh"),
    rule(portRangeMin=5432, portRangeMax=5432, remoteIpPrefix="10.20.8.10/32",
         description="network tier: database-replication-from-standby"),
])
def test_world_open_rules_pass(fixture):
    assert violations_of(rules.no_world_open_management_ports, [fixture]) == []


@pytest.mark.parametrize("fixture", [
    rule(portRangeMin=22, portRangeMax=22, remoteIpPrefix="0.0.0.0/0",
         description="edge tier: oops"),
    rule(portRangeMin=1, portRangeMax=65535, remoteIpPrefix="0.0.0.0/0",
         description="edge tier: everything"),
    rule(portRangeMin=8443, portRangeMax=8443, remoteIpPrefix="0.0.0.0/0",
         description="host tier: exchange-ferry"),
    rule(description="no remote, no ports"),
    # the bypasses: the world in two halves, a description that claims the edge, egress
    rule(portRangeMin=22, portRangeMax=22, remoteIpPrefix="0.0.0.0/1",
         description="network tier: admin"),
    rule(portRangeMin=22, portRangeMax=22, remoteIpPrefix="128.0.0.0/1",
         description="network tier: admin"),
    rule(portRangeMin=8080, portRangeMax=8080, remoteIpPrefix="0.0.0.0/0",
         description="edge tier: public-https ingress 0.0.0.0/0 tcp/8080-8080"),
    rule(portRangeMin=443, portRangeMax=443, protocol="udp", remoteIpPrefix="0.0.0.0/0",
         description="edge tier: quic"),
    rule(direction="egress", portRangeMin=443, portRangeMax=443, remoteIpPrefix="0.0.0.0/0",
         description="host tier: updates"),
    rule(portRangeMin=5432, portRangeMax=5432, remoteIpPrefix="not-a-prefix",
         description="network tier: garbled"),
])
def test_world_open_rules_fail(fixture):
    assert violations_of(rules.no_world_open_management_ports, [fixture])


def volume_type(name: str, encrypted: str, backend: str = "ceph-volumes") -> Declared:
    return res(rules.VOLUME_TYPE, name, name=name,
               extraSpecs={"courtcloud:encrypted": encrypted, "volume_backend_name": backend})


def flavor(encrypted: bool) -> Declared:
    specs = {"hw:ephemeral_encryption": "True"} if encrypted else {}
    return res(rules.FLAVOR, f"f-{encrypted}", name="f", extraSpecs=specs)


def local_server(encrypted: bool, **inputs: Any) -> list[Declared]:
    return [flavor(encrypted), res(rules.INSTANCE, "s", name="s", flavorId=f"f-{encrypted}-id",
                                   imageId="img", **inputs)]


def test_encrypted_volumes_pass():
    resources = [volume_type("primary-volumes", "true"),
                 res(rules.VOLUME, "a-boot", size=80, volumeType="primary-volumes"),
                 *local_server(True),  # a hypervisor disk the flavor encrypts
                 flavor(False), res(rules.INSTANCE, "b", flavorId="f-False-id", blockDevices=[
                     {"sourceType": "volume", "destinationType": "volume", "uuid": "a-boot-id",
                      "bootIndex": 0}])]
    assert violations_of(rules.encrypted_volumes, resources) == []


@pytest.mark.parametrize("resources", [
    [volume_type("plain", "false", backend="lvm-plain"),
     res(rules.VOLUME, "a-boot", size=80, volumeType="plain")],
    [res(rules.VOLUME, "a-boot", size=80)],
    [res(rules.VOLUME, "a-boot", size=80, volumeType="__DEFAULT__")],
    # the bypasses: a spec that claims encryption on a back end that does not encrypt, and
    # a server whose disk on the hypervisor nothing encrypts
    [volume_type("fake", "true", backend="lvm-plain"),
     res(rules.VOLUME, "a-boot", size=80, volumeType="fake")],
    local_server(False),
    local_server(True, blockDevices=[{"sourceType": "image", "destinationType": "volume",
                                      "bootIndex": 0, "uuid": "img"}]),
])
def test_encrypted_volumes_fail(resources):
    assert violations_of(rules.encrypted_volumes, resources)


def server(name: str, roles: str, group: str | None, hints: bool = True) -> Declared:
    meta = {"courtcloud-site": "p", "courtcloud-pool": name.rsplit("-", 1)[0].split("-", 1)[1],
            "courtcloud-roles": roles, "courtcloud-server-group": group or ""}
    return res(rules.INSTANCE, name, name=name, metadata=meta,
               schedulerHints=[{"group": f"{group}-id"}] if hints and group else None)


def pool(prefix: str, roles: str, count: int, group: str | None, hints: bool = True) -> list:
    return [server(f"{prefix}-{i}", roles, group, hints) for i in range(1, count + 1)]


def untagged_databases(count: int) -> list[Declared]:
    """Servers with no courtcloud metadata whose ports carry a group admitting PostgreSQL."""
    found = [res(rules.SEC_GROUP, "db-sg", name="db-sg"),
             rule(portRangeMin=5432, portRangeMax=5432, remoteIpPrefix="10.10.4.0/22",
                  securityGroupId="db-sg-id")]
    for i in range(count):
        found.append(res(rules.PORT, f"db{i}-port", securityGroupIds=["db-sg-id"]))
        found.append(res(rules.INSTANCE, f"db{i}", name=f"db{i}", metadata={},
                         networks=[{"port": f"db{i}-port-id"}]))
    return found


def test_anti_affinity_passes():
    resources = [res(rules.SERVER_GROUP, "p-database", name="p-database",
                     policies="anti-affinity"),
                 *pool("p-database", "database", 3, "p-database"),
                 *pool("p-bastion", "bastion", 2, None),  # not a replicated role
                 *pool("p-etcd", "etcd", 1, None)]  # a single host cannot be spread
    assert violations_of(rules.anti_affinity_for_replicated_roles, resources) == []


@pytest.mark.parametrize("resources", [
    pool("p-database", "database", 3, None),
    [res(rules.SERVER_GROUP, "p-database", name="p-database", policies="soft-anti-affinity"),
     *pool("p-database", "database", 3, "p-database")],
    [res(rules.SERVER_GROUP, "p-database", name="p-database", policies="anti-affinity"),
     *pool("p-database", "database", 3, "p-database", hints=False)],
    # the bypass: database servers without the program's metadata, in no group
    untagged_databases(3),
    untagged_databases(1),  # and a lone one has no replica at all
])
def test_anti_affinity_fails(resources):
    assert violations_of(rules.anti_affinity_for_replicated_roles, resources)


def test_a_large_pool_may_spread_softly_but_not_a_small_one():
    group = res(rules.SERVER_GROUP, "p-k8s-worker", name="p-k8s-worker",
                policies="soft-anti-affinity")
    large = pool("p-k8s-worker", "k8s-worker", 20, "p-k8s-worker")
    assert violations_of(rules.anti_affinity_for_replicated_roles, [group, *large]) == []
    small = pool("p-k8s-worker", "k8s-worker", 3, "p-k8s-worker")
    assert violations_of(rules.anti_affinity_for_replicated_roles, [group, *small])




def deployment(replicas: int | None, core: str = "true") -> Declared:
    spec = {} if replicas is None else {"replicas": replicas}
    return res(rules.DEPLOYMENT, "chain", metadata={"labels": {"courtcloud.court/core": core}},
               spec=spec)


@pytest.mark.parametrize("fixture", [deployment(2), deployment(4), deployment(1, core="false")])
def test_core_replicas_pass(fixture):
    assert violations_of(rules.core_app_replicas, [fixture]) == []


@pytest.mark.parametrize("fixture", [
    deployment(1), deployment(None),
    res(rules.STATEFUL_SET, "ledger", metadata={"labels": {"courtcloud.court/core": "true"}},
        spec={"replicas": 1}),
])
def test_core_replicas_fail(fixture):
    assert violations_of(rules.core_app_replicas, [fixture])


def plan(target_role: str = "dr", schedule: str = "0 2 * * *") -> Declared:
    return res(rules.BACKUP_PLAN, "primary-backup", targetSite="dr-miyun",
               targetRole=target_role, schedule=schedule, retentionDays=180)


@pytest.mark.parametrize("resources", [
    [server("p-database-1", "database", "g"), plan()],
    [server("m-database-1", "database", "g"), res(rules.DR_SITE, "dr-miyun")],
    [server("p-bastion-1", "bastion", None)],
])
def test_backups_pass(resources):
    assert violations_of(rules.backups_to_dr_site, resources) == []


@pytest.mark.parametrize("resources", [
    [server("p-database-1", "database", "g")],
    [server("p-database-1", "database", "g"), plan(target_role="standby")],
    [server("p-database-1", "database", "g"), plan(schedule="")],
    untagged_databases(2),  # the bypass: what serves PostgreSQL holds data, tagged or not
])
def test_backups_fail(resources):
    assert violations_of(rules.backups_to_dr_site, resources)


@pytest.mark.parametrize("fixture", [
    res(rules.FLOATING_IP, "edge", tags=["courtcloud", "zone=edge", "zone-kind=edge"]),
    res(rules.FLOATING_IP, "x", tags=["zone=exch-inet", "zone-kind=exchange-internet"]),
    res(rules.INSTANCE, "db", metadata={"courtcloud-zone-kind": "data"}, accessIpV4=""),
])
def test_public_ips_pass(fixture):
    assert violations_of(rules.no_public_ip_in_data_zone, [fixture]) == []


@pytest.mark.parametrize("fixture", [
    res(rules.FLOATING_IP, "db", tags=["zone=data", "zone-kind=data"]),
    res(rules.FLOATING_IP, "untagged"),
    res(rules.FLOATING_IP_ASSOCIATE, "assoc", portId="p", floatingIp="203.0.113.9"),
    res(rules.COMPUTE_FLOATING_IP_ASSOCIATE, "assoc", instanceId="i", floatingIp="203.0.113.9"),
    res(rules.INSTANCE, "db", metadata={"courtcloud-zone-kind": "data"},
        accessIpV4="203.0.113.7"),
])
def test_public_ips_fail(fixture):
    assert violations_of(rules.no_public_ip_in_data_zone, [fixture])


def listener(name: str, protocol: str) -> Declared:
    return res(rules.LISTENER, name, name=name, protocol=protocol, protocolPort=443)


def redirect(name: str, prefix: str = "https://edge.court") -> Declared:
    return res(rules.L7_POLICY, name, name=name, action="REDIRECT_PREFIX", redirectPrefix=prefix)


@pytest.mark.parametrize("resources", [
    [listener("edge-443", "HTTPS")],
    [listener("edge-443", "TERMINATED_HTTPS")],
    [listener("edge-80", "HTTP"), redirect("edge-80-to-https")],
])
def test_listener_tls_pass(resources):
    assert violations_of(rules.tls_on_listeners, resources) == []


@pytest.mark.parametrize("resources", [
    [listener("edge-80", "HTTP")],
    [listener("edge-80", "HTTP"), redirect("edge-80-to-https", prefix="http://edge.court")],
    [listener("db-5432", "TCP")],
])
def test_listener_tls_fail(resources):
    assert violations_of(rules.tls_on_listeners, resources)


def namespace(name: str, enforce: str = "restricted") -> Declared:
    return res(rules.NAMESPACE, name, metadata={
        "name": name, "labels": {"pod-security.kubernetes.io/enforce": enforce}})


def deny(namespace_name: str, **spec: Any) -> Declared:
    base = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return res(rules.NETWORK_POLICY, f"{namespace_name}-deny",
               metadata={"name": "default-deny", "namespace": namespace_name}, spec=base | spec)


def allow(namespace_name: str, **spec: Any) -> Declared:
    return res(rules.NETWORK_POLICY, f"{namespace_name}-allow",
               metadata={"name": "allow", "namespace": namespace_name},
               spec={"podSelector": {}} | spec)


def test_namespaces_pass():
    resources = [namespace("court-chain"), deny("court-chain"),
                 allow("court-chain", policyTypes=["Egress"], egress=[{"to": [
                     {"namespaceSelector": {"matchLabels": {
                         "kubernetes.io/metadata.name": "kube-system"}}}],
                     "ports": [{"protocol": "UDP", "port": 53}]}]),
                 allow("court-chain", policyTypes=["Ingress"], ingress=[{"from": [
                     {"namespaceSelector": {"matchLabels": {"courtcloud.court/role": "ingress"}}}],
                     "ports": [{"port": 8080}]}])]
    assert violations_of(rules.default_deny_in_every_namespace, resources) == []


@pytest.mark.parametrize("resources", [
    [namespace("court-chain")],
    [namespace("court-chain"), deny("court-other")],
    [namespace("court-chain"), deny("court-chain", policyTypes=["Ingress"])],
    [namespace("court-chain"), deny("court-chain", ingress=[{"from": []}])],
    [namespace("court-chain", enforce="baseline"), deny("court-chain")],
    # the bypass: a policy beside the default deny that lets everything in (policies add up)
    [namespace("court-chain"), deny("court-chain"),
     allow("court-chain", policyTypes=["Ingress"], ingress=[{}])],
    [namespace("court-chain"), deny("court-chain"),
     allow("court-chain", policyTypes=["Ingress"], ingress=[{"from": [
         {"namespaceSelector": {}}]}])],
    [namespace("court-chain"), deny("court-chain"),
     allow("court-chain", policyTypes=["Egress"], egress=[{"to": [
         {"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}])],
])
def test_namespaces_fail(resources):
    assert violations_of(rules.default_deny_in_every_namespace, resources)


def test_every_policy_names_its_clause():
    assert len(rules.POLICIES) == 14
    for policy in rules.POLICIES:
        assert policy.framework.name == "GB/T 22239-2019"
        assert policy.framework.reference.startswith("8.1.")


@pytest.mark.parametrize(("fixture", "fails"), [
    (res(rules.PORT, "p", portSecurityEnabled=True, securityGroupIds=["sg"]), False),
    (res(rules.PORT, "p", portSecurityEnabled=True,
         allowedAddressPairs=[{"ipAddress": "10.10.0.5/32"}]), False),
    (res(rules.PORT, "p", portSecurityEnabled=False), True),
    (res(rules.NETWORK, "n", portSecurityEnabled=False), True),
    (res(rules.PORT, "p", allowedAddressPairs=[{"ipAddress": "0.0.0.0/0"}]), True),
    (res(rules.PORT, "p", allowedAddressPairs=[{"ipAddress": "10.10.0.0/24"}]), True),
])
def test_port_security_stays_on(fixture, fails):
    assert bool(violations_of(rules.port_security_everywhere, [fixture])) is fails


# --- remote administration only from the management zone ------------------------------

def admin_group(name: str, subnet_cidr: str) -> list[Declared]:
    """A group whose one port sits in a subnet of `subnet_cidr`."""
    return [res(rules.SUBNET, f"{name}-subnet", cidr=subnet_cidr),
            res(rules.SEC_GROUP, name, name=name),
            res(rules.PORT, f"{name}-port", securityGroupIds=[f"{name}-id"],
                fixedIps=[{"subnetId": f"{name}-subnet-id", "ipAddress": "10.10.12.10"}])]


@pytest.mark.parametrize(("resources", "fails"), [
    ([rule(portRangeMin=22, portRangeMax=22, remoteIpPrefix="10.10.12.10/32")], False),
    ([*admin_group("bastion", "10.10.12.0/22"),
      rule(portRangeMin=22, portRangeMax=22, remoteGroupId="bastion-id")], False),
    ([rule(portRangeMin=443, portRangeMax=443, remoteIpPrefix="10.10.4.0/22")], False),
    # the bypass: SSH from anywhere in the intranet but the management zone
    ([rule(portRangeMin=22, portRangeMax=22, remoteIpPrefix="10.10.4.0/22")], True),
    ([rule(portRangeMin=3389, portRangeMax=3389, remoteIpPrefix="10.10.8.10/32")], True),
    ([rule(portRangeMin=1, portRangeMax=65535, remoteIpPrefix="10.10.4.0/24")], True),
    ([*admin_group("apps", "10.10.4.0/22"),
      rule(portRangeMin=22, portRangeMax=22, remoteGroupId="apps-id")], True),
    ([rule(portRangeMin=22, portRangeMax=22, remoteGroupId="nowhere-id")], True),
])
def test_administration_only_from_the_management_zone(resources, fails):
    found = violations_of(rules.management_from_management_zone, resources)
    assert bool(found) is fails, found


@pytest.mark.parametrize(("prefix", "fails"), [
    ("10.10.4.0/22", False), ("10.20.8.10/32", False),
    ("10.0.0.0/8", True), ("10.10.0.0/16", True), ("172.16.0.0/12", True),
])
def test_sources_are_no_broader_than_a_zone(prefix, fails):
    fixture = rule(portRangeMin=5432, portRangeMax=5432, remoteIpPrefix=prefix)
    assert bool(violations_of(rules.narrow_source_prefixes, [fixture])) is fails


# --- only internet-facing zones on the border router ----------------------------------

def border(kind: str | None, database_port: bool = False) -> list[Declared]:
    tags = ["courtcloud", f"zone-kind={kind}"] if kind else ["courtcloud"]
    found = [res(rules.ROUTER, "border", name="border", externalNetworkId="public-id"),
             res(rules.SUBNET, "zone", name="zone", cidr="10.10.0.0/22", tags=tags),
             res(rules.ROUTER_INTERFACE, "zone-if", routerId="border-id", subnetId="zone-id")]
    if database_port:
        found += [res(rules.SEC_GROUP, "sg", name="sg"),
                  rule(portRangeMin=5432, portRangeMax=5432, remoteIpPrefix="10.10.4.0/22"),
                  res(rules.PORT, "p", securityGroupIds=["sg-id"],
                      fixedIps=[{"subnetId": "zone-id", "ipAddress": "10.10.0.10"}]),
                  res(rules.INSTANCE, "db", name="db", networks=[{"port": "p-id"}])]
    return found


@pytest.mark.parametrize(("resources", "fails"), [
    (border("edge"), False),
    (border("exchange-internet"), False),
    (border("data"), True),
    (border("exchange-intranet"), True),
    (border(None), True),
    (border("edge", database_port=True), True),
    ([res(rules.ROUTER, "core", name="core"), res(rules.SUBNET, "zone", tags=["zone-kind=data"]),
      res(rules.ROUTER_INTERFACE, "zone-if", routerId="core-id", subnetId="zone-id")], False),
])
def test_only_internet_facing_zones_hang_off_the_border_router(resources, fails):
    assert bool(violations_of(rules.data_zones_off_the_border, resources)) is fails


# --- image provenance ---------------------------------------------------------------------

DIGEST = "sha256:" + "ab" * 32


def deployment_with(image: str) -> Declared:
    return res(rules.DEPLOYMENT, "d", spec={"template": {"spec": {"containers": [
        {"name": "chain", "image": image}]}}})


@pytest.mark.parametrize(("fixture", "fails"), [
    (deployment_with(f"registry.court/courtcloud/chain@{DIGEST}"), False),
    (deployment_with("registry.court/courtcloud/chain:1.2.0"), True),  # a tag can be moved
    (deployment_with(f"docker.io/library/chain@{DIGEST}"), True),  # not the court's
    (deployment_with(f"registry.court/courtcloudx/chain@{DIGEST}"), True),
    (res(rules.INSTANCE, "s", imageName="debian-12"), True),
    (res(rules.INSTANCE, "s", imageId="3f1c7a52"), False),
])
def test_images_come_from_the_courts_registry_by_digest(fixture, fails):
    assert bool(violations_of(rules.image_provenance, [fixture])) is fails


# --- audit logs reach a collector that keeps them --------------------------------------

def log_stack(days: int = 180, ships: bool = True, collector: bool = True) -> list[Declared]:
    import json

    facts = json.dumps({"log_retention_days": days})
    user_data = ("#cloud-config\nwrite_files:\n- path: /etc/courtcloud/host.json\n"
                 f"  content: '{facts}'\n")
    found = [res(rules.SEC_GROUP, "ops", name="ops"), res(rules.SEC_GROUP, "app", name="app"),
             res(rules.PORT, "ops-port", securityGroupIds=["ops-id"],
                 fixedIps=[{"ipAddress": "10.10.12.20"}]),
             res(rules.PORT, "app-port", securityGroupIds=["app-id"]),
             res(rules.INSTANCE, "app-1", networks=[{"port": "app-port-id"}])]
    if collector:
        found += [res(rules.INSTANCE, "ops-1", networks=[{"port": "ops-port-id"}],
                      userData=user_data),
                  res(rules.SEC_GROUP_RULE, "in", direction="ingress", protocol="tcp",
                      portRangeMin=6514, portRangeMax=6514, remoteGroupId="app-id",
                      securityGroupId="ops-id")]
    if ships:
        found.append(res(rules.SEC_GROUP_RULE, "out", direction="egress", protocol="tcp",
                         portRangeMin=6514, portRangeMax=6514, remoteIpPrefix="10.10.12.20/32",
                         securityGroupId="app-id"))
    return found


@pytest.mark.parametrize(("resources", "fails"), [
    (log_stack(), False),
    (log_stack(days=90), True),
    (log_stack(ships=False), True),
    (log_stack(collector=False), True),
])
def test_every_host_ships_logs_to_a_collector_that_keeps_them(resources, fails):
    assert bool(violations_of(rules.audit_log_retention, resources)) is fails


def test_the_stacks_model_gives_the_pack_its_facts():
    facts = rules.model_facts("primary")
    assert facts["encryptedBackends"] == ["ceph-volumes"]
    assert "10.10.12.0/22" in facts["managementCidrs"]
    assert rules.model_facts("no-such-stack") == {}
