"""Every error code the service can answer with is documented in its README."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[1]
# InputRejected("code", ...), Problem(422, "code", ...), and codes given on their own line
RAISED = re.compile(r'(?:InputRejected|Problem)\(\s*(?:\d+,\s*)?"([a-z][a-z0-9-]+)"'
                    r'|^\s+"([a-z]+(?:-[a-z0-9]+)+)",\s*$', re.M)


def test_every_error_code_is_documented() -> None:
    raised = set()
    for path in (APP / "src").rglob("*.py"):
        for m in RAISED.finditer(path.read_text(encoding="utf-8")):
            raised.add(m.group(1) or m.group(2))
    assert {"audio-empty", "audio-unreadable", "invalid-hot-words"} <= raised  # the scan works
    readme = (APP / "README.md").read_text(encoding="utf-8")
    missing = sorted(code for code in raised if f"`{code}`" not in readme)
    assert not missing, f"error codes not in apps/asr/README.md: {missing}"
