"""`courtcloud model show|validate`: the site model as the stack files define it."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..model import load_project_estate, validate_file
from ..model.summary import capacity, estate_summary
from ._common import fail_on_model_error, project_dir_option


@click.group("model", help="Show and validate the site model (the Pulumi stack files).")
def command() -> None:
    pass


@command.command("show")
@click.option("--estate", default="production", show_default=True,
              help="which estate: 'production' (primary, standby, miyun stacks) or 'lab'")
@project_dir_option
@click.option("--json", "as_json", is_flag=True, help="print JSON for machines")
def show(estate: str, project_dir: Path, as_json: bool) -> None:
    """Sites, zones, pools and apps, with totals against the white paper's capacity."""
    with fail_on_model_error(as_json):
        model = load_project_estate(project_dir, estate)
    summary = estate_summary(model)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    console = Console(width=max(Console().width, 100))
    table = Table(title=f"{model.court.name}: estate {model.name!r}, "
                  f"security level {model.security_level}")
    for col in ("site", "role", "zones", "pools", "VMs", "vCPU", "mem GB", "data TB",
                "backup TB", "app replicas"):
        table.add_column(col, justify="left" if col in ("site", "role") else "right",
                         no_wrap=True)
    for site in summary["sites"]:
        table.add_row(site["name"], site["role"], str(len(site["zones"])),
                      str(len(site["pools"])), str(site["vms"]), str(site["vcpus"]),
                      str(site["memory_gb"]), f"{site['storage_tb']:g}",
                      f"{site['backup_tb']:g}", str(sum(site["apps"].values())))
    console.print(table)
    if estate == "production" or summary["capacity"]["reference"]:
        cap = Table(title="capacity against the white paper (appendix X)")
        for col in ("figure", "stacks", "white paper"):
            cap.add_column(col)
        for key, row in summary["capacity"]["figures"].items():
            cap.add_row(key, f"{row['stacks']:g}", f"{row['white_paper']:g}")
        console.print(cap)


@command.command("validate")
@click.argument("stack_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print JSON for machines")
def validate(stack_file: Path, as_json: bool) -> None:
    """Validate STACK_FILE together with the other stacks of its estate beside it.

    Exit 0 when valid; 2 with every problem named (file, line, field, fix) when not.
    """
    with fail_on_model_error(as_json):
        model = validate_file(stack_file)
    totals = capacity(model)["figures"]
    if as_json:
        click.echo(json.dumps({"valid": True, "estate": model.name,
                               "sites": [s.name for s in model.sites]}))
    else:
        click.echo(f"{stack_file}: valid (estate {model.name!r}: "
                   f"{', '.join(s.name for s in model.sites)}; {totals['vms']['stacks']} VMs)")

