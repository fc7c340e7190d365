"""The CrossGuard pack: `pulumi preview --policy-pack infra/policy` (or publish it)."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parents[1]) not in sys.path:
    sys.path.insert(0, str(_HERE.parents[1]))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from infra.policy.rules import POLICIES  # noqa: E402

PolicyPack(
    name="courtcloud-graded-protection",
    description="GB/T 22239-2019 level 3 rules visible in the court's infrastructure code",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
