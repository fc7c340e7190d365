"""Rendered pods to podman: every field of the pod spec the lab runs is carried over, and
whatever the lab cannot run is refused by name (never dropped silently)."""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path

import pytest

from courtcloud.lab import platform
from courtcloud.lab.pods import PodTranslationError, pod_specs, spec_from_dict

SECRETS = Path("/state/k8s-secrets/primary")
CONFIG = Path("/state/k8s-config/primary/chain")
WORKERS = [("cc-primary-node-1", "172.30.1.12"), ("cc-primary-node-2", "172.30.1.13")]


def _manifests(replicas: int = 2) -> list[dict]:
    container = {
        "name": "chain", "image": "localhost/courtcloud/chain:0.1.0",
        "args": ["--workers", "1"],
        "ports": [{"name": "http", "containerPort": 8081, "protocol": "TCP"}],
        "env": [{"name": "CHAIN_PORT", "value": "8081"},
                {"name": "CHAIN_SIGNING_KEY_FILE", "value": "/run/secrets/chain/signing.pem"}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8081}},
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"},
                      "requests": {"cpu": "250m", "memory": "256Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                         {"name": "keys", "mountPath": "/run/secrets/chain"},
                         {"name": "settings", "mountPath": "/etc/chain"}],
    }
    pod = {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
           "containers": [container],
           "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                       {"name": "keys", "secret": {"secretName": "chain-keys"}},
                       {"name": "settings", "configMap": {"name": "chain-settings"}}]}
    return [{"kind": "Deployment", "metadata": {"name": "chain"},
             "spec": {"replicas": replicas, "template": {"spec": pod}}},
            {"kind": "ConfigMap", "metadata": {"name": "chain-settings"},
             "data": {"witnesses.json": "[]"}},
            {"kind": "Service", "metadata": {"name": "chain"}}]


def _specs(manifests=None, workers=WORKERS):
    return pod_specs("lab", "primary", "chain", manifests or _manifests(), workers, SECRETS,
                     CONFIG)


def test_each_replica_joins_its_own_worker_with_the_pod_spec():
    first, second = _specs()
    assert (first.worker, second.worker) == ("cc-primary-node-1", "cc-primary-node-2")
    args = first.run_args("abc123")
    assert args[args.index("--network") + 1] == "container:cc-primary-node-1"
    joined = " ".join(args)
    for expected in ("--user 10001:10001", "--read-only", "--cap-drop all",
                     "--security-opt no-new-privileges", "--memory 512m", "--cpus 0.5",
                     "--env CHAIN_PORT=8081", "--tmpfs /tmp:rw,mode=1777,size=64m,U",
                     f"-v {SECRETS}/chain-keys:/run/secrets/chain:ro",
                     f"-v {CONFIG}/chain-settings:/etc/chain:ro"):
        assert expected in joined, expected
    assert args[-3:] == ["localhost/courtcloud/chain:0.1.0", "--workers", "1"]
    assert first.port == 8081
    assert (first.readiness.path, first.readiness.port, first.readiness.period_s) == (
        "/ready", 8081, 5)
    assert first.liveness.path == "/health"
    assert first.files == ((str(CONFIG / "chain-settings" / "witnesses.json"), "[]"),)


def test_more_replicas_than_workers_is_refused_with_the_fix():
    with pytest.raises(PodTranslationError, match="3 replicas on 2 workers"):
        _specs(_manifests(replicas=3))


@pytest.mark.parametrize("breakage, named", [
    (lambda c, p: c["env"].append({"name": "X", "valueFrom": {"secretKeyRef": {}}}), "valueFrom"),
    (lambda c, p: c.update(envFrom=[{"secretRef": {"name": "s"}}]), "envFrom"),
    (lambda c, p: c["securityContext"].update(privileged=True), "privileged"),
    (lambda c, p: c.update(readinessProbe={"exec": {"command": ["true"]}}), "httpGet"),
    (lambda c, p: p["volumes"].append({"name": "data", "persistentVolumeClaim": {}})
     or c["volumeMounts"].append({"name": "data", "mountPath": "/data"}), "persistentVolumeClaim"),
    (lambda c, p: c["volumeMounts"].append({"name": "nope", "mountPath": "/x"}), "no such volume"),
    (lambda c, p: c.pop("ports"), "ports"),
    (lambda c, p: p["containers"].append(copy.deepcopy(c)), "exactly one container"),
])
def test_what_the_lab_cannot_run_is_refused_by_name(breakage, named):
    manifests = _manifests()
    pod = manifests[0]["spec"]["template"]["spec"]
    breakage(pod["containers"][0], pod)
    with pytest.raises(PodTranslationError) as err:
        _specs(manifests)
    assert named in str(err.value) and "chart chain" in str(err.value)


def test_a_spec_survives_the_node_agents_file_unchanged(tmp_path):
    specs = _specs()
    assert platform.write_pods_file(tmp_path, specs) is True
    assert platform.write_pods_file(tmp_path, specs) is False
    back = platform.read_pods_file(tmp_path)
    assert back == specs and [s.recipe for s in back] == [s.recipe for s in specs]
    assert spec_from_dict(dataclasses.asdict(specs[0])) == specs[0]


def test_the_recipe_changes_with_the_pod_spec():
    changed = _manifests()
    changed[0]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "9090"
    assert _specs()[0].recipe != _specs(changed)[0].recipe
    assert _specs()[0].recipe == _specs()[0].recipe


def test_secret_files_are_readable_by_the_pods_group_only(tmp_path):
    import os
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    assert platform.write_secret(tmp_path, "chain-keys", "signing.pem", b"k", gid=10001)
    path = tmp_path / "chain-keys" / "signing.pem"
    assert (path.stat().st_gid, path.stat().st_mode & 0o777) == (10001, 0o440)
    assert (tmp_path / "chain-keys").stat().st_mode & 0o777 == 0o750
    assert platform.write_secret(tmp_path, "chain-keys", "signing.pem", b"k", gid=10001) is False
    assert platform.write_secret(tmp_path, "chain-keys", "signing.pem", b"k2", gid=10001)
    assert path.read_bytes() == b"k2"


def test_a_pod_that_keeps_exiting_is_restarted_after_a_growing_pause():
    backoff = platform.Backoff(first_s=10, most_s=40, reset_s=120)
    t = 1000.0
    assert backoff.may_restart("p", t)  # the first restart is at once
    backoff.restarted("p", t)
    assert not backoff.may_restart("p", t + 9) and backoff.may_restart("p", t + 10)
    backoff.restarted("p", t + 10)
    assert not backoff.may_restart("p", t + 29) and backoff.may_restart("p", t + 30)
    for _ in range(5):
        backoff.restarted("p", t)
    assert backoff.delay(backoff.restarts["p"]) == 40  # never longer than the most
    # A pod that ran for the reset time before exiting starts counting again.
    assert backoff.may_restart("p", t + 40 + 120) and backoff.restarts["p"] == 0
    assert backoff.may_restart("other", t)  # pods back off each on their own


def test_a_pod_removed_while_it_is_looked_at_is_not_running(monkeypatch):
    """The node agent recreates pods while `lab status` reads them: a container that
    vanishes between listing and inspecting is not running; a failed inspect of one that
    still exists is an error."""
    from courtcloud.lab import platform
    from courtcloud.lab.podman import LabError

    def inspect(*args):
        raise LabError("podman container inspect cc-primary-chain-1 failed: no such container")

    monkeypatch.setattr(platform, "podman_json", inspect)
    monkeypatch.setattr(platform, "exists", lambda kind, name: False)
    assert platform._running_pid("cc-primary-chain-1") is None
    # gone and already recreated under the same name: the new one is read
    answers = iter([LabError("no such container"), [{"State": {"Running": False}}]])

    def recreated(*args):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(platform, "podman_json", recreated)
    monkeypatch.setattr(platform, "exists", lambda kind, name: True)
    monkeypatch.setattr(platform.time, "sleep", lambda s: None)
    assert platform._running_pid("cc-primary-chain-1") is None  # inspected: not running
    # an inspect that keeps failing on a container that exists is an error
    monkeypatch.setattr(platform, "podman_json", inspect)
    with pytest.raises(LabError, match="inspect"):
        platform._running_pid("cc-primary-chain-1")


def test_what_a_pod_needs_is_read_from_one_listing_of_the_containers():
    """The node agent's round reads every pod and worker from one `podman ps -a`; each state
    a pod can be in leads to its action."""
    from courtcloud.lab import platform
    from courtcloud.lab.podman import LABEL, RECIPE, LabError

    spec = _specs()[0]
    mine = {LABEL: spec.estate, RECIPE: spec.recipe, "io.courtcloud.image": "img1"}
    up = os.getpid()  # a live process: its network namespace stands for the worker's
    worker = platform.Seen(up, {LABEL: spec.estate})
    assert platform.pod_action(spec, "img1", {}) == "wait"
    assert platform.pod_action(spec, "img1", {spec.worker: worker}) == "create"
    seen = {spec.worker: worker, spec.container: platform.Seen(up, mine)}
    assert platform.pod_action(spec, "img1", seen) is None
    assert platform.pod_action(spec, "img2", seen) == "recreate"  # a new image
    seen[spec.container] = platform.Seen(0, mine)
    assert platform.pod_action(spec, "img1", seen) == "restart"  # it exited
    seen[spec.worker] = platform.Seen(0, {LABEL: spec.estate})
    assert platform.pod_action(spec, "img1", seen) == "wait"  # its worker is down
    seen[spec.container] = platform.Seen(up, {LABEL: "someone-else"})
    with pytest.raises(LabError, match="not the lab's"):
        platform.pod_action(spec, "img1", seen)


def test_one_listing_of_images_gives_every_pods_image(monkeypatch):
    from courtcloud.lab import platform
    from courtcloud.lab.podman import LabError

    specs = _specs()
    images = sorted({s.image for s in specs})
    monkeypatch.setattr(platform, "podman_json", lambda *a: [
        {"Id": f"{i:02d}" + "ab" * 20, "Names": [name]} for i, name in enumerate(images)])
    assert platform.image_ids(specs) == {n: f"{i:02d}" + "ab" * 5 for i, n in enumerate(images)}
    monkeypatch.setattr(platform, "podman_json", lambda *a: [])
    with pytest.raises(LabError, match="is missing"):
        platform.image_ids(specs)
