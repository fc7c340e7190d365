"""Shared bits of the routers: the service from app state, and documented errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from chain.api.schemas import ProblemOut
from chain.service import ChainService


async def service(request: Request) -> ChainService:
    return request.app.state.service  # type: ignore[no-any-return]


Svc = Annotated[ChainService, Depends(service)]


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem-detail responses a route can give."""
    text = {
        404: "not found",
        409: "conflict",
        413: "body too large",
        415: "wrong content type",
        422: "invalid input",
        403: "signature rejected",
        503: "not ready or overloaded",
        500: "integrity failure",
    }
    return {
        s: {
            "model": ProblemOut,
            "description": text.get(s, "problem"),
            "content": {"application/problem+json": {}},
        }
        for s in statuses
    }
