"""Liveness, readiness, metrics and the models the service runs."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .deps import service
from .problems import problem_response

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: models loaded and the index reachable",
            response_model=None,
            responses={503: {"description": "Not ready (problem details)"}})
def readyz(request: Request) -> Response | dict[str, object]:
    svc = service(request)
    if not svc.ready.is_set():
        reason = svc.load_error or "the OCR models are still loading"
        return problem_response(request, 503, "not-ready", reason)
    try:
        svc.index.ping()
    except Exception as exc:
        return problem_response(request, 503, "index-unavailable", f"search index: {exc}")
    return {"status": "ready", "models": svc.pipeline.models if svc.pipeline else {}}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/models", summary="The OCR models in use and where they came from")
def models(request: Request) -> dict[str, object]:
    svc = service(request)
    pipeline = svc.require_pipeline()
    return {"models": pipeline.models, "low_confidence_threshold": svc.settings.low_confidence}
