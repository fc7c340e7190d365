"""JSON logs, Prometheus metrics and the request middleware that feeds both."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_courtcloud", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._courtcloud = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter())
    root.setLevel(level.upper())


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("asr_http_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("asr_http_request_duration_seconds", "HTTP request time",
                                 ["route"], registry=r,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120))
        self.audio_seconds = Counter("asr_audio_seconds_total", "Seconds of audio recognised",
                                     ["mode"], registry=r)
        self.characters = Counter("asr_characters_total", "Characters of text produced",
                                  ["mode"], registry=r)
        self.rtf = Histogram("asr_real_time_factor", "Processing time over audio time",
                             registry=r, buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2))
        self.rejected = Counter("asr_uploads_rejected_total", "Uploads refused, by code",
                                ["code"], registry=r)
        self.streams = Gauge("asr_streams_open", "Open streaming sessions", registry=r)
        self.ready = Gauge("asr_ready", "1 when the engine is loaded", registry=r)


def install_middleware(app: FastAPI, metrics: Metrics) -> None:
    log = logging.getLogger("asr.access")

    @app.middleware("http")
    async def _observe(request: Request, call_next):  # type: ignore[no-untyped-def]
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        start = time.perf_counter()
        response: Response = await call_next(request)
        elapsed = time.perf_counter() - start
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(elapsed)
        response.headers["x-request-id"] = request_id
        if path not in ("/healthz", "/metrics"):
            log.info("request", extra={
                "request_id": request_id, "method": request.method, "path": request.url.path,
                "status": response.status_code, "duration_ms": round(elapsed * 1000, 1),
            })
        return response
