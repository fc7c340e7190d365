"""Shared request helpers: the service object and bounded upload reading."""

# ruff: noqa: RUF001 - Chinese full-width punctuation is meant
from __future__ import annotations

import re

from fastapi import Request, UploadFile

from ..domain.errors import InputRejected
from ..service import OcrService
from .problems import Problem

_NAME = re.compile(r"^[\w.\-()（）\u4e00-\u9fff]{1,128}$")


def service(request: Request) -> OcrService:
    return request.app.state.service


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """Read at most `limit` bytes; one byte more means the file is too large."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InputRejected("file-too-large",
                            f"The file is larger than {limit} bytes. Split it into parts.",
                            status=413)
    return data


def check_case_id(case_id: str | None) -> str | None:
    if case_id is None or case_id == "":
        return None
    if not _NAME.match(case_id):
        raise Problem(422, "invalid-case-id",
                      "case_id: use 1-128 letters, digits, Chinese characters, '.', '-', "
                      "'_' or brackets, e.g. (2019)京0491民初12345号 or 2019-0491-12345.")
    return case_id


def document_name(given: str | None, upload: UploadFile) -> str:
    name = (given or upload.filename or "document").strip()
    return name[:200] or "document"
