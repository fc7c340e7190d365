"""Shared request helpers."""

from __future__ import annotations

import json
import re

from fastapi import Request, UploadFile

from ..domain.errors import InputRejected
from ..domain.transcript import ROLES
from ..service import AsrService
from .problems import Problem


def service(request: Request) -> AsrService:
    return request.app.state.service


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InputRejected("file-too-large",
                            f"The file is larger than {limit} bytes. Split it or stream it.",
                            status=413)
    return data


def parse_roles(raw: str | None) -> dict[int, str]:
    """channel_roles: JSON such as {"0": "judge", "1": "plaintiff"}."""
    if not raw:
        return {}
    try:
        given = json.loads(raw)
        if not isinstance(given, dict):
            raise ValueError("not an object")
        roles = {int(k): str(v) for k, v in given.items()}
    except (ValueError, TypeError):
        raise Problem(422, "invalid-channel-roles",
                      'channel_roles must be a JSON object from channel number to role, '
                      'e.g. {"0": "judge", "1": "plaintiff"}.') from None
    bad = [r for r in roles.values() if r not in ROLES]
    if bad or any(c < 0 for c in roles):
        raise Problem(422, "invalid-channel-roles",
                      f"channel_roles: unknown role {bad[0] if bad else ''!r} or negative "
                      f"channel; roles are {', '.join(sorted(ROLES))}.")
    return roles


def parse_hot_words(raw: str | None) -> list[str]:
    if not raw:
        return []
    words = [w.strip() for w in re.split("[,\n;\uff0c]", raw) if w.strip()]
    if len(words) > 200 or any(len(w) > 64 for w in words):
        raise Problem(422, "invalid-hot-words",
                      "hot_words: at most 200 terms of at most 64 characters each.")
    return words
