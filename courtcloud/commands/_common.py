"""What the subcommands share: the project directory option and model-error reporting."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..model import ModelError

EXIT_BAD_INPUT = 2


def default_project_dir() -> Path:
    """The directory holding Pulumi.yaml: the current one or the nearest parent."""
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").exists():
            return candidate
    return here


project_dir_option = click.option(
    "--project-dir", type=click.Path(file_okay=False, path_type=Path),
    default=default_project_dir, show_default="the directory holding Pulumi.yaml",
    help="where the Pulumi.<stack>.yaml files are")


@contextmanager
def fail_on_model_error(as_json: bool = False) -> Iterator[None]:
    """Turn a ModelError into every problem printed and exit code 2."""
    try:
        yield
    except ModelError as exc:
        if as_json:
            click.echo(json.dumps({"valid": False,
                                   "problems": [p.as_dict() for p in exc.problems]}, indent=2))
        else:
            click.echo(str(exc), err=True)
        sys.exit(EXIT_BAD_INPUT)
