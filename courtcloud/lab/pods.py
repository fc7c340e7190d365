"""The court's apps on the lab's Kubernetes workers, run from the charts as rendered for
their site.

No Kubernetes can run on these machines. Each replica of a rendered Deployment runs as a
podman container that joins its worker host's network namespace (`--network container:`),
as a pod with `hostNetwork` would: the worker's address, its nftables tier and a drill that
stops the worker all apply to the replica. Everything about how the app runs (image,
command, environment, ports, probes, limits, security context, volumes) is read from the
rendered Deployment here and never restated; see docs/platform.md for why this way.

Replicas sharing a worker's network cannot share a port, so the lab places at most one
replica of an app on each worker (the charts' topology spread asks the same of a cluster).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .podman import LABEL, RECIPE, LabError

APP_LABEL = "io.courtcloud.app"
WORKER_LABEL = "io.courtcloud.worker"
# The key a Secret's file is read from: <secrets>/<secret name>/<key>, made by the lab.
SECRET_DIR_MODE = 0o750


@dataclass(frozen=True)
class HttpProbe:
    path: str
    port: int
    period_s: int = 10

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "port": self.port, "period_s": self.period_s}


@dataclass(frozen=True)
class PodSpec:
    """One replica of an app, as the lab runs it."""

    container: str
    estate: str
    site: str
    app: str
    replica: int
    worker: str  # the worker host's container, whose network the replica joins
    worker_address: str
    image: str
    port: int
    readiness: HttpProbe | None
    liveness: HttpProbe | None
    options: tuple[str, ...]  # podman run options from the pod spec
    command: tuple[str, ...]  # arguments after the image
    files: tuple[tuple[str, str], ...] = field(default=())  # (path, content) to write

    @property
    def recipe(self) -> str:
        text = json.dumps([self.image, self.options, self.command, self.files, self.worker])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def run_args(self, image_id: str) -> list[str]:
        return ["run", "-d", "--name", self.container,
                "--label", f"{LABEL}={self.estate}", "--label", f"{RECIPE}={self.recipe}",
                "--label", f"io.courtcloud.image={image_id}",
                "--label", f"io.courtcloud.site={self.site}",
                "--label", f"{APP_LABEL}={self.app}", "--label", f"{WORKER_LABEL}={self.worker}",
                # Never a registry: the lab built the image here (`lab images`).
                "--pull", "never",
                "--network", f"container:{self.worker}", *self.options, self.image,
                *self.command]

    def as_dict(self) -> dict[str, Any]:
        return {"container": self.container, "site": self.site, "app": self.app,
                "replica": self.replica, "worker": self.worker,
                "address": f"{self.worker_address}:{self.port}", "image": self.image,
                "readiness": self.readiness.as_dict() if self.readiness else None,
                "liveness": self.liveness.as_dict() if self.liveness else None}


class PodTranslationError(LabError):
    """The rendered chart asks for something the lab cannot run; names the app and field."""


def _quantity_mb(text: str) -> int:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1 / 1000, "M": 1, "G": 1000}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]i?)?", str(text))
    if not match:
        raise ValueError(text)
    value, unit = float(match.group(1)), match.group(2)
    return max(1, int(value * units[unit])) if unit else max(1, int(value / 2**20))


def _cpus(text: str) -> str:
    text = str(text)
    return f"{int(text[:-1]) / 1000:g}" if text.endswith("m") else f"{float(text):g}"


def _probe(container: dict[str, Any], kind: str, ports: dict[str, int],
           where: str) -> HttpProbe | None:
    probe = container.get(kind)
    if not probe:
        return None
    get = probe.get("httpGet")
    if not get:
        raise PodTranslationError(f"{where}.{kind}: only httpGet probes run in the lab")
    port = get["port"]
    port = ports[port] if isinstance(port, str) else int(port)
    return HttpProbe(get.get("path", "/"), port, int(probe.get("periodSeconds", 10)))


def deployment_of(manifests: list[dict[str, Any]], app: str) -> dict[str, Any]:
    found = [m for m in manifests if m.get("kind") == "Deployment"]
    if len(found) != 1:
        raise PodTranslationError(f"chart {app}: expected one Deployment, rendered {len(found)}")
    return found[0]


def container_options(manifests: list[dict[str, Any]], app: str, secrets_dir: Path,
                      config_dir: Path) -> tuple[dict[str, Any], list[str], list[str],
                                                 list[tuple[str, str]], int,
                                                 HttpProbe | None, HttpProbe | None]:
    """(container, podman options, arguments after the image, config files, port, readiness,
    liveness) for the one container of the app's Deployment."""
    deployment = deployment_of(manifests, app)
    pod = deployment["spec"]["template"]["spec"]
    containers = pod.get("containers") or []
    if len(containers) != 1 or pod.get("initContainers"):
        raise PodTranslationError(f"chart {app}: the lab runs pods of exactly one container")
    ctr = containers[0]
    where = f"chart {app}: Deployment.spec.template.spec.containers[{ctr.get('name')}]"
    options: list[str] = []
    pod_sc = pod.get("securityContext") or {}
    sc = {**pod_sc, **(ctr.get("securityContext") or {})}
    if sc.get("privileged"):
        raise PodTranslationError(f"{where}.securityContext.privileged: never in the court")
    if "runAsUser" in sc:
        options += ["--user", f"{sc['runAsUser']}:{sc.get('runAsGroup', sc['runAsUser'])}"]
    if "fsGroup" in pod_sc:
        options += ["--group-add", str(pod_sc["fsGroup"])]
    if sc.get("readOnlyRootFilesystem"):
        options += ["--read-only", "--read-only-tmpfs=false"]
    if sc.get("allowPrivilegeEscalation") is False:
        options += ["--security-opt", "no-new-privileges"]
    caps = sc.get("capabilities") or {}
    for cap in caps.get("drop") or []:
        options += ["--cap-drop", str(cap).lower()]
    for cap in caps.get("add") or []:
        options += ["--cap-add", str(cap)]
    limits = (ctr.get("resources") or {}).get("limits") or {}
    if "memory" in limits:
        options += ["--memory", f"{_quantity_mb(limits['memory'])}m"]
    if "cpu" in limits:
        options += ["--cpus", _cpus(limits["cpu"])]
    for env in ctr.get("env") or []:
        if "valueFrom" in env:
            raise PodTranslationError(f"{where}.env[{env['name']}]: valueFrom is not run in the "
                                      "lab; mount the Secret as a file and name the file")
        options += ["--env", f"{env['name']}={env.get('value', '')}"]
    if ctr.get("envFrom"):
        raise PodTranslationError(f"{where}.envFrom: name each variable instead")
    if ctr.get("workingDir"):
        options += ["--workdir", ctr["workingDir"]]
    if ctr.get("command"):
        options += ["--entrypoint", json.dumps(ctr["command"])]
    ports = {p.get("name", str(p["containerPort"])): int(p["containerPort"])
             for p in ctr.get("ports") or []}
    if not ports:
        raise PodTranslationError(f"{where}.ports: the app must name the port it serves on")
    files: list[tuple[str, str]] = []
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    configmaps = {m["metadata"]["name"]: m for m in manifests if m.get("kind") == "ConfigMap"}
    for mount in ctr.get("volumeMounts") or []:
        volume = volumes.get(mount["name"])
        target = mount["mountPath"]
        if volume is None:
            raise PodTranslationError(f"{where}.volumeMounts[{mount['name']}]: no such volume")
        if "emptyDir" in volume:
            # Owned by the pod's user (U), as a kubelet gives an emptyDir to the pod's fsGroup:
            # podman 4.3 makes a tmpfs over a path the image has root's 0755, whatever mode=.
            size = (volume["emptyDir"] or {}).get("sizeLimit")
            spec = f"{target}:rw,mode=1777" + (f",size={_quantity_mb(size)}m" if size else "")
            options += ["--tmpfs", spec + ",U"]
        elif "secret" in volume:
            name = volume["secret"]["secretName"]
            source = secrets_dir / name
            items = volume["secret"].get("items")
            if mount.get("subPath"):
                options += ["-v", f"{source / mount['subPath']}:{target}:ro"]
            elif items:
                for item in items:
                    options += ["-v", f"{source / item['key']}:{target}/{item['path']}:ro"]
            else:
                options += ["-v", f"{source}:{target}:ro"]
        elif "configMap" in volume:
            name = volume["configMap"]["name"]
            if name not in configmaps:
                raise PodTranslationError(f"{where}: ConfigMap {name} is not in the chart")
            for key, text in (configmaps[name].get("data") or {}).items():
                files.append((str(config_dir / name / key), text))
            options += ["-v", f"{config_dir / name}:{target}:ro"]
        else:
            kind = next(iter(k for k in volume if k != "name"), "?")
            raise PodTranslationError(f"{where}: volume {mount['name']} of kind {kind} is not "
                                      "run in the lab (emptyDir, secret, configMap are)")
    if (ctr.get("stdin") or ctr.get("tty")):
        raise PodTranslationError(f"{where}: no interactive containers")
    port = next(iter(ports.values())) if "http" not in ports else ports["http"]
    readiness = _probe(ctr, "readinessProbe", ports, where)
    liveness = _probe(ctr, "livenessProbe", ports, where)
    return ctr, options, list(ctr.get("args") or []), files, port, readiness, liveness


def pod_specs(estate: str, site: str, app: str, manifests: list[dict[str, Any]],
              workers: list[tuple[str, str]], secrets_dir: Path,
              config_dir: Path) -> list[PodSpec]:
    """The app's replicas spread over the workers ((container, address) each), one per
    worker at most, in replica order."""
    deployment = deployment_of(manifests, app)
    replicas = int(deployment["spec"].get("replicas", 1))
    if replicas > len(workers):
        raise PodTranslationError(
            f"site {site}: {app} asks for {replicas} replicas on {len(workers)} workers; in the "
            "lab replicas share their worker's address, so each worker runs one replica of an "
            "app: lower `replicas` in the lab stack or add workers to the pool")
    ctr, options, args, files, port, ready, live = container_options(
        manifests, app, secrets_dir, config_dir)
    return [PodSpec(container=f"cc-{site}-{app}-{i + 1}", estate=estate, site=site, app=app,
                    replica=i + 1, worker=workers[i][0], worker_address=workers[i][1],
                    image=ctr["image"], port=port, readiness=ready, liveness=live,
                    options=tuple(options), command=tuple(args), files=tuple(files))
            for i in range(replicas)]


def spec_from_dict(raw: dict[str, Any]) -> PodSpec:
    """The inverse of `dataclasses.asdict` for a PodSpec (the node agent reads them back)."""
    probes = {k: HttpProbe(**raw[k]) if raw.get(k) else None for k in ("readiness", "liveness")}
    return PodSpec(**{**raw, **probes, "options": tuple(raw["options"]),
                      "command": tuple(raw["command"]),
                      "files": tuple(tuple(f) for f in raw["files"])})
