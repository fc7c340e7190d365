"""Reading the site model from Pulumi stack files.

A stack file (`Pulumi.<stack>.yaml`) holds its part of the model under `config:`:

    courtcloud:estate: production        # stacks of one estate are validated together
    courtcloud:court: {name, code, domain}
    courtcloud:securityLevel: 3
    courtcloud:sites: [ ... ]            # one site per production stack; the lab has three

The production sites live in three stacks (primary, standby, miyun) that refer to each
other, so a stack is always validated with the other stacks of its estate beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ModelError, Problem
from .rules import check_estate
from .schema import Estate

PREFIX = "courtcloud:"
STACK_FILE = re.compile(r"^Pulumi\.([A-Za-z0-9_.-]+)\.ya?ml$")
_KEYS = {"estate", "court", "securityLevel", "sites"}
# libyaml's safe loader when PyYAML was built with it (about ten times faster), else Python's
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPTIONAL_KEYS = {"lab"}


@dataclass(frozen=True)
class StackFile:
    path: Path
    stack: str
    estate: str
    config: dict[str, Any]  # the courtcloud:* keys, prefix removed
    root: yaml.Node | None  # for line numbers in problems


def stack_name(path: Path) -> str:
    match = STACK_FILE.match(path.name)
    if not match:
        raise ModelError([Problem(str(path), "(file name)", "not a Pulumi stack file name",
                                  "name it Pulumi.<stack>.yaml")])
    return match.group(1)


def read_stack(path: Path) -> StackFile:
    """Parse one stack file; YAML and shape errors become Problems with a line number."""
    path = Path(path)
    name = stack_name(path)
    shown = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError([Problem(shown, "(file)", f"cannot be read: {exc.strerror}",
                                  "check the path and its permissions")]) from None
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ModelError([Problem(
            shown, "(yaml)", f"is not valid YAML: {getattr(exc, 'problem', exc)}",
            "fix the syntax at the line shown (indentation, a missing ':' or quote)",
            line=mark.line + 1 if mark else None)]) from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise ModelError([Problem(shown, "config", "the file has no 'config:' mapping",
                                  "put the courtcloud:* keys under a top-level 'config:'")])
    config = {k[len(PREFIX):]: v for k, v in data["config"].items()
              if isinstance(k, str) and k.startswith(PREFIX)}
    return _stack_file(path, name, config, root)


def stack_from_config(path: Path, config: dict[str, Any]) -> StackFile:
    """A stack whose courtcloud:* values (prefix removed) come from elsewhere - a running
    Pulumi program's config - rather than from the file at `path`. The file, when it exists,
    is read only so that problems can name a line."""
    path = Path(path)
    root: yaml.Node | None = None
    if path.is_file():
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.YAMLError:
            root = None
    return _stack_file(path, stack_name(path), dict(config), root)


def _stack_file(path: Path, name: str, config: dict[str, Any], root: Any) -> StackFile:
    shown = path.name
    problems = [
        Problem(shown, f"{PREFIX}{key}", "is missing", f"add config key {PREFIX}{key}",
                line=_line(root, ["config"]))
        for key in sorted(_KEYS - config.keys())
    ]
    problems += [
        Problem(shown, f"{PREFIX}{key}", "is not a key the site model knows",
                f"remove it or correct its spelling (known: "
                f"{', '.join(sorted(_KEYS | _OPTIONAL_KEYS))})",
                line=_line(root, ["config", PREFIX + key]))
        for key in sorted(config.keys() - _KEYS - _OPTIONAL_KEYS)
    ]
    if problems:
        raise ModelError(problems)
    return StackFile(path, name, str(config["estate"]), config, root)


def load_estate(paths: list[Path]) -> Estate:
    """Load and validate the estate made of these stack files (all of one estate)."""
    return load_stacks([read_stack(p) for p in paths])


def load_stacks(stacks: list[StackFile]) -> Estate:
    """Load and validate the estate made of these stacks (all of one estate)."""
    if not stacks:
        raise ModelError([Problem("(none)", "(files)", "no stack file given",
                                  "name at least one Pulumi.<stack>.yaml")])
    first = stacks[0]
    problems: list[Problem] = []
    for other in stacks[1:]:
        for key in ("estate", "court", "securityLevel"):
            if other.config[key] != first.config[key]:
                problems.append(Problem(
                    other.path.name, PREFIX + key,
                    f"differs from {first.path.name} ({other.config[key]!r} vs "
                    f"{first.config[key]!r})",
                    f"stacks of one estate share {PREFIX}{key}: make them equal",
                    line=_line(other.root, ["config", PREFIX + key])))
    if problems:
        raise ModelError(problems)

    # Sites are concatenated in file order; remember which file and index each came from.
    owners: list[tuple[StackFile, int]] = []
    sites: list[Any] = []
    for stack in stacks:
        raw = stack.config["sites"]
        if not isinstance(raw, list):
            problems.append(Problem(stack.path.name, PREFIX + "sites", "is not a list",
                                    "write sites as a YAML list of site mappings",
                                    line=_line(stack.root, ["config", PREFIX + "sites"])))
            continue
        owners += [(stack, i) for i in range(len(raw))]
        sites += raw
    if problems:
        raise ModelError(problems)

    raw_estate = {
        "name": first.config["estate"],
        "court": first.config["court"],
        "securityLevel": first.config["securityLevel"],
        "sites": sites,
    }
    labs = [s for s in stacks if "lab" in s.config]
    if len(labs) > 1:
        raise ModelError([Problem(s.path.name, PREFIX + "lab", "is set in more than one stack",
                                  "keep the lab settings in one stack file of the estate",
                                  line=_line(s.root, ["config", PREFIX + "lab"]))
                          for s in labs])
    if labs:
        raw_estate["lab"] = labs[0].config["lab"]
    try:
        estate = Estate.model_validate(raw_estate)
    except ValidationError as exc:
        raise ModelError([_schema_problem(err, first, owners) for err in exc.errors()]) from None

    findings = check_estate(estate)
    if findings:
        raise ModelError([_rule_problem(f, first, owners) for f in findings])
    return estate


def project_stacks(directory: Path) -> dict[str, list[Path]]:
    """The project's stack files, grouped by the estate they belong to."""
    estates: dict[str, list[Path]] = {}
    for path in sorted(Path(directory).glob("Pulumi.*.y*ml")):
        if STACK_FILE.match(path.name):
            estates.setdefault(read_stack(path).estate, []).append(path)
    return estates


def load_project_estate(directory: Path, estate: str) -> Estate:
    groups = project_stacks(directory)
    if estate not in groups:
        known = ", ".join(sorted(groups)) or "none"
        raise ModelError([Problem(str(directory), "courtcloud:estate",
                                  f"no stack file belongs to estate {estate!r} (found: {known})",
                                  "name an estate that a Pulumi.<stack>.yaml declares")])
    return load_estate(groups[estate])


def validate_file(path: Path, directory: Path | None = None) -> Estate:
    """Validate one stack file together with the other stacks of its estate.

    The siblings are looked for beside the file (or in `directory`); a sibling of the same
    stack name is replaced by the file under test, so an edited copy can be checked
    before it is put in place.
    """
    path = Path(path)
    mine = read_stack(path)
    siblings = project_stacks(directory or path.parent).get(mine.estate, [])
    others = [p for p in siblings if stack_name(p) != mine.stack]
    return load_estate([path, *others])


def validate_config(path: Path, config: dict[str, Any]) -> Estate:
    """Validate the stack at `path` with its courtcloud:* values taken from `config` (as a
    Pulumi program receives them), together with the other stack files of its estate."""
    mine = stack_from_config(path, config)
    siblings = project_stacks(Path(path).parent).get(mine.estate, [])
    others = [read_stack(p) for p in siblings if stack_name(p) != mine.stack]
    return load_stacks([mine, *others])


# --- problem reporting ------------------------------------------------------------------

_HINTS = {
    "missing": "add this field",
    "extra_forbidden": "remove it, or correct its spelling",
    "string_pattern_mismatch": "use lower-case letters, digits and '-', starting with a letter",
    "enum": "use one of the values listed",
    "literal_error": "use one of the values listed",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "greater_than_equal": "raise the value to the minimum shown",
    "greater_than": "raise the value above the minimum shown",
    "less_than_equal": "lower the value to the maximum shown",
    "too_short": "add at least one entry",
    "ip_v4_network": "write an IPv4 network such as 10.20.0.0/24",
    "list_type": "write a YAML list",
    "model_type": "write a mapping of fields",
    "dict_type": "write a mapping of fields",
}


def _schema_problem(err: Any, first: StackFile, owners: list[tuple[StackFile, int]]) -> Problem:
    loc = list(err["loc"])
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if loc and loc[0] == "sites" and len(loc) > 1 and isinstance(loc[1], int):
        stack, index = owners[loc[1]]
        path = ["config", PREFIX + "sites", index, *loc[2:]]
    else:
        stack = first
        key = {"name": "estate"}.get(str(loc[0]), str(loc[0])) if loc else ""
        path = ["config", PREFIX + key, *loc[1:]]
    fix = _HINTS.get(err["type"], "correct the value as the message says")
    return Problem(stack.path.name, _dotted(path[1:]), msg, fix, line=_line(stack.root, path))


def _rule_problem(finding: Any, first: StackFile, owners: list[tuple[StackFile, int]]) -> Problem:
    site_index, field, message, fix = finding
    if site_index is None:
        stack, path = first, ["config", PREFIX + "sites"]
    else:
        stack, index = owners[site_index]
        path = ["config", PREFIX + "sites", index, *_split(field)]
    return Problem(stack.path.name, _dotted(path[1:]), message, fix, line=_line(stack.root, path))


def _split(field: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(root: yaml.Node | None, path: list[Any]) -> int | None:
    """The 1-based line of the deepest part of `path` that exists in the file."""
    node, line = root, None
    for part in path:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    nxt, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return line
