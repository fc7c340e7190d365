"""Kubernetes components of a site: namespaces, network policies, quotas, the apps."""

from .apps import SiteApps, SiteAppsArgs

__all__ = ["SiteApps", "SiteAppsArgs"]
