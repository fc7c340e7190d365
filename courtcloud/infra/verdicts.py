"""The policy pack applied to what a mocked run declared: each policy called directly
through its `validate`, as the analyzer would, with the estate's security level as config."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
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


def stack_args(resources: list[Declared], stack: str, project: str = "courtcloud",
               config: dict[str, Any] | None = None) -> StackValidationArgs:
    policy_resources = [
        PolicyResource(r.type, r.inputs, urn(stack, project, r), r.name, _options(), None, None,
                       [], {})
        for r in resources
    ]
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
