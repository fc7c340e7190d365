"""The apps' charts: lint clean, schema-checked, and rendered for every site of the production
and the lab estates into manifests valid for Kubernetes 1.30 (strict), hardened, and complete:
the environment each app's settings read (and nothing else), its backends as the site model
places them, its Secrets by name only."""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import helm_python
import pytest
import yaml

from courtcloud import charts
from courtcloud.apps import releases
from courtcloud.model import HostRole, load_project_estate, site_hosts
from courtcloud.model.published import LITIGATION_AUDIENCE, identity_issuer
from courtcloud.model.schema import StorageKind

PROJECT = Path(__file__).resolve().parents[2]
CHARTS = ["chain", "litigation", "ocr", "asr"]
ESTATES = {name: load_project_estate(PROJECT, name) for name in ("production", "lab")}
RELEASES = [(estate, site.name, str(app.name))
            for estate, loaded in ESTATES.items() for site in loaded.sites for app in site.apps
            if str(app.name) in CHARTS]
RELEASE_IDS = [f"{e}-{s}-{a}" for e, s, a in RELEASES]
# Variables a chart sets that belong to a library the app uses, not to the app's settings:
# the library each is read by, and why the chart sets it.
LIBRARY_ENV = {
    "litigation": {
        "AWS_CA_BUNDLE": ("botocore", "the object gateway's certificate is the site CA's"),
        "AWS_REQUEST_CHECKSUM_CALCULATION": ("botocore", "Ceph 16's RGW refuses boto3's "
                                             "default checksums"),
        "AWS_RESPONSE_CHECKSUM_VALIDATION": ("botocore", "the same, for responses"),
    },
    "chain": {"SSL_CERT_FILE": ("httpx", "the other sites' ingress certificates are their "
                                "site CAs'")},
}
# A public key of a chain node, as `courtcloud-chain keygen` prints it (not a secret).
PUBLIC_KEY = "04" + "5a" * 64


@functools.cache
def rendered(estate: str, site: str, app: str, pinned: bool = False) -> list[dict[str, Any]]:
    loaded = ESTATES[estate]
    keys = {s.name: PUBLIC_KEY for s in charts.chain_sites(loaded)} if pinned else None
    return charts.render(loaded, loaded.site(site), app, witness_keys=keys)


def only(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, [m["metadata"]["name"] for m in found]
    return found[0]


def container_of(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    pod = only(manifests, "Deployment")["spec"]["template"]["spec"]
    assert len(pod["containers"]) == 1
    return pod["containers"][0]


def env_of(manifests: list[dict[str, Any]]) -> dict[str, str]:
    env = container_of(manifests)["env"]
    names = [e["name"] for e in env]
    assert len(names) == len(set(names)), names
    assert all(set(e) == {"name", "value"} for e in env), env  # literal values only
    return {e["name"]: e["value"] for e in env}


def settings_module(app: str) -> ModuleType:
    """The app's `settings.py`, loaded from its source (the app need not be installed)."""
    name = f"_courtcloud_settings_{app}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, PROJECT / "apps" / app / "src" / app / "settings.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def settings_names(app: str) -> tuple[set[str], set[str]]:
    """(every variable the app's Settings reads, the required ones)."""
    module = settings_module(app)
    settings = module.Settings
    prefix = getattr(module, "PREFIX", f"{app.upper()}_")
    if dataclasses.is_dataclass(settings):
        fields = {f.name: f.default is dataclasses.MISSING
                  and f.default_factory is dataclasses.MISSING
                  for f in dataclasses.fields(settings)}
    else:
        fields = {n: f.is_required() for n, f in settings.model_fields.items()}
    return ({prefix + n.upper() for n in fields},
            {prefix + n.upper() for n, required in fields.items() if required})


def entry_point_names(app: str) -> set[str]:
    """Variables the app's entry point reads itself (ocr and asr: where uvicorn listens)."""
    source = (PROJECT / "apps" / app / "src" / app / "app.py").read_text()
    return set(re.findall(r"os\.environ\.get\(\"([A-Z0-9_]+)\"", source))


def health_paths(app: str) -> set[str]:
    source = (PROJECT / "apps" / app / "src" / app / "api" / "health.py").read_text()
    return set(re.findall(r"@router\.get\(\s*\"(/[a-z]+)\"", source))


def containerfile(app: str) -> dict[str, Any]:
    text = (PROJECT / "apps" / app / "Containerfile").read_text()
    user = re.search(r"^USER (\d+)(?::(\d+))?$", text, re.M)
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert user, f"apps/{app}/Containerfile names no USER"
    return {"uid": int(user.group(1)), "gid": int(user.group(2) or user.group(1)),
            "entrypoint": json.loads(entry.group(1)) if entry else None,
            "cmd": json.loads(cmd.group(1)) if cmd else None}


def walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in walk(v, f"{path}[{i}]")]
    return [(path, value)]


# --- the charts themselves ----------------------------------------------------------------

@pytest.mark.parametrize("chart", CHARTS)
def test_chart_lints_clean(chart):
    report = helm_python.lint(PROJECT / "charts" / chart, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize(("estate", "site", "app"), RELEASES, ids=RELEASE_IDS)
def test_chart_lints_clean_with_the_models_values(estate, site, app):
    loaded = ESTATES[estate]
    values = charts.chart_values(loaded, loaded.site(site), app)
    report = helm_python.lint(PROJECT / "charts" / app, values, strict=True,
                              kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("chart", CHARTS)
def test_schema_rejects_values_the_model_could_never_give(chart):
    loaded = helm_python.Chart.load(PROJECT / "charts" / chart)
    loaded.validate_schema({})  # the defaults are valid (values are merged over them)
    bad = [{"replicaCount": 0},
           {"replicas": 2},  # a misspelt key
           {"image": {"repository": "localhost/courtcloud/x", "tags": "1"}},  # a nested one
           {"uid": 0},  # root
           {"port": 80},
           {"resources": {"limits": {"cpu": "1", "memroy": "1Gi"}}}]
    if chart in ("chain", "litigation"):
        bad += [{"database": {"hosts": "10.0.0.1"}},
                {"database": {"password": {"secret": "db", "key": "../password"}}},
                {"database": {"password": {"secret": "db", "key": "password",
                                           "value": "x"}}},  # never a value
                {"trust": {"secret": "Not A Name", "key": "ca.crt"}}]
    if chart == "chain":
        bad += [{"witnesses": [{"name": "standby", "url": "https://x", "publicKey": "xyz"}]},
                {"nodeName": "Primary Site"}]
    for values in bad:
        with pytest.raises(helm_python.HelmError):
            loaded.validate_schema(values)


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_carries_the_apps_version_and_image(chart):
    release = releases()[chart]
    meta = yaml.safe_load((PROJECT / "charts" / chart / "Chart.yaml").read_text())
    assert meta["appVersion"] == release.version  # from apps/<app>/pyproject.toml
    assert charts.chart_defaults(chart)["image"]["repository"] == release.repository


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_runs_the_image_as_its_user_and_entry_point(chart):
    image = containerfile(chart)
    defaults = charts.chart_defaults(chart)
    assert defaults["uid"] == image["uid"] == image["gid"]
    if "entrypoint" in defaults:  # the chart wraps the entry point (the database password)
        assert [defaults["entrypoint"]] == image["entrypoint"]
    else:
        assert image["entrypoint"] or image["cmd"]


def test_each_app_listens_on_its_own_port():
    """The lab's pods share their worker's network (as with hostNetwork)."""
    ports = {chart: charts.chart_defaults(chart)["port"] for chart in CHARTS}
    assert len(set(ports.values())) == len(ports), ports
    assert charts.chart_defaults("litigation")["chain"]["port"] == ports["chain"]


# --- every release of both estates ------------------------------------------------------

@pytest.mark.parametrize(("estate", "site", "app"), RELEASES, ids=RELEASE_IDS)
def test_rendered_release_is_valid_and_hardened(estate, site, app):
    import kubernetes_validate

    manifests = rendered(estate, site, app)
    for obj in manifests:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
        assert obj["metadata"]["namespace"] == f"court-{app}"
    kinds = sorted(m["kind"] for m in manifests)
    expected = ["Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service"]
    if app == "litigation":  # and its egress to the chain
        expected.insert(1, "NetworkPolicy")
    assert kinds == expected
    placed = charts.placement(ESTATES[estate].site(site), app)
    release = releases()[app]
    deployment = only(manifests, "Deployment")
    assert deployment["spec"]["replicas"] == placed.replicas
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    security = pod["securityContext"]
    image = containerfile(app)
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == image["uid"]
    assert security["runAsGroup"] == security["fsGroup"] == image["gid"]
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    container = container_of(manifests)
    assert container["image"] == release.image  # the app's pyproject version
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["privileged"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"] and container["resources"]["requests"]
    paths = health_paths(app)
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" in paths
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" in paths
    port = container["ports"][0]
    assert port["name"] == "http" and container["readinessProbe"]["httpGet"]["port"] == "http"
    service = only(manifests, "Service")
    assert service["spec"]["ports"][0]["port"] == port["containerPort"]
    assert only(manifests, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    ingress = next(m for m in manifests if m["metadata"]["name"].endswith("-from-ingress"))
    assert ingress["spec"]["policyTypes"] == ["Ingress"]
    assert ingress["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "courtcloud.court/role": "ingress"}
    assert [p["port"] for p in ingress["spec"]["ingress"][0]["ports"]] == [
        port["containerPort"]]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert {m["name"] for m in mounts.values()} == set(volumes)
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    for path, mount in mounts.items():
        volume = volumes[mount["name"]]
        if "secret" in volume:
            assert path == f"/run/secrets/{volume['secret']['secretName']}"
            assert mount["readOnly"] is True
            assert volume["secret"]["defaultMode"] == 0o440
        else:
            assert volume["emptyDir"]["sizeLimit"]


@pytest.mark.parametrize(("estate", "site", "app"), RELEASES, ids=RELEASE_IDS)
def test_rendered_env_is_what_the_app_reads_and_all_it_needs(estate, site, app, tmp_path):
    env = env_of(rendered(estate, site, app, pinned=True))
    readable, required = settings_names(app)
    library = LIBRARY_ENV.get(app, {})
    unknown = set(env) - readable - entry_point_names(app) - set(library)
    assert not unknown, f"{app} reads no {sorted(unknown)}: renamed in its settings?"
    assert required <= set(env), f"{app} needs {sorted(required - set(env))}"
    for name, (package, _why) in library.items():
        assert name in env
        found = importlib.util.find_spec(package)
        if found is not None and found.origin:  # installed with the app: it reads the name
            sources = Path(found.origin).parent.rglob("*.py")
            assert any(name in p.read_text(errors="ignore") for p in sources), \
                f"{package} does not read {name}"
    # The app's own settings accept the environment as rendered.
    module = settings_module(app)
    if app == "ocr":  # the index's directory is the pod's volume; here, one that exists
        env = {**env, "OCR_INDEX_PATH": str(tmp_path / "index.sqlite3")}
    module.Settings.from_env(env)


@pytest.mark.parametrize(("estate", "site", "app"), RELEASES, ids=RELEASE_IDS)
def test_no_secret_value_in_values_or_manifests(estate, site, app):
    loaded = ESTATES[estate]
    values = charts.release_values(loaded, loaded.site(site), app)
    for path, value in walk(values):
        leaf = path.rsplit(".", 1)[-1].lower()
        if re.search(r"password|secret|private|signingkey|credential|jwks", path.lower()):
            # only ever a reference: {secret, key}, or the S3 pair of keys
            assert leaf in ("secret", "key", "accesskey", "secretkey"), (path, value)
    manifests = rendered(estate, site, app, pinned=True)
    assert "Secret" not in {m["kind"] for m in manifests}
    for name, value in env_of(manifests).items():
        if re.search(r"PASSWORD|SECRET|PRIVATE|_KEY$|JWKS", name):
            assert name.endswith("_FILE") and value.startswith("/run/secrets/"), name
        if name.endswith("_FILE") or name in ("AWS_CA_BUNDLE", "SSL_CERT_FILE"):
            assert value.startswith("/run/secrets/"), name
        if name.endswith("DATABASE_URL"):
            url = urlsplit(value)
            assert url.password is None and "password" not in parse_qs(url.query), name
    script = " ".join(container_of(manifests).get("args") or [])
    assert "PGPASSWORD=" not in script.replace('PGPASSWORD="$(cat ', "")


@pytest.mark.parametrize(("estate", "site", "app"), RELEASES, ids=RELEASE_IDS)
def test_secret_files_are_mounted_where_the_app_reads_them(estate, site, app):
    manifests = rendered(estate, site, app)
    pod = only(manifests, "Deployment")["spec"]["template"]["spec"]
    mounted = {f"/run/secrets/{v['secret']['secretName']}/{item['path']}"
               for v in pod["volumes"] if "secret" in v for item in v["secret"]["items"]}
    read = {v for v in env_of(manifests).values() if v.startswith("/run/secrets/")}
    for value in env_of(manifests).values():
        if "sslrootcert=" in value:
            read.add(parse_qs(urlsplit(value).query)["sslrootcert"][0])
    read |= set(re.findall(r"/run/secrets/[-._a-zA-Z0-9/]+",
                           " ".join(container_of(manifests).get("args") or [])))
    assert read == mounted
    expected = {
        "chain": {"chain-database": ["password"], "chain-signing-key": ["signing.key"],
                  "courtcloud-ca": ["ca.crt"]},
        "litigation": {"litigation-database": ["password"],
                       "litigation-s3": ["access-key", "secret-key"],
                       "litigation-jwks": ["jwks.json"], "courtcloud-ca": ["ca.crt"]},
        "ocr": {}, "asr": {}}
    assert charts.secrets_of(manifests) == dict(sorted(expected[app].items()))


DATABASE_RELEASES = [r for r in RELEASES if r[2] in ("chain", "litigation")]


@pytest.mark.parametrize(("estate", "site", "app"), DATABASE_RELEASES,
                         ids=[f"{e}-{s}-{a}" for e, s, a in DATABASE_RELEASES])
def test_database_url_lists_exactly_the_sites_database_hosts(estate, site, app):
    loaded = ESTATES[estate]
    members = [str(h.address) for h in site_hosts(loaded.site(site))
               if HostRole.database in h.roles]
    url = env_of(rendered(estate, site, app))[f"{app.upper()}_DATABASE_URL"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.scheme == "postgresql" and parts.username == app and parts.path == f"/{app}"
    assert query["host"].split(",") == members
    assert query["port"].split(",") == ["5432"] * len(members)  # roles/postgresql_ha
    assert query["target_session_attrs"] == "read-write"
    assert query["sslmode"] == "verify-full"
    # the drivers read the same hosts: libpq (the chain) and SQLAlchemy (litigation)
    conninfo = pytest.importorskip("psycopg.conninfo")
    assert conninfo.conninfo_to_dict(url)["host"].split(",") == members
    if app == "litigation":
        sqlalchemy = pytest.importorskip("sqlalchemy")
        engine_url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = sqlalchemy.create_engine(engine_url)
        _, kwargs = engine.dialect.create_connect_args(sqlalchemy.engine.make_url(engine_url))
        assert kwargs["host"].split(",") == members


LITIGATION = [r for r in RELEASES if r[2] == "litigation"]


@pytest.mark.parametrize(("estate", "site", "app"), LITIGATION,
                         ids=[f"{e}-{s}-{a}" for e, s, a in LITIGATION])
def test_litigation_reaches_the_sites_gateway_bucket_and_chain(estate, site, app):
    loaded = ESTATES[estate]
    the_site = loaded.site(site)
    env = env_of(rendered(estate, site, app))
    endpoint = urlsplit(env["LITIGATION_S3_ENDPOINT_URL"])
    gateways = {str(a) for h in site_hosts(the_site) if HostRole.ceph_rgw in h.roles
                for a in h.addresses.values()}
    assert endpoint.scheme == "https" and endpoint.hostname in gateways
    assert endpoint.port == charts.role_default("ceph", "ceph_rgw_port") == 7480
    buckets = [p.name for p in the_site.storage_pools if p.kind is StorageKind.object]
    assert env["LITIGATION_S3_BUCKET"] == (buckets[0] if buckets else charts.DEFAULT_BUCKET)
    chain = rendered(estate, site, "chain")
    service = only(chain, "Service")
    url = urlsplit(env["LITIGATION_CHAIN_URL"])
    assert url.hostname == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
    assert url.port == service["spec"]["ports"][0]["port"]
    # the issuer and audience the lab's identity provider signs tokens with
    assert env["LITIGATION_TOKEN_ISSUER"] == identity_issuer(loaded)
    assert env["LITIGATION_TOKEN_AUDIENCE"] == LITIGATION_AUDIENCE
    # court staff's tokens must name this court: the model's court code, which the lab's
    # identity provider puts in their court claim
    assert env["LITIGATION_TOKEN_COURT"] == loaded.court.code


CHAIN = [r for r in RELEASES if r[2] == "chain"]


@pytest.mark.parametrize(("estate", "site", "app"), CHAIN,
                         ids=[f"{e}-{s}-{a}" for e, s, a in CHAIN])
def test_chain_witnesses_are_the_other_sites_chain_nodes(estate, site, app):
    loaded = ESTATES[estate]
    others = sorted(s.name for s in loaded.sites if s.name != site
                    and any(str(a.name) == "chain" for a in s.apps))
    values = charts.chart_values(loaded, loaded.site(site), app)
    assert sorted(w["name"] for w in values["witnesses"]) == others
    assert all(w["url"] == f"https://chain.{w['name']}.{loaded.court.domain}"
               for w in values["witnesses"])
    # No key given: none is asked, and the Deployment says which are left out.
    unpinned = only(rendered(estate, site, app), "Deployment")["metadata"].get("annotations", {})
    assert sorted(unpinned.get("courtcloud.court/unpinned-witnesses", "").split(",")) == \
        (others or [""])
    env = env_of(rendered(estate, site, app))
    assert json.loads(env["CHAIN_WITNESS_PEERS"]) == []
    # The keys given: each other site is a witness of this node, and this node of it.
    env = env_of(rendered(estate, site, app, pinned=True))
    peers = json.loads(env["CHAIN_WITNESS_PEERS"])
    logs = json.loads(env["CHAIN_WITNESSED_LOGS"])
    assert sorted(p["name"] for p in peers) == sorted(p["origin"] for p in logs) == others
    assert {p["public_key"] for p in peers + logs} <= {PUBLIC_KEY}
    assert env["CHAIN_NODE_NAME"] == site
    settings = settings_module("chain").Settings.from_env(env)
    assert [p.name for p in settings.witness_peers] == [p["name"] for p in peers]


@pytest.mark.parametrize(("estate", "site", "app"), CHAIN,
                         ids=[f"{e}-{s}-{a}" for e, s, a in CHAIN])
def test_chain_lets_in_the_sites_apps_that_call_it_and_they_may_reach_it(estate, site, app):
    manifests = rendered(estate, site, app)
    policy = only(manifests, "NetworkPolicy")
    sources = policy["spec"]["ingress"][0]["from"][1:]
    assert [s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for s in sources] == ["court-litigation"]
    egress = next(m for m in rendered(estate, site, "litigation")
                  if m["metadata"]["name"] == "litigation-to-chain")
    port = container_of(manifests)["ports"][0]["containerPort"]
    assert egress["spec"]["egress"][0]["ports"] == [{"port": port, "protocol": "TCP"}]


@pytest.mark.parametrize("estate", sorted(ESTATES))
def test_the_apps_databases_are_the_ones_their_releases_log_in_to(estate):
    """What roles/postgresql_ha creates (postgresql_ha_app_databases)."""
    assert charts.app_databases(ESTATES[estate]) == [
        {"name": "chain", "owner": "chain"}, {"name": "litigation", "owner": "litigation"}]


def test_an_app_not_placed_on_a_site_is_refused_naming_it():
    lab = ESTATES["lab"]
    with pytest.raises(charts.ChartValuesError, match="site standby: app ocr is not placed"):
        charts.chart_values(lab, lab.site("standby"), "ocr")


def test_in_the_lab_every_backend_the_values_name_has_a_flow():
    """Databases, object gateways, the chain Service and the other sites' chain nodes (the
    witnesses, through their site's ingress): the lab stack's flows let each through."""
    lab = ESTATES["lab"]
    gaps = [gap for site in lab.sites for app in site.apps if str(app.name) in CHARTS
            for gap in charts.unreached_backends(lab, site, app)]
    assert gaps == []


def test_the_lab_lets_a_workers_ingress_reach_the_replicas_on_the_other_workers():
    """Pods share their worker's address in the lab, so each app's port must be inside the
    flow that lets one worker's ingress reach another's replicas."""
    lab = ESTATES["lab"]
    for site in lab.sites:
        for app in site.apps:
            if str(app.name) not in CHARTS:
                continue
            cluster = next(k for k in site.kubernetes if k.name == app.cluster)
            port = int(charts.chart_defaults(app)["port"])
            assert any(f.source == f.destination == cluster.worker_pool
                       and any(lo <= port <= hi for lo, hi in f.ports)
                       for f in site.flows), (site.name, str(app.name), port)


def test_the_pulumi_program_installs_the_charts_with_these_values():
    from infra.k8s import apps

    assert apps.chart_values is charts.chart_values
    assert apps.namespace_name("chain") == "court-chain"
