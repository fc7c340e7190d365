"""What a `pulumi up` would do between two runs of the program: which resources it would
add, delete, update in place or replace.

Which inputs force a replacement comes from the provider's own Python SDK, not from a list
kept here: every resource's input properties are documented there from the provider
schema, and those whose change makes the provider create a new resource say so ("Changing
this creates a new server."). Resource types are matched by their type token (the one the
class registers with, `openstack:compute/instance:Instance`), input names by the names the
SDK sends to the engine (`userData`, as `Declared.inputs` holds them).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import pulumi
from pulumi._types import _PULUMI_NAME  # the attribute @pulumi.getter(name=...) sets
from pulumi.type_token import _PULUMI_TYPE  # the attribute @pulumi.type_token sets

from .mocks import Declared

Key = tuple[str, str]  # (type token, resource name): a resource's identity in a stack

# "Changing this creates a new server.", "... creates new quota.", "Changing this value
# forces a new instance to be created." - and not "updates", "resizes", "rebuilds".
FORCES_NEW = re.compile(r"\bchanging this (?:value |field |argument )?(?:will )?"
                        r"(?:creates?|forces?) (?:a )?new\b", re.IGNORECASE)


@dataclass(frozen=True)
class ResourceSchema:
    """One resource type of a provider SDK, as its Python classes describe it."""

    token: str
    inputs: Mapping[str, str]  # Python argument name -> input property name
    force_new: frozenset[str]  # input property names whose change replaces the resource

    def input_name(self, python_name: str) -> str:
        return self.inputs.get(python_name, python_name)


def _submodules(package: ModuleType) -> Iterable[ModuleType]:
    """The package and every module in it. The SDK's subpackages are imported lazily: each
    is loaded here (any attribute but the module's own metadata loads it) before a module
    of its own is imported, else that module's `from . import outputs` would load the
    package half-way through and leave it without the classes the program uses."""
    yield package
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        if info.ispkg:
            hasattr(module, "__all__")  # loads a lazy package, whatever the answer
        yield module


def _args_properties(args_cls: type) -> Iterable[tuple[str, str, str]]:
    """(Python name, input property name, documentation) of each input of an Args class."""
    for python_name, member in vars(args_cls).items():
        if not isinstance(member, property) or member.fget is None:
            continue
        pulumi_name = getattr(member.fget, _PULUMI_NAME, None)
        if pulumi_name is None:
            continue
        yield python_name, pulumi_name, " ".join((member.fget.__doc__ or "").split())


def _nested_args(args_cls: type, python_name: str, module: ModuleType) -> list[type]:
    """The input types of an object-valued input (`networks` -> InstanceNetworkArgs): a
    change to a field of theirs documented as forcing a new resource replaces it too."""
    getter = vars(args_cls)[python_name].fget
    annotation = str(getattr(getter, "__annotations__", {}).get("return", ""))
    package = vars(importlib.import_module(module.__package__ or module.__name__))
    return [cls for name in re.findall(r"\b(\w+Args)\b", annotation)
            if isinstance(cls := package.get(name), type)]


@cache
def provider_schemas(package_name: str = "pulumi_openstack") -> dict[str, ResourceSchema]:
    """Type token -> ResourceSchema, for every resource class of an installed provider SDK.

    A resource class is a `pulumi.CustomResource` carrying its type token; its inputs are
    the properties of the `<Class>Args` class beside it (the class its constructor fills)."""
    package = importlib.import_module(package_name)
    found: dict[str, ResourceSchema] = {}
    for module in _submodules(package):
        for name, cls in vars(module).items():
            if (not isinstance(cls, type) or not issubclass(cls, pulumi.CustomResource)
                    or cls.__module__ != module.__name__):
                continue
            token = cls.__dict__.get(_PULUMI_TYPE)
            args_cls = vars(module).get(f"{name}Args")
            if not token or not isinstance(args_cls, type) or token in found:
                continue
            inputs: dict[str, str] = {}
            force_new: set[str] = set()
            for python_name, pulumi_name, doc in _args_properties(args_cls):
                inputs[python_name] = pulumi_name
                nested = _nested_args(args_cls, python_name, module)
                if FORCES_NEW.search(doc) or any(FORCES_NEW.search(d) for n in nested
                                                 for _, _, d in _args_properties(n)):
                    force_new.add(pulumi_name)
            found[token] = ResourceSchema(token, inputs, frozenset(force_new))
    return found


def force_new_inputs(package_name: str = "pulumi_openstack") -> dict[str, frozenset[str]]:
    """Type token -> the input property names whose change replaces the resource."""
    return {token: s.force_new for token, s in provider_schemas(package_name).items()}


def _top_level(path: str) -> str:
    """`blockDevices[0].uuid` -> `blockDevices`: ignore_changes may name a nested path."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def ignored_inputs(resource: Declared, options: pulumi.ResourceOptions | None,
                   schemas: Mapping[str, ResourceSchema]) -> frozenset[str]:
    """The resource's `ignore_changes` as input property names. The program writes Python
    names (`user_data`); the SDK translates them through the Args class before the engine
    sees them, as done here."""
    names = list(getattr(options, "ignore_changes", None) or [])
    schema = schemas.get(resource.type)
    out = set()
    for name in names:
        top = _top_level(name)
        out.add(schema.input_name(top) if schema else top)
    return frozenset(out)


@dataclass
class Churn:
    """A plan between two runs: resources by (type, name)."""

    added: set[Key] = field(default_factory=set)
    deleted: set[Key] = field(default_factory=set)
    # resource -> the inputs that changed (all of them / those forcing a new resource)
    updated: dict[Key, set[str]] = field(default_factory=dict)
    replaced: dict[Key, set[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {"added": len(self.added), "deleted": len(self.deleted),
                "updated": len(self.updated), "replaced": len(self.replaced)}


def _changed_inputs(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    return {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def plan(before: Iterable[Declared], after: Iterable[Declared],
         after_options: Mapping[Key, pulumi.ResourceOptions],
         package_name: str = "pulumi_openstack") -> Churn:
    """What an update from `before` to `after` would do, by the provider SDK's force-new
    inputs, less each resource's `ignore_changes` (the new program's, as the engine reads
    them). Component resources, and custom resources of other providers, are compared for
    presence and in-place change only (no schema here says what replaces them)."""
    schemas = provider_schemas(package_name)
    old = {(r.type, r.name): r for r in before}
    new = {(r.type, r.name): r for r in after}
    churn = Churn(added=set(new) - set(old), deleted=set(old) - set(new))
    for key in set(old) & set(new):
        was, now = old[key], new[key]
        ignored = ignored_inputs(now, after_options.get(key), schemas)
        changed = _changed_inputs(was.inputs, now.inputs) - ignored
        schema = schemas.get(key[0])
        forcing = {c for c in changed if schema and c in schema.force_new}
        if was.provider != now.provider:  # moved to another provider: re-created there
            changed.add("(provider)")
            forcing.add("(provider)")
        if not changed:
            continue
        if forcing:
            churn.replaced[key] = forcing
        else:
            churn.updated[key] = changed
    return churn
