"""The three security tiers as Neutron security groups: edge (CDN/WAF ingress from the
internet, published ports only), network (zone firewall: zone-to-zone and cross-site) and
host (pool to pool). Every group starts empty - default deny both ways - and holds only
the rules the model's flows and replication settings imply (8.1.3.2)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from courtcloud.model import Estate, Site

from . import derive


@dataclass(frozen=True)
class TiersArgs:
    estate: Estate
    site: Site


class SecurityTiers(pulumi.ComponentResource):
    def __init__(self, name: str, args: TiersArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("courtcloud:openstack:SecurityTiers", name, {"site": args.site.name},
                         opts)
        site = args.site
        child = pulumi.ResourceOptions(parent=self)
        self.groups: dict[str, openstack.networking.SecGroup] = {}
        for group in derive.security_groups(site):
            self.groups[group.key] = openstack.networking.SecGroup(
                f"{site.name}-{group.key}", name=f"{site.name}-{group.key}",
                description=f"{group.tier} tier: {group.key}", delete_default_rules=True,
                stateful=True, tags=derive.tags(site, zone=group.zone, tier=group.tier),
                opts=child)
        self.rules = derive.site_rules(args.estate, site)
        self.rule_resources: list[openstack.networking.SecGroupRule] = []
        for rule in self.rules:
            remote_group = self.groups[rule.remote_group].id if rule.remote_group else None
            self.rule_resources.append(openstack.networking.SecGroupRule(
                f"{site.name}-{rule.key}",
                security_group_id=self.groups[rule.group].id, direction=rule.direction,
                ethertype="IPv4", protocol=rule.protocol, port_range_min=rule.port_min,
                port_range_max=rule.port_max, remote_ip_prefix=rule.remote_cidr,
                remote_group_id=remote_group, description=rule.description, opts=child))
        self.register_outputs({"groups": {k: g.id for k, g in self.groups.items()}})
