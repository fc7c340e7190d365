"""Structured JSON logs and the Prometheus metrics of one app instance."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for k, v in vars(record).items():
            if k not in _RESERVED and not k.startswith("_"):
                doc[k] = v
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    for name in ("litigation", "uvicorn", "uvicorn.error", "alembic"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests


LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """All metrics of one app instance, in its own registry (tests run several)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "litigation_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "litigation_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.filings = Counter("litigation_filings", "cases filed", registry=r)
        self.decisions = Counter(
            "litigation_decisions", "filings accepted or rejected", ["decision"], registry=r
        )
        self.payments = Counter("litigation_payments", "fee payments recorded", registry=r)
        self.uploads = Counter(
            "litigation_uploads", "files stored in object storage", ["purpose"], registry=r
        )
        self.upload_bytes = Counter(
            "litigation_upload_bytes", "bytes stored in object storage", registry=r
        )
        self.chain_registrations = Counter(
            "litigation_chain_registrations",
            "evidence digests registered with the chain service",
            ["outcome"],
            registry=r,
        )
        self.chain_seconds = Histogram(
            "litigation_chain_request_seconds",
            "latency of requests to the chain service",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.services = Counter(
            "litigation_services", "documents served, by outcome", ["status"], registry=r
        )
        self.documents = Counter(
            "litigation_documents_generated", "documents generated", ["template"], registry=r
        )
        self.hearing_conflicts = Counter(
            "litigation_hearing_conflicts",
            "hearing requests refused for a conflict",
            ["kind"],
            registry=r,
        )
        self.auth_failures = Counter(
            "litigation_auth_failures", "requests refused at authentication", ["reason"], registry=r
        )
