"""The court's Pulumi program and its parts (see `infra/README.md`).

`infra/openstack/`, `infra/k8s/` and `infra/dr-miyun/` hold the components; `infra/policy/`
the CrossGuard pack. `dr-miyun` keeps the directory name the repository layout gives it;
a hyphen cannot appear in an import, so the package is registered here, once, as
`infra.dr_miyun` and every other module imports it by that name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_DR_DIR = Path(__file__).resolve().parent / "dr-miyun"


def _register_dr_miyun() -> None:
    name = f"{__name__}.dr_miyun"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        name, _DR_DIR / "__init__.py", submodule_search_locations=[str(_DR_DIR)])
    if spec is None or spec.loader is None:  # pragma: no cover - the directory ships with us
        raise ImportError(f"cannot load {_DR_DIR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_register_dr_miyun()
