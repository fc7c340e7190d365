"""The program's body: load and validate the model, then build each of the stack's sites."""

from __future__ import annotations

from typing import Any

import pulumi

from courtcloud.model import ModelError, SiteRole

from . import dr_miyun, model  # type: ignore[attr-defined]  # registered in infra/__init__
from .k8s import SiteApps, SiteAppsArgs
from .openstack.site import CloudSettings, OpenStackSite, SiteArgs


class StackModelError(pulumi.RunError):
    """The stack's model is invalid: nothing was declared. `problems` name file, field, fix."""

    def __init__(self, error: ModelError):
        self.problems = error.problems
        super().__init__(str(error))


def main() -> None:
    stack = pulumi.get_stack()
    try:
        loaded = model.load(stack)
    except ModelError as error:
        raise StackModelError(error) from None
    cloud = CloudSettings.from_config()
    k8s_config = pulumi.Config("site-k8s")
    kubeconfig = k8s_config.get_secret("kubeconfig")
    registry, digests = "", {}
    if kubeconfig is not None:
        # the apps stage pulls only from the court's registry, each image by its digest
        registry = k8s_config.require("registry")
        digests = k8s_config.get_object("images") or {}
    for site in loaded.sites:
        exports: dict[str, Any] = {"role": str(site.role)}
        built = OpenStackSite(site.name, SiteArgs(loaded.estate, site, cloud))
        exports.update(built.exports())
        if site.kubernetes and kubeconfig is None:
            # Stage 2 waits for the cluster: with no kubeconfig the provider would deploy
            # into whatever cluster the machine's ambient context names.
            pulumi.log.warn(
                f"site {site.name}: no site-k8s:kubeconfig in the stack's secret config, so the"
                " apps stage is skipped. Run the site playbook (it makes the cluster), then"
                " `pulumi config set --secret site-k8s:kubeconfig \"$(cat KUBECONFIG)\"` and"
                " `pulumi up` again")
        for cluster in site.kubernetes if kubeconfig is not None else []:
            SiteApps(cluster.name, SiteAppsArgs(loaded.estate, site, cluster, kubeconfig,
                                                registry, digests),
                     pulumi.ResourceOptions(depends_on=[built]))
        if site.role is SiteRole.dr:
            # the vault and the court's DNS zone belong to the site's project too
            recovery = dr_miyun.DisasterRecoverySite(
                site.name, dr_miyun.RecoveryArgs(loaded.estate, site, loaded.site_stacks),
                pulumi.ResourceOptions(providers={"openstack": built.project.provider}))
            exports["vault"] = list(recovery.containers)
            exports["warmCapacity"] = recovery.warm_capacity
        if site.backup is not None:
            plan = dr_miyun.BackupPlan(f"{site.name}-backup", loaded.estate, site)
            exports["backup"] = plan.props
        if site.replication is not None:
            peers = dr_miyun.ReplicationPeers(f"{site.name}-replication", loaded.estate, site)
            exports["replication"] = peers.props
        pulumi.export(site.name, exports)
        pulumi.export(f"{site.name}-secrets", built.secret_exports())
