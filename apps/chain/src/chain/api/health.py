"""Liveness, readiness (the database answers, the integrator runs) and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chain.problems import Problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers and the integrator runs",
    responses={503: {"description": "not ready", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> dict[str, Any]:
    state = request.app.state
    svc = getattr(state, "service", None)
    if svc is None:
        raise Problem(503, "health.starting", "Service unavailable", "the service is starting")
    try:
        async with asyncio.timeout(2):
            async with svc.pool.connection() as conn:
                await conn.execute("SELECT 1")
    except (TimeoutError, Exception) as exc:
        raise Problem(
            503,
            "health.database_unavailable",
            "Service unavailable",
            f"the database does not answer: {type(exc).__name__}",
        ) from None
    if not svc.integrator.running:
        raise Problem(
            503, "health.integrator_stopped", "Service unavailable", "the integrator is not running"
        )
    return {"status": "ready", "tree_size": svc.integrator.tree.size}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
