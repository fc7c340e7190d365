"""Liveness, readiness (database at the newest migration, bucket, and the chain unless the
database is a read-only copy) and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from litigation.blobs import StorageUnavailable
from litigation.chain_client import ChainUnavailable
from litigation.problems import Problem
from litigation.service import Services
from litigation.store.db import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _check(svc: Services) -> dict[str, Any]:
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(svc.engine)
    except Exception as exc:
        raise Problem(
            503,
            "health.database_unavailable",
            "Service unavailable",
            f"the database does not answer: {type(exc).__name__}",
        ) from None
    if revision != head_revision():
        raise Problem(
            503,
            "health.schema_outdated",
            "Service unavailable",
            f"the schema is at {revision}, the code needs {head_revision()}",
        )
    try:
        svc.blobs.ready()
    except StorageUnavailable as exc:
        raise Problem(503, "health.storage_unavailable", "Service unavailable", str(exc)) from None
    if svc.read_only:
        # A standby site's copy serves reads; registering evidence on the chain waits for
        # the switch (the standby's chain node is a warm standby on the same copy).
        return {"status": "ready", "schema": revision, "mode": "read-only"}
    try:
        svc.chain.ready()
    except ChainUnavailable as exc:
        raise Problem(503, "health.chain_unavailable", "Service unavailable", str(exc)) from None
    return {"status": "ready", "schema": revision, "mode": "read-write"}


@router.get(
    "/readyz",
    summary="The database (at the newest schema), the bucket and the chain service answer",
    responses={503: {"description": "not ready", "content": {"application/problem+json": {}}}},
)
async def readyz(request: Request) -> dict[str, Any]:
    svc = request.app.state.services
    if svc is None:
        raise Problem(503, "health.starting", "Service unavailable", "the service is starting")
    return await run_in_threadpool(_check, svc)


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
