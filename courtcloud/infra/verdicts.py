"""The policy pack applied to what a mocked run declared: each policy called directly
through its `validate`, as the analyzer would, with the estate's security level as config."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime.sync_await import _sync_await
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from .mocks import Declared


@dataclass
class Verdict:
    policy: str
    clause: str
    enforcement: str
    violations: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "clause": self.clause, "enforcement": self.enforcement,
                "passed": self.passed, "violations": self.violations}


def urn(stack: str, project: str, resource: Declared) -> str:
    return f"urn:pulumi:{stack}::{project}::{resource.type}::{resource.name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def resource_args(resource: Declared, stack: str, project: str = "courtcloud",
                  config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(resource.type, resource.inputs, urn(stack, project, resource),
                                  resource.name, _options(), None, config or {})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def stack_args(resources: list[Declared], stack: str, project: str = "courtcloud",
               config: dict[str, Any] | None = None) -> StackValidationArgs:
    """The stack as the analyzer hands it over, with each resource's property dependencies
    (which resources each input refers to), as the engine records them: the policies follow
    attachments (port to security group, server to port, rule to group) through these."""
    policy_resources = [
        PolicyResource(r.type, r.inputs, urn(stack, project, r), r.name, _options(), None, None,
                       [], {})
        for r in resources
    ]
    by_id = {r.id: p for r, p in zip(resources, policy_resources, strict=True) if r.custom}
    for resource, policy_resource in zip(resources, policy_resources, strict=True):
        for key, value in resource.inputs.items():
            found = list({id(d): d for d in (by_id.get(s) for s in _strings(value))
                          if d is not None}.values())
            if found:
                policy_resource.property_dependencies[key] = found
                policy_resource.dependencies.extend(found)
    return StackValidationArgs(policy_resources, config or {})


def _finish(result: Any) -> None:
    if inspect.isawaitable(result):
        _sync_await(result)


def evaluate(policies: list[Any], resources: list[Declared], stack: str,
             config: dict[str, Any] | None = None) -> list[Verdict]:
    verdicts = []
    for policy in policies:
        framework = getattr(policy, "framework", None)
        verdict = Verdict(policy.name, getattr(framework, "reference", "") or "",
                          str(getattr(policy.enforcement_level, "value", "advisory")))

        def report(message: str, violating_urn: str | None = None, *,
                   _v: Verdict = verdict, _default: str | None = None) -> None:
            _v.violations.append({"message": message, "urn": violating_urn or _default})

        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                args = resource_args(resource, stack, config=config)
                _finish(policy.validate(
                    args, lambda m, u=None, a=args: report(m, u, _default=a.urn)))
        else:
            _finish(policy.validate(stack_args(resources, stack, config=config), report))
        verdicts.append(verdict)
    return verdicts


def stack_policy_config(project_dir: Path, run: Any, level: int) -> dict[str, Any]:
    """The pack's config for a stack run, as `--policy-pack-config` would give it: the
    level, the facts of the stack's model (`model_facts`: encrypted back ends, management
    zones, hypervisors), and the registry the run's cluster pulls from."""
    from infra.policy.rules import model_facts

    config: dict[str, Any] = {"securityLevel": level, **model_facts(run.stack, Path(project_dir))}
    registry = run.config.get("site-k8s:registry")
    if registry:
        config["registries"] = [registry]
    return config
