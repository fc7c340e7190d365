"""Published endpoints: what the internet may reach, as Octavia load balancers in the
edge-facing zones, each with one public address. TLS passes through to the edge tier's
hosts (the WAF/CDN nodes, which hold the court's certificates); a plain-HTTP listener only
ever redirects to HTTPS (8.1.2.2)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from courtcloud.model import Site

from . import derive


@dataclass(frozen=True)
class EndpointArgs:
    site: Site
    endpoint: derive.Endpoint
    subnet: openstack.networking.Subnet
    external_network: str
    security_groups: list[pulumi.Input[str]]
    router_interface: openstack.networking.RouterInterface | None = None  # of `subnet`


class PublishedEndpoint(pulumi.ComponentResource):
    def __init__(self, name: str, args: EndpointArgs, opts: pulumi.ResourceOptions | None = None):
        site, endpoint = args.site, args.endpoint
        super().__init__("courtcloud:openstack:PublishedEndpoint", name,
                         {"site": site.name, "name": endpoint.name,
                          "ports": list(endpoint.ports)}, opts)
        child = pulumi.ResourceOptions(parent=self)
        base = f"{site.name}-{endpoint.destination}"
        zone_tags = derive.tags(site, zone=endpoint.zone, tier="edge")
        self.balancer = openstack.loadbalancer.LoadBalancer(
            base, name=base, description=f"published as {endpoint.name}",
            vip_subnet_id=args.subnet.id, security_group_ids=args.security_groups,
            tags=zone_tags, opts=child)
        for port in endpoint.ports:
            listener_name = f"{base}-{port}"
            if port == derive.PLAINTEXT_HTTP_PORT:
                listener = openstack.loadbalancer.Listener(
                    listener_name, name=listener_name, loadbalancer_id=self.balancer.id,
                    protocol="HTTP", protocol_port=port, tags=zone_tags, opts=child)
                policy = openstack.loadbalancer.L7PolicyV2(
                    f"{listener_name}-to-https", name=f"{listener_name}-to-https",
                    listener_id=listener.id, action="REDIRECT_PREFIX",
                    redirect_prefix=f"https://{endpoint.name}", redirect_http_code=301,
                    position=1, opts=child)
                # Octavia applies a policy only through its rules: without one, port 80
                # would answer 503. Every path matches.
                openstack.loadbalancer.L7RuleV2(
                    f"{listener_name}-to-https", l7policy_id=policy.id, type="PATH",
                    compare_type="STARTS_WITH", value="/", opts=child)
                continue
            listener = openstack.loadbalancer.Listener(
                listener_name, name=listener_name, loadbalancer_id=self.balancer.id,
                protocol="HTTPS", protocol_port=port, tags=zone_tags, opts=child)
            pool = openstack.loadbalancer.Pool(
                listener_name, name=listener_name, listener_id=listener.id, protocol="HTTPS",
                lb_method="LEAST_CONNECTIONS", tags=zone_tags, opts=child)
            openstack.loadbalancer.Monitor(
                listener_name, name=listener_name, pool_id=pool.id, type="TLS-HELLO", delay=5,
                timeout=3, max_retries=3, opts=child)
            for index, address in enumerate(endpoint.members, start=1):
                openstack.loadbalancer.Member(
                    f"{listener_name}-{index}", name=f"{listener_name}-{index}", pool_id=pool.id,
                    address=address, protocol_port=port, subnet_id=args.subnet.id,
                    tags=zone_tags, opts=child)
        # Neutron associates a floating IP only with a port whose subnet the router already
        # reaches: wait for that router interface.
        self.address = openstack.networking.FloatingIp(
            base, pool=args.external_network, port_id=self.balancer.vip_port_id,
            description=f"public address of {endpoint.name}", tags=zone_tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[args.router_interface] if args.router_interface else [])))
        self.register_outputs({"name": endpoint.name, "address": self.address.address})
