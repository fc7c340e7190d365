"""The court's DNS in the lab, asked as a client would: which site's entry each published
name leads to now (roles/court_dns answers from the disaster-recovery site's ops host)."""

from __future__ import annotations

from typing import Any

from ..inventory import dns_records
from ..model import Estate, HostRole, SiteRole, entry_address
from .plan import LabPlan
from .podman import LabError, podman


def server(estate: Estate, plan: LabPlan) -> str:
    """The container of the host that serves the court's zone."""
    dr = {s.name for s in estate.sites if s.role is SiteRole.dr}
    for spec in plan.hosts:
        if spec.site in dr and str(HostRole.bastion) in spec.roles:
            return spec.container
    raise LabError("no disaster-recovery site has a bastion host to serve the court's zone: "
                   "add one to the lab stack")


def resolve(estate: Estate, plan: LabPlan, names: list[str] | None = None
            ) -> list[dict[str, Any]]:
    """Each name (default: every published name) with the addresses the court's DNS gives
    and the site whose entry that is."""
    host = server(estate, plan)
    sites = {str(entry_address(s)): s.name for s in estate.sites if entry_address(s)}
    rows = []
    for record in dns_records(estate):
        if names and record["name"] not in names:
            continue
        proc = podman("exec", host, "dig", "+short", "+time=2", "+tries=1", "@127.0.0.1",
                      record["name"], "A", check=False, timeout=30)
        if proc.returncode != 0:
            raise LabError(f"dig on {host} failed: {(proc.stderr or proc.stdout).strip()[-300:]}"
                           " (is the site playbook's court_dns play done? `courtcloud lab "
                           "configure`)")
        addresses = proc.stdout.split()
        rows.append({"name": record["name"], "addresses": addresses,
                     "sites": [sites.get(a, "?") for a in addresses],
                     "preference": record["sites"], "server": host})
    if names and not rows:
        raise LabError(f"{', '.join(names)}: not a published name (see `courtcloud lab resolve`)")
    return rows
