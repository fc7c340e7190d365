"""Errors as RFC 9457 problem details, each with a stable ``code``."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error a client is told about: HTTP status, stable code, and what to do."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(f"{code}: {detail}")
        self.status, self.code, self.title, self.detail, self.extra = (
            status,
            code,
            title,
            detail,
            extra,
        )

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



class BodyTimeout(Problem):
    """The client announced a body and stopped sending it (raised from the body's receive,
    so an endpoint that streams its body answers it like any other problem)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, "request.timeout", "Request timeout",
                         f"the body stopped arriving for {seconds:g} s before its announced"
                         " end; send it whole")

def not_found(code: str, detail: str) -> Problem:
    return Problem(404, code, "Not found", detail)


def bad_request(code: str, detail: str, **extra: Any) -> Problem:
    return Problem(422, code, "Invalid request", detail, **extra)


def conflict(code: str, detail: str, **extra: Any) -> Problem:
    return Problem(409, code, "Conflict", detail, **extra)
