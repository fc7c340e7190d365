"""Kubernetes components of a site: namespaces, network policies, quotas, the apps."""
