"""OpenStack components of a site: project, zones, security tiers, hosts, storage, load
balancers."""
