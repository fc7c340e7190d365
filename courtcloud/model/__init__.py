"""The site model: one typed description of a court's estate, from which everything else
(Pulumi resources, Ansible inventory, chart values, drill targets, baseline scope) is derived."""

from .addressing import Host, entry_address, estate_hosts, gateway, site_hosts
from .errors import ModelError, Problem
from .levels import LEVELS, LevelRequirements, requirements
from .loader import load_estate, load_project_estate, project_stacks, read_stack, validate_file
from .schema import (
    AppName,
    Estate,
    HostRole,
    Site,
    SiteRole,
    StorageKind,
    Zone,
    ZoneKind,
)

__all__ = [
    "LEVELS",
    "AppName",
    "Estate",
    "Host",
    "HostRole",
    "LevelRequirements",
    "ModelError",
    "Problem",
    "Site",
    "SiteRole",
    "StorageKind",
    "Zone",
    "ZoneKind",
    "entry_address",
    "estate_hosts",
    "gateway",
    "load_estate",
    "load_project_estate",
    "project_stacks",
    "read_stack",
    "requirements",
    "site_hosts",
    "validate_file",
]
