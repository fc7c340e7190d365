"""Errors a caller can fix, each with a stable code that the API turns into problem details."""

from __future__ import annotations


class InputRejected(Exception):
    status = 422

    def __init__(self, code: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        if status is not None:
            self.status = status
