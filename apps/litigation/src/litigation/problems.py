"""Errors as RFC 9457 problem details, each with a stable ``code``."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error a client is told about: HTTP status, stable code, and what to do."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": f"https://courtcloud.invalid/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc


def not_found(code: str, detail: str) -> Problem:
    return Problem(404, code, "Not found", detail)


def invalid(code: str, detail: str, **extra: Any) -> Problem:
    return Problem(422, code, "Invalid request", detail, **extra)


def conflict(code: str, detail: str, **extra: Any) -> Problem:
    return Problem(409, code, "Conflict", detail, **extra)


def forbidden(code: str, detail: str) -> Problem:
    return Problem(403, code, "Forbidden", detail)


def unauthorized(code: str, detail: str) -> Problem:
    return Problem(401, code, "Unauthorized", detail)
