"""The site model as the running Pulumi program sees it.

Pulumi hands the program its stack's config (`courtcloud:*` keys); the same loader that
`courtcloud model validate` uses checks it together with the estate's other stack files, so
an invalid stack stops here - before any resource is declared - with the field named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from courtcloud.model import Estate, Site
from courtcloud.model.loader import PREFIX, project_stacks, read_stack, validate_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODEL_KEYS = ("estate", "court", "securityLevel", "sites")


@dataclass(frozen=True)
class StackModel:
    stack: str
    estate: Estate
    sites: list[Site]  # the sites this stack builds (one in production, three in the lab)
    site_stacks: dict[str, str]  # every site of the estate -> the stack that builds it

    def stack_of(self, site: str) -> str:
        return self.site_stacks[site]


def stack_config() -> dict[str, Any]:
    """The courtcloud:* values Pulumi passed in (objects arrive as JSON text)."""
    return model_values(pulumi.Config("courtcloud").get)


def model_values(get: Callable[[str], str | None]) -> dict[str, Any]:
    """The model's keys from config text (`get` answers a key without its prefix), objects
    read back from their JSON."""
    values: dict[str, Any] = {}
    for key in MODEL_KEYS:
        raw = get(key)
        if raw is None:
            continue
        try:
            values[key] = json.loads(raw)
        except ValueError:
            values[key] = raw  # a plain string such as the estate's name
    return values


def load(stack: str, project_dir: Path = PROJECT_DIR) -> StackModel:
    """Validate this stack's config with its estate; raises ModelError naming the field."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    config = stack_config()
    estate = validate_config(path, config)
    own = {s["name"] for s in config["sites"]}
    site_stacks: dict[str, str] = {}
    for other in project_stacks(project_dir).get(estate.name, []):
        stack_file = read_stack(other)
        if stack_file.stack == stack:
            continue
        for raw in stack_file.config.get("sites") or []:
            if isinstance(raw, dict) and "name" in raw:
                site_stacks[raw["name"]] = stack_file.stack
    site_stacks.update({name: stack for name in own})
    return StackModel(stack, estate, [s for s in estate.sites if s.name in own], site_stacks)


def config_from_file(path: Path) -> dict[str, str]:
    """A stack file's config as Pulumi would hand it to the program (values as text)."""
    import yaml

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out: dict[str, str] = {}
    for key, value in (data.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            continue  # encrypted values need the Pulumi service; tests set their own
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


__all__ = ["MODEL_KEYS", "PREFIX", "PROJECT_DIR", "StackModel", "config_from_file", "load",
           "model_values"]
