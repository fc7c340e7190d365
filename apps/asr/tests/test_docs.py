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


def test_every_upload_error_code_is_in_the_openapi_document() -> None:
    """The 4xx/5xx codes of POST /v1/transcriptions are named in its OpenAPI responses, so a
    client generated from /openapi.json learns `audio-empty` and the others."""
    from asr.app import create_app
    from asr.settings import Settings

    app = create_app(Settings(log_level="WARNING"), load_in_background=False)
    responses = app.openapi()["paths"]["/v1/transcriptions"]["post"]["responses"]
    text = " ".join(r.get("description", "") for r in responses.values())
    for code in ("empty-file", "audio-empty", "audio-unreadable", "sample-rate-too-low",
                 "audio-too-long", "file-too-large", "unsupported-media-type",
                 "too-many-channels", "channel-out-of-range", "invalid-channel-roles",
                 "invalid-hot-words", "not-ready", "busy"):
        assert f"`{code}`" in text, code
