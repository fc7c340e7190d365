"""The court's Pulumi program: `pulumi up -s <stack>` builds the sites that stack's config
describes (one site per production stack: primary, standby, miyun; three in the lab).

Pulumi runs this file with `infra/` first on sys.path, where `infra/openstack` would hide
the `openstack` SDK package; the project root goes there instead, so the parts import as
`infra.openstack`, `infra.k8s`, `infra.dr_miyun`.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

from infra.program import main  # noqa: E402

main()
