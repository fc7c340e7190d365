"""Structured JSON logs and the Prometheus metrics of one app instance."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
    for name in ("chain", "uvicorn", "uvicorn.error"):
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
            "chain_http_requests", "HTTP requests served", ["method", "route", "status"], registry=r
        )
        self.http_latency = Histogram(
            "chain_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.appends = Counter(
            "chain_appends", "evidence entries integrated", ["digest_alg"], registry=r
        )
        self.batch_size = Histogram(
            "chain_batch_size",
            "entries per integrated batch",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.integration_seconds = Histogram(
            "chain_integration_seconds",
            "time to integrate and commit one batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.inclusion_seconds = Histogram(
            "chain_append_to_inclusion_seconds",
            "time from an append being queued to its commit",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge("chain_queue_depth", "appends waiting for integration", registry=r)
        self.tree_size = Gauge(
            "chain_tree_size", "leaves in the latest signed tree head", registry=r
        )
        self.nodes_loaded_at_start = Gauge(
            "chain_tree_nodes_loaded_at_start",
            "tree node rows read to resume the tree at start (no recomputation)",
            registry=r,
        )
        self.integration_failures = Counter(
            "chain_integration_failures", "batches that failed to commit", registry=r
        )
        self.integrity_failures = Counter(
            "chain_integrity_failures",
            "verifications that found stored data altered",
            ["reason"],
            registry=r,
        )
        self.cosignatures = Counter(
            "chain_cosignatures_received",
            "cosignatures of our heads received",
            ["witness"],
            registry=r,
        )
        self.cosign_errors = Counter(
            "chain_cosign_errors",
            "failed requests for cosignatures",
            ["witness", "code"],
            registry=r,
        )
        self.witness_cosigned = Counter(
            "chain_witness_cosigned",
            "heads of other logs this node cosigned",
            ["origin"],
            registry=r,
        )
        self.witness_alarms = Counter(
            "chain_witness_alarms",
            "equivocation alarms raised as a witness (two heads for one size, or a fork)",
            ["origin", "kind"],
            registry=r,
        )
