"""The `courtcloud` command line: `courtcloud <noun> <verb>`, each a thin layer over an engine.

Exit codes: 0 done; 1 an operation failed; 2 bad input (a stack file, an option) - the
message names the field and the fix; 3 another run holds the lab.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from . import __version__, commands


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="courtcloud")
def cli() -> None:
    pass


for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
    if info.name.startswith("_"):
        continue
    module = importlib.import_module(f"{commands.__name__}.{info.name}")
    cli.add_command(module.command)


def main() -> None:
    cli()
