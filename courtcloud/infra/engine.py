"""Run the project's real Pulumi program (`infra/__main__.py`) for a stack, the engine mocked.

Each run sets the mocks first, hands the program the stack file's config as Pulumi would,
executes it, waits for every registration, and returns what was declared and exported.
Stacks of one estate run in deployment order so that StackReferences see their peers'
outputs (the sites that feed the DR site first, the DR site last).
"""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ..model import ModelError, SiteRole
from ..model.loader import project_stacks, read_stack
from .mocks import CourtMocks, Declared

PROJECT = "courtcloud"
KUBECONFIG_KEY = "site-k8s:kubeconfig"
MOCK_KUBECONFIG = "apiVersion: v1\nkind: Config\n# mocked: no cluster is contacted\n"
PASSWORD_KEY = "site-cloud:deployPassword"
STORAGE_READY_KEY = "site-cloud:blockStorageReady"
REGISTRY_KEY = "site-k8s:registry"
IMAGES_KEY = "site-k8s:images"
# RFC 2606: a name that can never resolve, for the registry of a mocked cluster
MOCK_REGISTRY = "registry.invalid/courtcloud"
ORGANIZATION = "organization"  # what a self-managed backend calls every org


@dataclass
class StackRun:
    stack: str
    estate: str
    resources: list[Declared]
    outputs: dict[str, Any]
    charts: list[dict[str, Any]]
    seconds: float
    config: dict[str, str] = field(repr=False, default_factory=dict)
    options: dict[tuple[str, str], pulumi.ResourceOptions] = field(repr=False,
                                                                   default_factory=dict)
    project_dir: Path | None = None

    def of_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> Declared:
        return next(r for r in self.resources if r.type == type_ and r.name == name)

    def opts(self, resource: Declared) -> pulumi.ResourceOptions:
        return self.options.get((resource.type, resource.name)) or pulumi.ResourceOptions()


def stack_config(project_dir: Path, stack: str) -> dict[str, str]:
    """The config Pulumi would pass the program: every key of the stack file, objects as
    JSON text (the loader in the program reads them back)."""
    sys.path.insert(0, str(project_dir)) if str(project_dir) not in sys.path else None
    from infra.model import config_from_file  # the program's own reader

    return config_from_file(project_dir / f"Pulumi.{stack}.yaml")


def run_stack(project_dir: Path, stack: str, *, config: dict[str, str] | None = None,
              peers: dict[str, dict[str, Any]] | None = None,
              secrets: dict[str, str] | None = None,
              mocks: CourtMocks | None = None, cluster: bool = True,
              storage: bool = True) -> StackRun:
    """Run the program for `stack`. `config` replaces the stack file's config (tests use it
    to try a changed model); `peers` are other stacks' outputs for StackReferences;
    `secrets` are config values marked secret; `mocks` lets a caller keep the record of
    what was declared even when the program fails; `cluster` gives the apps stage a mocked
    cluster's kubeconfig and a mocked registry's digests (False: as before the site's
    cluster exists); `storage` runs it as once the site's Ceph serves volumes (stage 2;
    False: the foundation stage)."""
    project_dir = Path(project_dir).resolve()
    config = dict(stack_config(project_dir, stack) if config is None else config)
    secrets = dict(secrets or {})
    secrets.setdefault(PASSWORD_KEY, "mocked: no cloud is contacted")
    if storage:
        config.setdefault(STORAGE_READY_KEY, "true")
    if cluster and KUBECONFIG_KEY not in config:
        # the apps stage runs against a mocked cluster (nothing is contacted); cluster=False
        # runs the program as on a site whose cluster does not exist yet
        secrets.setdefault(KUBECONFIG_KEY, MOCK_KUBECONFIG)
        config.setdefault(REGISTRY_KEY, MOCK_REGISTRY)
        config.setdefault(IMAGES_KEY, json.dumps(mock_digests()))
    config.update(secrets)
    if mocks is None:
        mocks = CourtMocks(project_dir / "charts")
    mocks.stack_outputs.update(peers or {})
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False,
                             organization=ORGANIZATION)
    pulumi.runtime.set_all_config(config, secret_keys=list(secrets or {}))
    # The resource options (protect, ignore_changes, ...) the mocks never see: kept so that
    # tests can hold the program to what a real `pulumi up` would do with them.
    options: dict[tuple[str, str], pulumi.ResourceOptions] = {}

    def remember(args: pulumi.ResourceTransformationArgs) -> None:
        options[(args.type_, args.name)] = args.opts

    pulumi.runtime.register_stack_transformation(remember)
    program = project_dir / "infra" / "__main__.py"
    outputs: dict[str, Any] = {}

    async def run() -> None:
        runpy.run_path(str(program), run_name="__main__")
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) or {}
        resolved = await pulumi.Output.from_input(exported).future(with_unknowns=True)
        outputs.update(resolved or {})

    started = time.perf_counter()
    try:
        _sync_await(run_pulumi_func(run))
    except ModelError:
        raise
    except Exception as exc:  # the program wraps model problems; unwrap them for callers
        cause = _model_error(exc)
        if cause is not None:
            raise cause from None
        raise
    seconds = time.perf_counter() - started
    estate = str(read_stack(project_dir / f"Pulumi.{stack}.yaml").estate)
    return StackRun(stack, estate, list(mocks.declared), outputs, list(mocks.rendered_charts),
                    seconds, config, options, project_dir)


def mock_digests() -> dict[str, str]:
    """Digests a mocked registry answers for each app's release (from its name and version:
    stable from run to run, and unlike any real image's)."""
    from ..apps import releases

    return {name: "sha256:" + hashlib.sha256(f"mock {name}:{r.version}".encode()).hexdigest()
            for name, r in releases().items()}


def _model_error(exc: BaseException) -> ModelError | None:
    current: BaseException | None = exc
    visited: set[int] = set()
    while current is not None and id(current) not in visited:
        visited.add(id(current))
        if isinstance(current, ModelError):
            return current
        problems = getattr(current, "problems", None)
        if problems:
            return ModelError(list(problems))
        current = current.__cause__ or current.__context__
    return None


def deployment_order(project_dir: Path, estate: str) -> list[str]:
    """The estate's stacks, those feeding the DR site first."""
    stacks = project_stacks(project_dir).get(estate, [])
    if not stacks:
        raise ModelError([])
    def is_dr(path: Path) -> bool:
        sites = read_stack(path).config.get("sites") or []
        return any(isinstance(s, dict) and s.get("role") == str(SiteRole.dr) for s in sites)
    ordered = sorted(stacks, key=lambda p: (is_dr(p), p.name))
    return [read_stack(p).stack for p in ordered]


def run_estate(project_dir: Path, estate: str = "production",
               only: list[str] | None = None) -> dict[str, StackRun]:
    """Run every stack of the estate (or those in `only`, with the stacks they read from
    run first), in deployment order."""
    project_dir = Path(project_dir).resolve()
    order = deployment_order(project_dir, estate)
    if only:
        last = max(order.index(s) for s in only)
        order = order[: last + 1]
    runs: dict[str, StackRun] = {}
    peers: dict[str, dict[str, Any]] = {}
    for stack in order:
        run = run_stack(project_dir, stack, peers=peers)
        peers[stack] = run.outputs
        runs[stack] = run
    if only:
        runs = {k: v for k, v in runs.items() if k in only}
    return runs


def estate_of(project_dir: Path, stack: str) -> str:
    path = Path(project_dir) / f"Pulumi.{stack}.yaml"
    return read_stack(path).estate
