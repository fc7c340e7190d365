"""Documents from structured case data and JSON-defined templates.

A template (``litigation/templates/<name>.json``) names its **elements** (each read
from the case data by a dotted ``source`` path, or given a fixed ``value``, with a
**label** and an optional ``format``), which elements form the labelled header, and
its **sections** of paragraphs. **Assembly rules** decide what goes in: a paragraph or
a section may carry ``when`` (``present``, ``equals``, ``not``, ``all``, ``any``), and
``for_each`` repeats a paragraph over a list (parties, claims, agreement terms).
Paragraph text refers to elements as ``{name}`` and to the loop item as ``{item.field}``.

This module assembles the document's content and checks templates; rendering the
content into a .docx (docxtpl) is in ``litigation.docx``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

from litigation.domain.fees import format_yuan

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
FORMATS = {"text", "date", "datetime", "yuan", "names", "lines"}
INPUTS = {"hearing", "recipient", "mediation"}


class TemplateError(ValueError):
    """A template file is malformed (found when templates load, at start)."""


class MissingElement(ValueError):
    """A required element has no value in this case's data."""

    def __init__(self, template: str, element: str, label: str, source: str) -> None:
        super().__init__(f"{template}: {label} ({element}, from {source}) has no value")
        self.template, self.element, self.label, self.source = template, element, label, source


@dataclass(frozen=True)
class Element:
    name: str
    label: str
    source: str | None
    value: str | None
    format: str
    required: bool


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    inputs: frozenset[str]
    requires_status: frozenset[str]
    elements: dict[str, Element]
    header: tuple[str, ...]
    sections: tuple[dict[str, Any], ...]
    closing: tuple[str, ...]
    raw: dict[str, Any]


@dataclass(frozen=True)
class Assembled:
    """What goes into the document, ready for the layout."""

    title: str
    court_name: str
    fields: list[dict[str, str]]
    sections: list[dict[str, Any]]
    closing: list[str]
    elements: dict[str, str]


# -- reading values ---------------------------------------------------------------------
def lookup(data: Any, path: str) -> Any:
    cur = data
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        else:
            return None
        if cur is None:
            return None
    return cur


def present(v: Any) -> bool:
    return v is not None and v != "" and v != [] and v != {}


def fmt(value: Any, how: str) -> str:
    if value is None:
        return ""
    if how == "date":
        if isinstance(value, datetime | date):
            return f"{value.year}年{value.month}月{value.day}日"
        return str(value)
    if how == "datetime":
        if isinstance(value, datetime):
            return f"{value.year}年{value.month}月{value.day}日 {value.hour:02d}:{value.minute:02d}"
        return str(value)
    if how == "yuan":
        return f"{format_yuan(int(value))}元"
    if how == "names":
        if isinstance(value, list):
            return "、".join(
                str(v.get("name", "")) if isinstance(v, dict) else str(v) for v in value
            )
        return str(value)
    if how == "lines":
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return str(value)
    return str(value)


# -- assembly rules -----------------------------------------------------------------------
def rule_holds(rule: Any, data: dict[str, Any]) -> bool:
    if rule is None:
        return True
    if "present" in rule:
        return present(lookup(data, rule["present"]))
    if "equals" in rule:
        path, want = rule["equals"]
        return lookup(data, path) == want
    if "not" in rule:
        return not rule_holds(rule["not"], data)
    if "all" in rule:
        return all(rule_holds(r, data) for r in rule["all"])
    if "any" in rule:
        return any(rule_holds(r, data) for r in rule["any"])
    raise TemplateError(f"unknown rule {rule!r}")


def _check_rule(rule: Any, where: str) -> None:
    if not isinstance(rule, dict) or len(rule) != 1:
        raise TemplateError(f"{where}: a rule is an object with one key")
    ((key, arg),) = rule.items()
    if key == "present":
        ok = isinstance(arg, str)
    elif key == "equals":
        ok = isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)
    elif key == "not":
        _check_rule(arg, where)
        ok = True
    elif key in ("all", "any"):
        ok = isinstance(arg, list) and bool(arg)
        for r in arg if ok else []:
            _check_rule(r, where)
    else:
        ok = False
    if not ok:
        raise TemplateError(
            f"{where}: bad rule {rule!r} (use present, equals [path, value], not, all, any)"
        )


def fill(text: str, values: dict[str, str], item: tuple[str, Any] | None = None) -> str:
    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if item is not None and (key == item[0] or key.startswith(item[0] + ".")):
            v = item[1] if key == item[0] else lookup(item[1], key[len(item[0]) + 1 :])
            return "" if v is None else str(v)
        return values.get(key, "")

    return PLACEHOLDER.sub(repl, text)


# -- templates ------------------------------------------------------------------------------
def parse_template(doc: dict[str, Any], origin: str) -> Template:
    def need(cond: bool, what: str) -> None:
        if not cond:
            raise TemplateError(f"{origin}: {what}")

    need(isinstance(doc, dict), "the template is a JSON object")
    name = doc.get("name")
    need(isinstance(name, str) and bool(NAME.match(name)), "'name': lower-case letters, _")
    need(isinstance(doc.get("title"), str) and bool(doc["title"]), "'title' is required")
    inputs = doc.get("inputs", [])
    need(isinstance(inputs, list) and set(inputs) <= INPUTS, f"'inputs' are among {INPUTS}")
    elements: dict[str, Element] = {}
    for i, e in enumerate(doc.get("elements", [])):
        where = f"elements[{i}]"
        need(isinstance(e, dict), f"{where} is an object")
        en = e.get("name")
        need(isinstance(en, str) and bool(NAME.match(en)), f"{where}.name is a lower-case name")
        need(en not in elements, f"{where}.name {en!r} is defined twice")
        need(("source" in e) != ("value" in e), f"{where} has exactly one of source, value")
        f = e.get("format", "text")
        need(f in FORMATS, f"{where}.format is one of {sorted(FORMATS)}")
        label = e.get("label", en)
        need(isinstance(label, str), f"{where}.label is text")
        elements[en] = Element(
            en, label, e.get("source"), e.get("value"), f, bool(e.get("required", False))
        )
    header = tuple(doc.get("header", []))
    for h in header:
        need(h in elements, f"header names unknown element {h!r}")
    known = set(elements)

    def check_text(text: Any, where: str, loop_var: str | None) -> None:
        need(isinstance(text, str), f"{where}: text is a string")
        for ref in PLACEHOLDER.findall(text):
            head = ref.split(".")[0]
            need(
                ref in known or (loop_var is not None and head == loop_var),
                f"{where}: {{{ref}}} is not an element"
                + (f" or the loop item {loop_var!r}" if loop_var else ""),
            )

    sections = doc.get("sections", [])
    need(isinstance(sections, list), "'sections' is a list")
    for si, s in enumerate(sections):
        where = f"sections[{si}]"
        need(isinstance(s, dict), f"{where} is an object")
        if "when" in s:
            _check_rule(s["when"], where)
        if "heading" in s:
            check_text(s["heading"], where + ".heading", None)
        paras = s.get("paragraphs", [])
        need(isinstance(paras, list), f"{where}.paragraphs is a list")
        for pi, p in enumerate(paras):
            pw = f"{where}.paragraphs[{pi}]"
            if isinstance(p, str):
                check_text(p, pw, None)
                continue
            need(isinstance(p, dict) and "text" in p, f"{pw} is text or an object with 'text'")
            if "when" in p:
                _check_rule(p["when"], pw)
            loop_var = None
            if "for_each" in p:
                need(isinstance(p["for_each"], str), f"{pw}.for_each is a data path")
                loop_var = p.get("as", "item")
            check_text(p["text"], pw + ".text", loop_var)
    closing = tuple(doc.get("closing", []))
    for ci, c in enumerate(closing):
        check_text(c, f"closing[{ci}]", None)
    return Template(
        name=name,
        title=doc["title"],
        description=str(doc.get("description", "")),
        inputs=frozenset(inputs),
        requires_status=frozenset(doc.get("requires_status", [])),
        elements=elements,
        header=header,
        sections=tuple(sections),
        closing=closing,
        raw=doc,
    )


def load_templates() -> dict[str, Template]:
    """Every template shipped in ``litigation/templates`` (checked; raises TemplateError)."""
    out: dict[str, Template] = {}
    for f in sorted(resources.files("litigation.templates").iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".json"):
            continue
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{f.name}: not JSON ({exc})") from None
        t = parse_template(doc, f.name)
        if f.name != f"{t.name}.json":
            raise TemplateError(f"{f.name}: its name is {t.name!r}; name the file after it")
        out[t.name] = t
    return out


def assemble(t: Template, data: dict[str, Any]) -> Assembled:
    """Resolve the elements from ``data``, apply the rules, fill the paragraphs."""
    values: dict[str, str] = {}
    for e in t.elements.values():
        raw = e.value if e.source is None else lookup(data, e.source)
        if e.required and not present(raw):
            raise MissingElement(t.name, e.name, e.label, e.source or "value")
        values[e.name] = fmt(raw, e.format)
    fields = [{"label": t.elements[h].label, "value": values[h]} for h in t.header]
    sections: list[dict[str, Any]] = []
    for s in t.sections:
        if not rule_holds(s.get("when"), data):
            continue
        paras: list[str] = []
        for p in s.get("paragraphs", []):
            if isinstance(p, str):
                paras.append(fill(p, values))
                continue
            if not rule_holds(p.get("when"), data):
                continue
            if "for_each" in p:
                items = lookup(data, p["for_each"]) or []
                var = p.get("as", "item")
                for n, it in enumerate(items, 1):
                    item = {**it, "n": n} if isinstance(it, dict) else {"text": it, "n": n}
                    paras.append(fill(p["text"], values, (var, item)))
            else:
                paras.append(fill(p["text"], values))
        if paras or s.get("heading"):
            heading = fill(s["heading"], values) if s.get("heading") else ""
            sections.append({"heading": heading, "paragraphs": paras})
    closing = [fill(c, values) for c in t.closing]
    court = str(lookup(data, "court.name") or "")
    return Assembled(t.title, court, fields, sections, closing, values)
