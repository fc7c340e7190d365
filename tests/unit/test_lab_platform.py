"""The platform in the lab, short of running it: which pods the lab stack asks for and where,
what each worker's ingress routes, the names pods resolve, and where each Secret comes from."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from courtcloud.lab import identity, platform
from courtcloud.lab.plan import lab_plan, service_entries
from courtcloud.lab.podman import LabError
from courtcloud.model import load_project_estate


@pytest.fixture(scope="module")
def estate(project):
    return load_project_estate(project, "lab")


@pytest.fixture(scope="module")
def placed(estate, tmp_path_factory):
    directory = tmp_path_factory.mktemp("state")
    return directory, platform.platform_plan(estate, lab_plan(estate), directory)


def test_every_placed_app_with_a_chart_gets_its_replicas_one_per_worker(estate, placed):
    _, plan = placed
    wanted = {(s.name, str(a.name)): a.replicas for s in estate.sites for a in s.apps
              if str(a.name) != "exchange"}
    assert Counter((p.site, p.app) for p in plan.pods) == wanted
    assert plan.skipped == ["primary/exchange"]  # no chart yet: said, not hidden
    for (_site, _app), count in Counter((p.site, p.app) for p in plan.pods).items():
        assert count == 2
    # One replica of an app per worker, and no two apps on one port of a worker.
    assert len({(p.worker, p.app) for p in plan.pods}) == len(plan.pods)
    assert len({(p.worker, p.port) for p in plan.pods}) == len(plan.pods)
    assert all(p.worker.startswith(f"cc-{p.site}-node-") for p in plan.pods)


def test_each_workers_ingress_routes_both_names_to_every_replica(estate, placed):
    _, plan = placed
    routes = {r["app"]: r for r in platform.ingress_routes(estate, "primary", plan.pods)}
    assert set(routes) == {"litigation", "chain", "ocr", "asr"}
    chain = routes["chain"]
    domain = estate.court.domain
    assert chain["names"] == [f"chain.{domain}", f"chain.primary.{domain}"]
    pods = [p for p in plan.pods if p.site == "primary" and p.app == "chain"]
    assert chain["replicas"] == [f"{p.worker_address}:{p.port}" for p in pods]
    assert chain["readiness"] == pods[0].readiness.path == "/readyz"


def test_pods_resolve_services_to_their_worker_and_other_sites_to_theirs(estate):
    plan = lab_plan(estate)
    primary = estate.site("primary")
    entries = dict(service_entries(estate, primary))
    assert entries["chain.court-chain.svc"] == "127.0.0.1"
    standby_worker = next(h for h in plan.hosts if h.hostname == "standby-node-1")
    assert entries[f"chain.standby.{estate.court.domain}"] == dict(
        standby_worker.zone_addresses)["app"]
    for spec in plan.hosts:
        names = dict(spec.hosts_entries)
        assert ("chain.court-chain.svc" in names) == ("k8s-worker" in spec.roles), spec.hostname


def test_a_secret_the_lab_cannot_make_or_that_is_not_made_yet_is_named(estate, tmp_path):
    with pytest.raises(LabError, match=r"Secret payments-api key token.*secret_value"):
        platform.secret_value(tmp_path, estate, "primary", "payments-api", "token")
    with pytest.raises(LabError, match=r"app-litigation, which is missing.*lab configure"):
        platform.secret_value(tmp_path, estate, "primary", "litigation-database", "password")


@pytest.mark.skipif(os.geteuid() != 0, reason="Secret files are chowned to the pod's group")
def test_secrets_land_in_each_namespace_for_the_pods_group(estate, placed):
    directory, plan = placed
    generated = directory / "secrets"
    (generated / "postgresql_ha").mkdir(parents=True)
    for app in ("litigation", "chain"):
        (generated / "postgresql_ha" / f"app-{app}").write_text(f"pw-{app}")
    for site in ("primary", "standby"):
        (generated / "ceph" / site).mkdir(parents=True)
        (generated / "ceph" / site / "evidence-access-key").write_text(f"AK{site}")
        (generated / "ceph" / site / "evidence-secret-key").write_text(f"SK{site}")
        (directory / platform.CHAIN_KEYS / site).mkdir(parents=True)
        (directory / platform.CHAIN_KEYS / site / "signing.key").write_text("ab" * 32 + "\n")
    for site in estate.sites:
        (directory / "pki" / site.name).mkdir(parents=True)
        (directory / "pki" / site.name / "ca.crt").write_text(f"CA {site.name}\n")
    identity.ensure_key(directory)
    assert platform.write_secrets(directory, estate, plan) > 0
    assert platform.write_secrets(directory, estate, plan) == 0  # a second time: no change
    secrets = directory / "k8s-secrets" / "standby"
    password = secrets / "court-litigation" / "litigation-database" / "password"
    assert password.read_text() == "pw-litigation"
    assert password.stat().st_gid == 10002 and password.stat().st_mode & 0o777 == 0o440
    ca = secrets / "court-chain" / "courtcloud-ca" / "ca.crt"
    assert ca.read_text() == "CA primary\nCA standby\nCA dr-miyun\n"
    assert ca.stat().st_gid == 10001  # the chain's group, not the litigation's
    keys = secrets / "court-litigation" / "litigation-s3"
    assert (keys / "access-key").read_text() == "AKstandby"
    # Every pod mounts only Secrets that now exist.
    for pod in plan.pods:
        for path in platform.mounted_secrets(pod):
            assert path.exists(), (pod.container, path)


def test_each_site_with_an_edge_has_an_entry_no_host_holds(estate):
    from courtcloud.model import entry_address, site_hosts

    for site in estate.sites:
        entry = entry_address(site)
        edges = [h for h in site_hosts(site) if "edge" in {str(r) for r in h.roles}]
        if not edges:
            assert entry is None, site.name
            continue
        assert entry in site.zone(edges[0].home_zone).cidr
        assert all(entry not in h.addresses.values() for h in site_hosts(site))
        assert entry != site.zone(edges[0].home_zone).cidr[1]  # not the gateway


def test_the_courts_dns_prefers_the_primary_entry_then_the_standby(estate):
    from courtcloud.inventory import dns_records
    from courtcloud.model import entry_address

    records = {r["name"]: r for r in dns_records(estate)}
    domain = estate.court.domain
    litigation = records[f"litigation.{domain}"]
    assert litigation["sites"] == ["primary", "standby"]
    assert litigation["entries"] == [str(entry_address(estate.site("primary"))),
                                     str(entry_address(estate.site("standby")))]
    # An app the standby does not place has no failover entry to offer.
    assert records[f"ocr.{domain}"]["sites"] == ["primary"]


def test_on_the_standby_site_litigation_serves_and_the_chain_waits_for_promotion(estate):
    """The standby site's database is a physical standby: litigation serves reads from it
    (so `lab apps` waits for its replicas), the chain needs a writable database."""
    assert not platform.warm_standby(estate, "standby", "litigation")
    assert platform.warm_standby(estate, "standby", "chain")
    assert not platform.warm_standby(estate, "primary", "chain")
