"""`courtcloud plan`: what each stack would create, without any cloud.

Runs the real Pulumi program (`infra/__main__.py`) with the engine mocked - there is no
Pulumi CLI here - renders the charts for real, applies the policy pack, and prints a table
plus a JSON report.

Exit codes: 0 every policy passed; 1 a policy reported a violation; 2 bad input: the site
model is invalid (the message names the file, field and fix) or the stack lacks the
cloud settings (`site-cloud:*`) the program needs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ._common import EXIT_BAD_INPUT, fail_on_model_error, project_dir_option

DEFAULT_OUT = Path("reports") / "plan"


@click.command("plan", help=__doc__)
@click.option("--stack", "stacks", multiple=True,
              help="a stack to plan (repeatable); default: every production stack")
@click.option("--estate", default="production", show_default=True,
              help="the estate whose stacks are planned when no --stack is given")
@project_dir_option
@click.option("--json", "as_json", is_flag=True, help="print the JSON report instead of tables")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="where to write the JSON report [default: reports/plan/<name>.json]")
def command(stacks: tuple[str, ...], estate: str, project_dir: Path, as_json: bool,
            out: Path | None) -> None:
    # Pulumi and the policy pack load here, so that `courtcloud --help` stays fast.
    from ..infra.engine import estate_of, run_estate
    from ..infra.report import plan_report
    from ..infra.verdicts import evaluate, stack_policy_config

    project_dir = project_dir.resolve()
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    from pulumi import config as pulumi_config

    from infra.policy.rules import POLICIES

    with fail_on_model_error(as_json):
        if stacks:
            estates = {estate_of(project_dir, s) for s in stacks}
            if len(estates) != 1:
                raise click.UsageError("the stacks given belong to different estates")
            estate = estates.pop()
        if not as_json:
            click.echo(f"planning {', '.join(stacks) or f'estate {estate!r}'} under mocks ...",
                       err=True)
        try:
            runs = run_estate(project_dir, estate, only=list(stacks) or None)
        except pulumi_config.ConfigMissingError as exc:
            click.echo(f"{exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
    level = runs and next(iter(runs.values())).config.get("courtcloud:securityLevel", "3")
    verdicts = {name: evaluate(POLICIES, run.resources, name,
                               stack_policy_config(project_dir, run, int(level or 3)))
                for name, run in runs.items()}
    report = plan_report(runs, verdicts, estate)
    target = out or project_dir / DEFAULT_OUT / f"{'-'.join(stacks) or estate}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print(report, target)
    sys.exit(0 if report["policies_passed"] else 1)


def _print(report: dict[str, Any], target: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    for name, stack in report["stacks"].items():
        zones = sorted({z for row in stack["by_type_and_zone"].values() for z in row})
        table = Table(title=f"stack {name}: {stack['resources']} resources "
                      f"({stack['seconds']:.1f} s under mocks)")
        table.add_column("type", no_wrap=True)
        for zone in zones:
            table.add_column(zone, justify="right")
        for typ, row in stack["by_type_and_zone"].items():
            table.add_row(typ.split(":", 1)[1] if ":" in typ else typ,
                          *[str(row.get(z, "")) for z in zones])
        console.print(table)
        rules = Table(title=f"stack {name}: security-group rules per tier")
        for col in ("tier", "rules", "ingress", "egress", "world-open"):
            rules.add_column(col, justify="left" if col == "tier" else "right")
        for tier, rows in stack["rules_by_tier"].items():
            rules.add_row(tier, str(len(rows)),
                          str(sum(r["direction"] == "ingress" for r in rows)),
                          str(sum(r["direction"] == "egress" for r in rows)),
                          str(sum(r["remote"] == "0.0.0.0/0" for r in rows)))
        console.print(rules)
        verdicts = Table(title=f"stack {name}: policy pack")
        for col in ("policy", "GB/T 22239-2019", "verdict"):
            verdicts.add_column(col)
        for v in stack["policies"]:
            verdict = "pass" if v["passed"] else f"FAIL ({len(v['violations'])})"
            verdicts.add_row(v["policy"], v["clause"], verdict)
        console.print(verdicts)
        for v in stack["policies"]:
            for violation in v["violations"][:5]:
                console.print(f"  [red]{v['policy']}[/red]: {violation['message']}")
    cap = Table(title="totals against the white paper")
    for col in ("figure", "stacks", "white paper"):
        cap.add_column(col, justify="left" if col == "figure" else "right")
    for key, row in report["capacity"].items():
        cap.add_row(key, f"{row['stacks']:g}", f"{row['white_paper']:g}")
    console.print(cap)
    verdict = "every policy passed" if report["policies_passed"] else "POLICY VIOLATIONS"
    console.print(f"{verdict}; JSON report: {target}")
