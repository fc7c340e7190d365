"""`courtcloud role list|test`: the Ansible roles and their molecule tests on the lab's bench."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from ..model import load_project_estate
from ._common import fail_on_model_error, project_dir_option


def roles(project_dir: Path) -> list[str]:
    return sorted(p.parent.parent.parent.name
                  for p in (project_dir / "roles").glob("*/molecule/*/molecule.yml"))


def molecule_env(project_dir: Path, role: str, estate: str = "lab") -> dict[str, str]:
    """The variables the shared molecule config reads, from the lab's site model."""
    from ..lab.plan import HOST_IMAGE, lab_plan

    with fail_on_model_error():
        plan = lab_plan(load_project_estate(project_dir, estate))
    if plan.bench is None:
        raise click.UsageError(f"estate {estate!r} has no courtcloud:lab.benchCidr: add one "
                               "so role tests have a network")
    return {"COURTCLOUD_ROLE": role.replace("_", "-"), "COURTCLOUD_HOST_IMAGE": HOST_IMAGE,
            "COURTCLOUD_BENCH_NETWORK": plan.bench.network.name,
            "COURTCLOUD_BENCH_PROXY": str(plan.bench.network.gateway),
            "COURTCLOUD_BENCH_CIDR": str(plan.bench.network.subnet)}


@click.group("role", help="The Ansible roles and their molecule tests.")
def command() -> None:
    pass


@command.command("list")
@project_dir_option
def list_cmd(project_dir: Path) -> None:
    """Roles that have a molecule scenario."""
    for name in roles(project_dir):
        click.echo(name)


@command.command("test", context_settings={"ignore_unknown_options": True})
@click.argument("role")
@click.option("--scenario", default="default", show_default=True)
@click.option("--estate", default="lab", show_default=True)
@project_dir_option
@click.argument("molecule_args", nargs=-1, type=click.UNPROCESSED)
def test_cmd(role: str, scenario: str, estate: str, project_dir: Path,
             molecule_args: tuple[str, ...]) -> None:
    """Run `molecule test` (or MOLECULE_ARGS, e.g. `converge`) for ROLE on the lab's bench.

    Needs the lab's images and bench: `courtcloud lab up` first.
    """
    known = roles(project_dir)
    if role not in known:
        raise click.BadParameter(f"no molecule scenario for {role!r}; roles with one: "
                                 f"{', '.join(known) or 'none'}", param_hint="ROLE")
    env = {**os.environ, **molecule_env(project_dir, role, estate)}
    args = list(molecule_args) or ["test"]
    command_line = [sys.executable, "-m", "molecule", *args[:1], "-s", scenario, *args[1:]]
    proc = subprocess.run(command_line, cwd=project_dir / "roles" / role, env=env, check=False)
    sys.exit(proc.returncode)
