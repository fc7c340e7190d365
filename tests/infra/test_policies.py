"""Every policy of the pack with passing and failing fixtures, called through `validate`."""

from __future__ import annotations

from typing import Any

import pytest

from courtcloud.infra.mocks import Declared
from courtcloud.infra.verdicts import resource_args, stack_args
from infra.policy import rules

LEVEL = {"securityLevel": 3}


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


def volume_type(name: str, encrypted: str) -> Declared:
    return res(rules.VOLUME_TYPE, name, name=name,
               extraSpecs={"courtcloud:encrypted": encrypted})


def test_encrypted_volumes_pass():
    resources = [volume_type("primary-volumes", "true"),
                 res(rules.VOLUME, "a-boot", size=80, volumeType="primary-volumes")]
    assert violations_of(rules.encrypted_volumes, resources) == []


@pytest.mark.parametrize("resources", [
    [volume_type("plain", "false"), res(rules.VOLUME, "a-boot", size=80, volumeType="plain")],
    [res(rules.VOLUME, "a-boot", size=80)],
    [res(rules.VOLUME, "a-boot", size=80, volumeType="__DEFAULT__")],
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


def test_anti_affinity_passes():
    resources = [res(rules.SERVER_GROUP, "db", name="p-database", policies="anti-affinity"),
                 *pool("p-database", "database", 3, "p-database"),
                 *pool("p-bastion", "bastion", 2, None),  # not a replicated role
                 *pool("p-etcd", "etcd", 1, None)]  # a single host cannot be spread
    assert violations_of(rules.anti_affinity_for_replicated_roles, resources) == []


@pytest.mark.parametrize("resources", [
    pool("p-database", "database", 3, None),
    [res(rules.SERVER_GROUP, "db", name="p-database", policies="soft-anti-affinity"),
     *pool("p-database", "database", 3, "p-database")],
    [res(rules.SERVER_GROUP, "db", name="p-database", policies="anti-affinity"),
     *pool("p-database", "database", 3, "p-database", hints=False)],
])
def test_anti_affinity_fails(resources):
    assert violations_of(rules.anti_affinity_for_replicated_roles, resources)


def deployment(replicas: int | None, core: str = "true") -> Declared:
    spec = {} if replicas is None else {"replicas": replicas}
    return res(rules.DEPLOYMENT, "chain", metadata={"labels": {"courtcloud.court/core": core}},
               spec=spec)


@pytest.mark.parametrize("fixture", [deployment(2), deployment(4), deployment(1, core="false")])
def test_core_replicas_pass(fixture):
    assert violations_of(rules.core_app_replicas, [fixture]) == []


@pytest.mark.parametrize("fixture", [deployment(1), deployment(None)])
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


def test_namespaces_pass():
    resources = [namespace("court-chain"), deny("court-chain")]
    assert violations_of(rules.default_deny_in_every_namespace, resources) == []


@pytest.mark.parametrize("resources", [
    [namespace("court-chain")],
    [namespace("court-chain"), deny("court-other")],
    [namespace("court-chain"), deny("court-chain", policyTypes=["Ingress"])],
    [namespace("court-chain"), deny("court-chain", ingress=[{"from": []}])],
    [namespace("court-chain", enforce="baseline"), deny("court-chain")],
])
def test_namespaces_fail(resources):
    assert violations_of(rules.default_deny_in_every_namespace, resources)


def test_every_policy_names_its_clause():
    assert len(rules.POLICIES) == 9
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
