"""The values of an app's release on a site, derived from the site model, and its chart
(`charts/<app>`) rendered with them by Helm's SDK, offline.

Pure Python (no Pulumi): the Pulumi program (`infra/k8s`) installs the charts with these
values, and the lab runs the rendered Deployments as pods on its workers.

What the model decides, here: the replicas, the site, whether the app is core, the image
(repository and version from the app's own pyproject, through `courtcloud.apps`) and the
backends: the site's PostgreSQL cluster (every host of its `database` pools, the port from
roles/postgresql_ha), the site's object gateway (a host of its `ceph-rgw` pools, the port from
roles/ceph) and bucket (its object storage pool), the site's chain Service, and the chain
nodes of the estate's other sites. A Secret appears only by name, with the keys (files) the
pod reads from it; its value is the deployer's (the lab generates its own). Everything else
is the chart's default (`charts/<app>/values.yaml`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .apps import releases
from .model import Estate, Host, HostRole, Site, StorageKind, site_hosts
from .model.published import LITIGATION_AUDIENCE, identity_issuer
from .model.schema import AppName, AppPlacement, KubernetesCluster

PROJECT_DIR = Path(__file__).resolve().parents[1]
CHARTS_DIR = PROJECT_DIR / "charts"
ROLES_DIR = PROJECT_DIR / "roles"
NAMESPACE_PREFIX = "court-"
# Who calls whom inside a site (a fact of the apps' code: litigation registers evidence
# digests with the chain). The callee's NetworkPolicy lets the caller in.
CALLS: dict[str, tuple[str, ...]] = {"litigation": ("chain",)}
# The evidence bucket when a site has no object storage pool (roles/ceph's own fallback
# for `ceph_evidence_bucket`).
DEFAULT_BUCKET = "evidence"
# The chain nodes of other sites are reached through their site's ingress, over HTTPS on
# its own port (roles/ingress serves the published names on 443).
INGRESS_SCHEME = "https"
INGRESS_PORT = 443


class ChartValuesError(ValueError):
    """The model cannot give an app's release what it needs; names the site, app and fix."""


# --- charts and their defaults ------------------------------------------------------------

def app_name(app: AppPlacement | AppName | str) -> str:
    return str(app.name if isinstance(app, AppPlacement) else app)


def namespace_name(app: AppPlacement | AppName | str) -> str:
    return f"{NAMESPACE_PREFIX}{app_name(app)}"


def chart_path(app: AppPlacement | AppName | str) -> Path | None:
    path = CHARTS_DIR / app_name(app)
    return path if (path / "Chart.yaml").is_file() else None


@functools.cache
def _defaults(name: str) -> dict[str, Any]:
    path = chart_path(name)
    if path is None:
        return {}
    return yaml.safe_load((path / "values.yaml").read_text(encoding="utf-8")) or {}


def chart_defaults(app: AppPlacement | AppName | str) -> dict[str, Any]:
    """The chart's own values (`values.yaml`), or {} for an app with no chart yet."""
    return _copy(_defaults(app_name(app)))


@functools.cache
def _role_defaults(role: str) -> dict[str, Any]:
    path = ROLES_DIR / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def role_default(role: str, name: str) -> Any:
    """A tunable of an Ansible role, read from its defaults (a threshold lives once)."""
    try:
        return _role_defaults(role)[name]
    except KeyError:
        raise ChartValuesError(f"roles/{role}/defaults/main.yml has no {name}: the charts read "
                               "it from there") from None


# --- what the site model gives ------------------------------------------------------------

def placement(site: Site, app: AppPlacement | AppName | str) -> AppPlacement:
    name = app_name(app)
    found = next((a for a in site.apps if str(a.name) == name), None)
    if found is None:
        raise ChartValuesError(f"site {site.name}: app {name} is not placed there (placed: "
                               f"{', '.join(str(a.name) for a in site.apps) or 'none'}); "
                               "add it to the site's `apps` or choose another site")
    return found


def cluster_of(site: Site, app: AppPlacement) -> KubernetesCluster:
    return next(k for k in site.kubernetes if k.name == app.cluster)


def hosts_with(site: Site, role: HostRole) -> list[Host]:
    return [h for h in site_hosts(site) if role in h.roles]


def database_hosts(site: Site) -> list[Host]:
    """The members of the site's PostgreSQL cluster (roles/postgresql_ha's database group)."""
    return hosts_with(site, HostRole.database)


def object_gateways(site: Site) -> list[Host]:
    return hosts_with(site, HostRole.ceph_rgw)


def _address_for(host: Host, client_zones: list[str]) -> str:
    """The host's address in the first zone it shares with the client, else its home one."""
    shared = [z for z in client_zones if z in host.addresses]
    return str(host.addresses[shared[0]] if shared else host.address)


def chain_sites(estate: Estate) -> list[Site]:
    return [s for s in estate.sites if any(str(a.name) == "chain" for a in s.apps)]


def site_service_name(app: str, site: Site, estate: Estate) -> str:
    """A site's own name for one of its apps, `<app>.<site>.<court domain>`, in the DNS zone
    of the site's hosts (`<site>.<court domain>`): how another site addresses this site's
    app rather than whichever site `<app>.<court domain>` leads to. The site's ingress must
    serve it beside the published name."""
    return f"{app}.{site.name}.{estate.court.domain}"


def _database(site: Site, app: str) -> dict[str, Any]:
    hosts = database_hosts(site)
    if not hosts:
        raise ChartValuesError(f"site {site.name}: {app} needs the site's PostgreSQL cluster, but "
                               "no compute pool has the `database` role; add one")
    return {"hosts": [str(h.address) for h in hosts],
            "port": int(role_default("postgresql_ha", "postgresql_ha_port")),
            # one database and one login per app, both named after it
            "name": app, "user": app}


def _object_store(site: Site, cluster: KubernetesCluster) -> dict[str, Any]:
    gateways = object_gateways(site)
    if not gateways:
        raise ChartValuesError(f"site {site.name}: litigation keeps files in the site's object "
                               "storage, but no compute pool has the `ceph-rgw` role; add one")
    workers = site.pool(cluster.worker_pool)
    address = _address_for(gateways[0], workers.zones)
    port = int(role_default("ceph", "ceph_rgw_port"))
    buckets = [p.name for p in site.storage_pools if p.kind is StorageKind.object]
    return {"endpointUrl": f"https://{address}:{port}",
            "bucket": buckets[0] if buckets else DEFAULT_BUCKET}


def _service(site: Site, cluster: KubernetesCluster, callee: str, caller: str) -> dict[str, Any]:
    placed = next((a for a in site.apps if str(a.name) == callee and a.cluster == cluster.name),
                  None)
    if placed is None:
        raise ChartValuesError(f"site {site.name}: {caller} calls {callee}, which is not placed "
                               f"on cluster {cluster.name}; place {callee} there too")
    port = int(chart_defaults(callee)["port"])
    return {"service": callee, "namespace": namespace_name(callee), "port": port}


def _witnesses(estate: Estate, site: Site,
               keys: Mapping[str, str] | None) -> list[dict[str, str]]:
    keys = keys or {}
    return [{"name": other.name,
             "url": f"{INGRESS_SCHEME}://{site_service_name('chain', other, estate)}",
             "publicKey": keys.get(other.name, "")}
            for other in chain_sites(estate) if other.name != site.name]


def _clients(site: Site, cluster: KubernetesCluster, callee: str) -> list[dict[str, str]]:
    return [{"namespace": namespace_name(a), "app": str(a.name)}
            for a in site.apps
            if a.cluster == cluster.name and callee in CALLS.get(str(a.name), ())]


def chart_values(estate: Estate, site: Site, app: AppPlacement | AppName | str, *,
                 witness_keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the site model decides about an app's release on a site; the chart decides
    the rest. `witness_keys` (chain only): the other sites' chain public keys, hex, by site
    name; public, but made with the keys, so not in the model."""
    placed = placement(site, app)
    name = str(placed.name)
    values: dict[str, Any] = {"replicaCount": placed.replicas, "site": site.name,
                              "core": placed.core}
    release = releases().get(name)
    if release is not None:
        values["image"] = {"repository": release.repository, "tag": release.version}
    cluster = cluster_of(site, placed)
    if name == "litigation":
        values["database"] = _database(site, name)
        values["s3"] = _object_store(site, cluster)
        values["chain"] = _service(site, cluster, "chain", name)
        values["tokens"] = {"issuer": identity_issuer(estate), "audience": LITIGATION_AUDIENCE,
                            "court": estate.court.code}
    elif name == "chain":
        values["database"] = _database(site, name)
        values["nodeName"] = site.name
        values["witnesses"] = _witnesses(estate, site, witness_keys)
        values["clients"] = _clients(site, cluster, name)
    return values


def release_values(estate: Estate, site: Site, app: AppPlacement | AppName | str, *,
                   witness_keys: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The chart's defaults with the model's values over them: everything the release gets."""
    return _merge(chart_defaults(app), chart_values(estate, site, app, witness_keys=witness_keys))


def render(estate: Estate, site: Site, app: AppPlacement | AppName | str, *,
           witness_keys: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The app's chart rendered with the model's values for the site (schema-checked), as
    the manifests a cluster would get, each with its namespace."""
    import helm_python

    path = chart_path(app)
    if path is None:
        raise ChartValuesError(f"app {app_name(app)} has no chart: add charts/{app_name(app)}")
    chart = helm_python.Chart.load(path)
    values = chart_values(estate, site, app, witness_keys=witness_keys)
    chart.validate_schema(values)
    namespace = namespace_name(app)
    rendered = chart.render(values, name=app_name(app), namespace=namespace, is_install=True)
    manifests: list[dict[str, Any]] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml")) or "/tests/" in template:
            continue
        for document in yaml.safe_load_all(text):
            if isinstance(document, dict) and document.get("kind"):
                document.setdefault("metadata", {}).setdefault("namespace", namespace)
                manifests.append(document)
    return manifests


def app_databases(estate: Estate) -> list[dict[str, str]]:
    """The apps' databases and logins ([{name, owner}]) that roles/postgresql_ha creates
    (`postgresql_ha_app_databases`): one for each app placed in the estate whose release
    uses the site's PostgreSQL cluster."""
    found: dict[str, dict[str, str]] = {}
    for site in estate.sites:
        for placed in site.apps:
            if chart_path(placed) is None:
                continue
            database = chart_values(estate, site, placed).get("database")
            if database:
                found[database["name"]] = {"name": database["name"], "owner": database["user"]}
    return [found[name] for name in sorted(found)]


# --- reading rendered manifests ---------------------------------------------------------

def secrets_of(manifests: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Secret name -> the keys the pods read from it: what a deployer must create."""
    found: dict[str, set[str]] = {}
    for manifest in manifests:
        pod = (manifest.get("spec") or {}).get("template", {}).get("spec") or {}
        for volume in pod.get("volumes") or []:
            secret = volume.get("secret")
            if secret:
                keys = found.setdefault(secret["secretName"], set())
                keys.update(item["key"] for item in secret.get("items") or [])
    return {name: sorted(keys) for name, keys in sorted(found.items())}


def unreached_backends(estate: Estate, site: Site,
                       app: AppPlacement | AppName | str) -> list[str]:
    """The connections the app's values ask for that no flow of the model lets through
    (each host's firewall and security groups are made from the flows)."""
    placed = placement(site, app)
    name = str(placed.name)
    cluster = cluster_of(site, placed)
    workers = site.pool(cluster.worker_pool)
    sources = {workers.name, *workers.zones}
    gaps: list[str] = []

    def allowed(in_site: Site, srcs: set[str], pool: str, port: int) -> bool:
        home = in_site.pool(pool).home_zone
        return any(f.protocol == "tcp" and f.source in srcs and f.destination in (pool, home)
                   and any(lo <= port <= hi for lo, hi in f.ports) for f in in_site.flows)

    values = chart_values(estate, site, placed)
    if "database" in values:
        port = values["database"]["port"]
        for pool in sorted({h.pool for h in database_hosts(site)}):
            if not allowed(site, sources, pool, port):
                gaps.append(f"{site.name}: {name} on pool {workers.name} -> PostgreSQL on pool "
                            f"{pool}, tcp/{port}")
    if "s3" in values:
        port = int(values["s3"]["endpointUrl"].rsplit(":", 1)[1])
        pool = object_gateways(site)[0].pool
        if not allowed(site, sources, pool, port):
            gaps.append(f"{site.name}: {name} on pool {workers.name} -> object gateway on pool "
                        f"{pool}, tcp/{port}")
    for witness in values.get("witnesses", []):
        other = estate.site(witness["name"])
        remote = {f"{site.name}/{s}" for s in sources}
        placed_there = placement(other, "chain")
        other_workers = cluster_of(other, placed_there).worker_pool
        if not allowed(other, remote, other_workers, INGRESS_PORT):
            gaps.append(f"{site.name}: chain on pool {workers.name} -> {other.name}'s ingress "
                        f"on pool {other_workers}, tcp/{INGRESS_PORT} (its witness)")
    return gaps


# --- helpers ------------------------------------------------------------------------------

def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's coalescing: maps merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = _copy(value)
    return merged
