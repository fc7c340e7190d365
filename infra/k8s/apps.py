"""A site's Kubernetes: one namespace per app with Pod Security `restricted`, a default-deny
NetworkPolicy, the egress each app needs (the worker pool's flows in the model), a
ResourceQuota, and the app's chart from `charts/<app>` with the values `courtcloud.charts`
derives from the model (the same values the lab renders the charts with)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from courtcloud.charts import CHARTS_DIR, chart_defaults, chart_path, chart_values, namespace_name
from courtcloud.model import Estate, Site, site_hosts
from courtcloud.model.schema import AppPlacement, KubernetesCluster

__all__ = ["CHARTS_DIR", "SiteApps", "SiteAppsArgs", "chart_defaults", "chart_path",
           "chart_values", "namespace_name", "quota", "worker_egress"]

POD_SECURITY = "restricted"
# Cluster DNS: every pod may ask kube-system's resolver, and nothing else outside the rules.
DNS_PORT = 53
# Pods a rolling update may run at once: the replicas plus one surge pod.
SURGE = 1
# The site's ingress controller lives here; the apps' NetworkPolicies let in the namespace
# carrying the charts' `ingressNamespaceLabel`, and only this one carries it.
INGRESS_NAMESPACE = "court-ingress"
INGRESS_PORT = 443  # where the edge tier's flows reach the workers (edge-to-ingress)


def ingress_label() -> dict[str, str]:
    """The label the charts' NetworkPolicies expect on the ingress namespace (one value
    across the charts: the charts are its source)."""
    from courtcloud.apps import releases

    labels = {_label_items(chart_defaults(app).get("ingressNamespaceLabel") or {})
              for app in releases()}
    if len(labels) != 1:
        raise ValueError(f"the charts disagree on ingressNamespaceLabel: {sorted(labels)}")
    return dict(labels.pop())


def _label_items(mapping: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A label mapping as something a set can hold."""
    return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


def ingress_sources(site: Site, cluster: KubernetesCluster) -> list[str]:
    """The hosts the model lets reach the workers' ingress port (the edge tier, the
    exchange gateway's intranet side): each address, /32."""
    pools = {p.name for p in site.compute_pools}
    sources = {flow.source for flow in site.flows
               if flow.destination == cluster.worker_pool and flow.source in pools
               and any(low <= INGRESS_PORT <= high for low, high in flow.ports)}
    return sorted({f"{a}/32" for h in site_hosts(site) if h.pool in sources
                   for a in h.addresses.values()})


def worker_egress(site: Site, cluster: KubernetesCluster) -> list[dict[str, Any]]:
    """NetworkPolicy egress rules mirroring the model's flows from the worker pool."""
    rules: list[dict[str, Any]] = []
    pools = {p.name for p in site.compute_pools}
    hosts = site_hosts(site)
    for flow in site.flows:
        if flow.source != cluster.worker_pool:
            continue
        if flow.destination in pools:
            blocks = [f"{h.address}/32" for h in hosts if h.pool == flow.destination]
        else:
            blocks = [str(site.zone(flow.destination).cidr)]
        ports = []
        for low, high in flow.ports:
            port: dict[str, Any] = {"protocol": flow.protocol.upper(), "port": low}
            if high != low:
                port["endPort"] = high
            ports.append(port)
        rules.append({"to": [{"ipBlock": {"cidr": b}} for b in blocks], "ports": ports})
    return rules


def _quantity(value: Any, unit: str) -> float:
    text = str(value)
    if unit == "cpu":
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    factors = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in factors.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) / (1024 * 1024)


def quota(app: AppPlacement) -> dict[str, str]:
    pods = app.replicas + SURGE
    hard = {"pods": str(pods)}
    limits = (chart_defaults(app).get("resources") or {}).get("limits") or {}
    requests = (chart_defaults(app).get("resources") or {}).get("requests") or {}
    for kind, values in (("limits", limits), ("requests", requests)):
        if "cpu" in values:
            hard[f"{kind}.cpu"] = f"{_quantity(values['cpu'], 'cpu') * pods:g}"
        if "memory" in values:
            hard[f"{kind}.memory"] = f"{_quantity(values['memory'], 'memory') * pods:g}Mi"
    return hard


@dataclass(frozen=True)
class SiteAppsArgs:
    estate: Estate
    site: Site
    cluster: KubernetesCluster
    kubeconfig: pulumi.Input[str]  # the site's cluster, from the stack's secret config
    registry: str  # the court's registry the cluster pulls from (site-k8s:registry)
    digests: dict[str, str]  # each app's image digest there (site-k8s:images)


class SiteApps(pulumi.ComponentResource):
    def __init__(self, name: str, args: SiteAppsArgs, opts: pulumi.ResourceOptions | None = None):
        site, cluster = args.site, args.cluster
        super().__init__("courtcloud:k8s:SiteApps", name,
                         {"site": site.name, "cluster": cluster.name}, opts)
        provider = k8s.Provider(f"{cluster.name}", kubeconfig=args.kubeconfig,
                                opts=pulumi.ResourceOptions(parent=self))
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        egress = worker_egress(site, cluster)
        version = f"v{cluster.version}"
        self.namespaces: dict[str, k8s.core.v1.Namespace] = {}
        self.default_deny: dict[str, k8s.networking.v1.NetworkPolicy] = {}
        self.charts: dict[str, k8s.helm.v3.Chart] = {}
        self.ingress = self._ingress_namespace(site, cluster, child, version)
        for app in (a for a in site.apps if a.cluster == cluster.name):
            ns_name = namespace_name(app)
            labels = {"courtcloud.court/app": str(app.name), "courtcloud.court/site": site.name}
            for mode in ("enforce", "audit", "warn"):
                labels[f"pod-security.kubernetes.io/{mode}"] = POD_SECURITY
                labels[f"pod-security.kubernetes.io/{mode}-version"] = version
            namespace = k8s.core.v1.Namespace(
                f"{cluster.name}-{ns_name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=ns_name, labels=labels), opts=child)
            self.namespaces[str(app.name)] = namespace
            in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                depends_on=[namespace]))
            meta = {"namespace": ns_name}
            self.default_deny[str(app.name)] = k8s.networking.v1.NetworkPolicy(
                f"{cluster.name}-{ns_name}-default-deny",
                metadata={**meta, "name": "default-deny"},
                spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, opts=in_ns)
            k8s.networking.v1.NetworkPolicy(
                f"{cluster.name}-{ns_name}-allow-dns",
                metadata={**meta, "name": "allow-dns"},
                spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                    "to": [{"namespaceSelector": {"matchLabels": {
                        "kubernetes.io/metadata.name": "kube-system"}}}],
                    "ports": [{"protocol": "UDP", "port": DNS_PORT},
                              {"protocol": "TCP", "port": DNS_PORT}]}]},
                opts=in_ns)
            if egress:
                k8s.networking.v1.NetworkPolicy(
                    f"{cluster.name}-{ns_name}-allow-site-flows",
                    metadata={**meta, "name": "allow-site-flows"},
                    spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": egress},
                    opts=in_ns)
            k8s.core.v1.ResourceQuota(
                f"{cluster.name}-{ns_name}", metadata={**meta, "name": "app"},
                spec={"hard": quota(app)}, opts=in_ns)
            path = chart_path(app)
            if path is not None:
                values = chart_values(args.estate, site, app)
                values["image"] = {**values.get("image", {}), **image_values(args, str(app.name))}
                self.charts[str(app.name)] = k8s.helm.v3.Chart(
                    f"{cluster.name}-{app.name}",
                    k8s.helm.v3.LocalChartOpts(path=str(path), namespace=ns_name, values=values),
                    opts=in_ns)
        self.register_outputs({"namespaces": list(self.namespaces)})

    def _ingress_namespace(self, site: Site, cluster: KubernetesCluster,
                           child: pulumi.ResourceOptions,
                           version: str) -> k8s.core.v1.Namespace:
        """The ingress controller's namespace: the label the apps' policies let in, the
        same Pod Security and default deny as theirs, in from the model's ingress sources
        only, out to the apps' namespaces only."""
        labels = {**ingress_label(), "courtcloud.court/site": site.name}
        for mode in ("enforce", "audit", "warn"):
            labels[f"pod-security.kubernetes.io/{mode}"] = POD_SECURITY
            labels[f"pod-security.kubernetes.io/{mode}-version"] = version
        namespace = k8s.core.v1.Namespace(
            f"{cluster.name}-{INGRESS_NAMESPACE}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=INGRESS_NAMESPACE, labels=labels),
            opts=child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            depends_on=[namespace]))
        meta = {"namespace": INGRESS_NAMESPACE}
        k8s.networking.v1.NetworkPolicy(
            f"{cluster.name}-{INGRESS_NAMESPACE}-default-deny",
            metadata={**meta, "name": "default-deny"},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, opts=in_ns)
        sources = ingress_sources(site, cluster)
        k8s.networking.v1.NetworkPolicy(
            f"{cluster.name}-{INGRESS_NAMESPACE}-from-edge",
            metadata={**meta, "name": "from-edge"},
            spec={"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{
                "from": [{"ipBlock": {"cidr": c}} for c in sources],
                "ports": [{"protocol": "TCP", "port": INGRESS_PORT}]}]} if sources else
            {"podSelector": {}, "policyTypes": ["Ingress"]},
            opts=in_ns)
        k8s.networking.v1.NetworkPolicy(
            f"{cluster.name}-{INGRESS_NAMESPACE}-to-apps",
            metadata={**meta, "name": "to-apps"},
            spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": [
                {"to": [{"namespaceSelector": {"matchExpressions": [
                    {"key": "courtcloud.court/app", "operator": "Exists"}]}}]},
                {"to": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "kube-system"}}}],
                 "ports": [{"protocol": "UDP", "port": DNS_PORT},
                           {"protocol": "TCP", "port": DNS_PORT}]}]},
            opts=in_ns)
        return namespace


def image_values(args: SiteAppsArgs, app: str) -> dict[str, str]:
    """The app's image in the court's registry, pinned by the digest the stack names."""
    digest = args.digests.get(app)
    if not digest:
        raise pulumi.RunError(
            f"site {args.site.name}: no digest for app {app!r} in site-k8s:images; push the "
            f"image to {args.registry} and set `pulumi config set --path "
            f"'site-k8s:images.{app}' sha256:...` (the registry's digest of the release)")
    return {"repository": f"{args.registry.rstrip('/')}/{app}", "digest": digest}
