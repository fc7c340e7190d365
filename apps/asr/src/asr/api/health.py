"""Liveness, readiness, metrics and the model the service runs."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .deps import service
from .problems import problem_response

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the speech engine is loaded", response_model=None,
            responses={503: {"description": "Not ready (problem details)"}})
def readyz(request: Request) -> Response | dict[str, object]:
    svc = service(request)
    if svc.engine is None:
        return problem_response(request, 503, "not-ready",
                                svc.load_error or "the speech engine is still loading")
    return {"status": "ready", "model": svc.engine.describe()}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/model", summary="The speech engine and model this service runs")
def model(request: Request) -> dict[str, object]:
    svc = service(request)
    return {"model": svc.require_engine().describe(),
            "limits": {"max_seconds": svc.settings.max_seconds,
                       "max_upload_bytes": svc.settings.max_upload_bytes,
                       "stream_max_seconds": svc.settings.stream_max_seconds}}
