"""`courtcloud lab up|down|status|images|inventory`: the whole estate on this machine."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..model import load_project_estate
from ._common import fail_on_model_error, project_dir_option

EXIT_FAILED, EXIT_BUSY = 1, 3


class ConsoleProgress:
    """Each step on its own line with a spinner while it runs and its time when done."""

    def __init__(self, console: Console):
        self.console = console
        self._status = None

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        start = time.monotonic()
        with self.console.status(f"{title} ...") as status:
            self._status = status
            try:
                yield
            except BaseException:
                self.console.print(f"[red]x[/red] {title} failed after "
                                   f"{time.monotonic() - start:.1f} s")
                raise
            finally:
                self._status = None
        self.console.print(f"[green]ok[/green] {title} ({time.monotonic() - start:.1f} s)")

    def log(self, message: str) -> None:
        self.console.print(f"   {message}", highlight=False)


@contextmanager
def _lab_errors() -> Iterator[None]:
    from ..lab.podman import LabError
    from ..lab.state import LabBusy

    try:
        yield
    except LabBusy as exc:
        click.echo(f"courtcloud lab: {exc}", err=True)
        sys.exit(EXIT_BUSY)
    except LabError as exc:
        click.echo(f"courtcloud lab: {exc}", err=True)
        sys.exit(EXIT_FAILED)


estate_option = click.option("--estate", default="lab", show_default=True,
                             help="the estate whose stack files describe the lab")


@click.group("lab", help="The whole estate on this machine: podman networks and systemd hosts.")
def command() -> None:
    pass


@command.command("up")
@estate_option
@project_dir_option
@click.option("--no-host-setup", is_flag=True,
              help="skip installing host packages and writing the podman settings")
@click.option("--configure/--no-configure", default=True, show_default=True,
              help="then run the site playbook on the hosts (`courtcloud lab configure`)")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
def up_cmd(estate: str, project_dir: Path, no_host_setup: bool, configure: bool,
           as_json: bool) -> None:
    """Build images, networks and hosts; start the package proxy; write the inventory;
    then configure the hosts with the site playbook (unless --no-configure).

    Idempotent: a second run changes nothing. If a step before the playbook fails, what
    this run created is removed again. Exit 0 done, 1 failed, 2 bad stack file, 3 another
    run holds the lab.
    """
    from ..lab import lab

    with fail_on_model_error(as_json):
        model = load_project_estate(project_dir, estate)
    console = Console(stderr=as_json, width=max(Console().width, 110))
    start = time.monotonic()
    with _lab_errors():
        result = lab.up(model, ConsoleProgress(console), configure_host=not no_host_setup)
    summary = lab.summary(result)
    summary["elapsed_s"] = round(time.monotonic() - start, 1)
    if configure:
        # The hosts stay up whatever the playbook does: it can be run again on its own.
        console.print("[bold]configuring the hosts:[/] courtcloud lab configure")
        step = time.monotonic()
        def site_run() -> int:
            return lab.configure(model, project_dir, "playbooks/site.yml", [],
                                 stdout=sys.stderr if as_json else None)

        with _lab_errors():
            try:
                rc = site_run()
            except lab.PlaybookStalled as exc:
                # The playbook converges whatever it was stopped in; a hang (once seen in
                # CI between two tasks, with every host idle) gets one more run.
                console.print(f"[yellow]{exc}[/]\n[bold]running the site playbook again[/]")
                summary["site playbook stalled"] = str(exc)
                rc = site_run()
        summary["timings_s"]["site playbook"] = round(time.monotonic() - step, 1)
        summary["configured"] = rc == 0
        if rc == 0:
            step = time.monotonic()
            with _lab_errors():
                started = lab.start_platform(model, ConsoleProgress(console))
            summary["timings_s"]["apps"] = round(time.monotonic() - step, 1)
            summary["apps_ready"] = started.ready
            summary["apps_serving"] = started.serving
            summary["apps_warm_standby"] = started.standby
            summary["changed"] += started.changed
            summary["platform"] = _platform_status(model)
        summary["elapsed_s"] = round(time.monotonic() - start, 1)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(console, summary)
        if summary.get("platform"):
            _print_platform(console, summary["platform"])
    if configure and not summary["configured"]:
        console.print("[red]the site playbook failed[/] (see above); the hosts are up: fix "
                      "and run `courtcloud lab configure`, then `courtcloud lab apps`")
        sys.exit(1)
    if configure and not summary.get("apps_serving", True):
        console.print("[red]some app replicas are not ready[/] (named above); "
                      "`courtcloud lab status` follows them")
        sys.exit(1)


def _platform_status(model) -> list[dict]:
    from ..lab import platform
    from ..lab.plan import lab_plan
    from ..lab.state import state_dir

    return platform.status(model, lab_plan(model), state_dir(model.name))


def _print_platform(console: Console, rows: list[dict]) -> None:
    table = Table(title="the platform: apps behind each site's entry", title_justify="left")
    for col in ("site", "app", "published URL", "version", "ready", "database leader",
                "ceph", "evidence copied to"):
        table.add_column(col)
    for row in rows:
        site_cells = [row["database_leader"], row["ceph"], row["evidence_copied_to"] or "-"]
        for i, app in enumerate(row["apps"] or [{}]):
            ready = (f"{app['ready']}/{app['desired']}" if app.get("started")
                     else "not started" if app else "-")
            if app.get("warm_standby") and app.get("ready") == 0:
                ready += " (warm standby)"
            style = ("" if not app or app["ready"] == app["desired"]
                     or app.get("warm_standby") else "[red]")
            table.add_row(row["site"] if i == 0 else "", app.get("app", "-"),
                          app.get("url", "-"), app.get("version") or "-",
                          f"{style}{ready}", *(site_cells if i == 0 else ["", "", ""]))
    console.print(table)


def _print_summary(console: Console, summary: dict) -> None:
    table = Table(title=f"lab {summary['estate']!r}: {len(summary['hosts'])} hosts, "
                  f"{len(summary['networks'])} networks", title_justify="left")
    for col in ("site", "host", "roles", "addresses (zone=address)"):
        table.add_column(col, no_wrap=col != "roles")
    for host in summary["hosts"]:
        table.add_row(host["site"], host["host"], ", ".join(host["roles"]),
                      " ".join(f"{z}={a}" for z, a in host["addresses"].items()))
    console.print(table)
    changed = len(summary["changed"])
    console.print(f"{changed} change(s) in {summary['elapsed_s']} s; package proxy on "
                  f"{', '.join(summary['proxy'])} port 3142")
    first = summary["hosts"][0]["container"] if summary["hosts"] else "HOST"
    console.print(f"reach a host:   podman exec -it {first} bash")
    console.print(f"ansible:        ansible -i {summary['inventory']} all -m ping")
    console.print("remove the lab: courtcloud lab down")


@command.command("configure", context_settings={"ignore_unknown_options": True})
@estate_option
@project_dir_option
@click.option("--playbook", default="playbooks/site.yml", show_default=True,
              help="the playbook to run, relative to the project")
@click.option("--via", type=click.Choice(["ssh", "podman"]), default="ssh", show_default=True,
              help="how Ansible reaches the hosts: SSH as the automation account, as in "
                   "production, or `podman exec` (slower; for when SSH itself is broken)")
@click.argument("ansible_args", nargs=-1, type=click.UNPROCESSED)
def configure_cmd(estate: str, project_dir: Path, playbook: str, via: str,
                  ansible_args: tuple[str, ...]) -> None:
    """Run the site playbook against the lab's inventory (Ansible's own progress is shown).

    Extra arguments go to ansible-playbook, e.g. `--limit site_primary` or `--check`.
    Exit status is ansible-playbook's.
    """
    from ..lab.lab import configure

    with fail_on_model_error():
        model = load_project_estate(project_dir, estate)
    with _lab_errors():
        sys.exit(configure(model, project_dir, playbook, list(ansible_args), via=via))


@command.command("down")
@estate_option
@click.option("--keep-images", is_flag=True,
              help="keep the built images and the package cache for a fast next `up`")
def down_cmd(estate: str, keep_images: bool) -> None:
    """Remove every host, network and image the lab created (by label), the proxy and state.

    Host packages and /etc/containers/containers.conf stay: they belong to the host.
    """
    from ..lab import lab

    console = Console()
    with _lab_errors():
        result = lab.down(estate, ConsoleProgress(console), keep_images=keep_images)
    console.print(f"removed {len(result.removed)} item(s)"
                  + (": " + ", ".join(result.removed) if result.removed else ""))
    if result.kept:
        console.print(f"kept, as containers the lab did not make use them: "
                      f"{', '.join(result.kept)}; remove those and run `lab down` again")


@command.command("status")
@estate_option
@project_dir_option
@click.option("--json", "as_json", is_flag=True)
def status_cmd(estate: str, project_dir: Path, as_json: bool) -> None:
    """The lab's hosts and whether they run; per site, each app's URL, version and ready
    replicas, the database leader, Ceph's health and where evidence is copied."""
    from ..lab import lab

    with _lab_errors():
        rows = lab.status(estate)
        with fail_on_model_error(as_json):
            model = load_project_estate(project_dir, estate)
        platform = _platform_status(model) if rows else []
    if as_json:
        click.echo(json.dumps({"hosts": rows, "platform": platform}, indent=2))
        return
    table = Table(title=f"lab {estate!r}")
    for col in ("host", "site", "state"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["host"], row["site"], row["state"])
    console = Console(width=max(Console().width, 130))
    console.print(table if rows else "the lab has no hosts (courtcloud lab up)")
    if platform:
        _print_platform(console, platform)


@command.command("apps")
@estate_option
@project_dir_option
@click.option("--json", "as_json", is_flag=True, help="print the platform's state as JSON")
def apps_cmd(estate: str, project_dir: Path, as_json: bool) -> None:
    """(Re)start the apps of every site on the configured lab: charts rendered with each
    site's values, Secrets as files, a pod per replica on its worker, the node agent; then
    wait for their readiness. `lab up` does this after the site playbook."""
    from ..lab import lab

    with fail_on_model_error(as_json):
        model = load_project_estate(project_dir, estate)
    console = Console(stderr=as_json, width=max(Console().width, 130))
    with _lab_errors():
        started = lab.start_platform(model, ConsoleProgress(console))
        rows = _platform_status(model)
    if as_json:
        click.echo(json.dumps({"changed": started.changed, "ready": started.ready,
                               "serving": started.serving, "warm_standby": started.standby,
                               "platform": rows}, indent=2))
    else:
        for line in started.changed:
            console.print(f"   {line}")
        _print_platform(console, rows)
    if not started.serving:
        sys.exit(1)


@command.command("images")
@estate_option
def images_cmd(estate: str) -> None:
    """Build only the lab's images (base from debootstrap, host with systemd, the servers'
    with the roles' packages baked in, each app's)."""
    from ..apps import releases
    from ..lab import images
    from ..lab.state import state_dir

    progress = ConsoleProgress(Console())
    with _lab_errors():
        with progress.step("base image"):
            images.build_base(estate, progress.log)
        with progress.step("host image"):
            images.build_host(estate, progress.log)
        with progress.step("server image"):
            images.build_server(estate, progress.log, state_dir(estate) / "log")
        for release in releases().values():
            with progress.step(f"{release.name} image ({release.image})"):
                images.build_app(release, estate, progress.log)


@command.command("inventory")
@estate_option
@project_dir_option
def inventory_cmd(estate: str, project_dir: Path) -> None:
    """Print the lab's Ansible inventory (YAML), derived from the site model."""
    import yaml

    from ..inventory import build_inventory
    from ..lab.lab import lab_connection

    with fail_on_model_error():
        model = load_project_estate(project_dir, estate)
    inventory = build_inventory(model, lab_connection(model))
    click.echo(yaml.safe_dump(inventory, sort_keys=False), nl=False)


@command.command("token")
@estate_option
@project_dir_option
@click.option("--role", "roles", multiple=True, required=True,
              help="judge, clerk, mediator, party (litigant), lawyer or public; repeatable")
@click.option("--subject", default=None, help="the user id (default: lab-<first role>)")
@click.option("--name", default=None, help="the display name (default: the subject)")
@click.option("--ttl", default=3600, show_default=True, help="seconds the token lasts")
def token_cmd(estate: str, project_dir: Path, roles: tuple[str, ...], subject: str | None,
              name: str | None, ttl: int) -> None:
    """Print a bearer token from the lab's identity provider, for trying the apps by hand:

        curl -H "Authorization: Bearer $(courtcloud lab token --role judge)" ...
    """
    from ..lab import identity
    from ..lab.state import state_dir
    from ..model.published import LITIGATION_AUDIENCE, identity_issuer

    with fail_on_model_error():
        model = load_project_estate(project_dir, estate)
    with _lab_errors():
        token = identity.mint(state_dir(estate), issuer=identity_issuer(model),
                              audience=LITIGATION_AUDIENCE,
                              subject=subject or f"lab-{roles[0]}", roles=list(roles),
                              court=model.court.code, name=name, ttl_s=ttl)
    click.echo(token)


@command.command("agent", hidden=True)
@estate_option
def agent_cmd(estate: str) -> None:
    """The lab's node agent (started by `lab up`, stopped by `lab down`): keeps every app pod
    attached to its worker host, recreating it when the worker was restarted."""
    from ..lab.platform import run_agent
    from ..lab.state import state_dir

    run_agent(state_dir(estate))


@command.command("resolve")
@estate_option
@project_dir_option
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
def resolve_cmd(estate: str, project_dir: Path, names: tuple[str, ...], as_json: bool) -> None:
    """What the court's DNS answers now for each published name (or NAMES), and which site's
    entry that is: the primary's while it is healthy, else the standby's."""
    from ..lab import dns
    from ..lab.plan import lab_plan

    with fail_on_model_error(as_json):
        model = load_project_estate(project_dir, estate)
    with _lab_errors():
        rows = dns.resolve(model, lab_plan(model), list(names) or None)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"the court's DNS ({rows[0]['server'] if rows else '-'})")
    for col in ("name", "answer", "site", "in order of preference"):
        table.add_column(col)
    for row in rows:
        table.add_row(row["name"], " ".join(row["addresses"]) or "(none)",
                      " ".join(row["sites"]) or "-", " > ".join(row["preference"]))
    Console(width=max(Console().width, 110)).print(table)
