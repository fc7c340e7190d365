"""The running service's parts: settings, pipeline, index, jobs. No web types here."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .domain import documents
from .domain.errors import InputRejected
from .domain.pipeline import OcrPipeline, PipelineConfig
from .domain.results import PageResult
from .settings import Settings
from .store.index import CaseIndex

log = logging.getLogger("ocr")


@dataclass
class Job:
    id: str
    document: str
    case_id: str | None
    state: str = "queued"  # queued, running, succeeded, failed
    created: float = field(default_factory=time.time)
    finished: float | None = None
    pages_total: int = 0
    pages_done: int = 0
    pages: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "document": self.document, "case_id": self.case_id,
            "state": self.state, "pages_total": self.pages_total, "pages_done": self.pages_done,
            "created": self.created, "finished": self.finished, "error": self.error,
        }


class OcrService:
    def __init__(self, settings: Settings, metrics: Any = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.limits = documents.Limits(
            max_bytes=settings.max_upload_bytes, max_pages=settings.max_pages,
            max_pixels=settings.max_pixels, pdf_dpi=settings.pdf_dpi,
        )
        self.index = CaseIndex(settings.index_path)
        self.pipeline: OcrPipeline | None = None
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=settings.job_workers,
                                            thread_name_prefix="ocr-job")

    # -- start and stop -------------------------------------------------------------
    def load(self) -> None:
        """Load and warm the models; readiness turns on when this is done."""
        try:
            pipeline = OcrPipeline(PipelineConfig(
                threads=self.settings.threads, low_confidence=self.settings.low_confidence))
            pipeline.warm_up()
            self.pipeline = pipeline
            self.ready.set()
            if self.metrics:
                self.metrics.ready.set(1)
            log.info("models loaded", extra={"models": pipeline.models})
        except Exception as exc:  # readiness reports it; liveness stays up
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("model load failed")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def require_pipeline(self) -> OcrPipeline:
        if self.pipeline is None:
            raise InputRejected(
                "not-ready", "The OCR models are still loading; retry in a few seconds.",
                status=503)
        return self.pipeline

    # -- recognition ----------------------------------------------------------------
    def _observe(self, result: PageResult, mode: str, seconds: float) -> None:
        if not self.metrics:
            return
        self.metrics.pages.labels(mode=mode).inc()
        self.metrics.page_seconds.observe(seconds)
        self.metrics.lines.inc(len(result.lines))
        self.metrics.low_confidence.inc(sum(x.low_confidence for x in result.lines))

    def recognise_now(self, data: bytes, document: str, case_id: str | None
                      ) -> list[PageResult]:
        """The synchronous path: short documents only."""
        pipeline = self.require_pipeline()
        self._check_size(data)
        n = documents.count_pages(data, self.limits)
        if n > self.settings.sync_max_pages:
            raise InputRejected(
                "too-many-pages-for-sync",
                f"The document has {n} pages; this endpoint takes at most "
                f"{self.settings.sync_max_pages}. Submit it to POST /v1/jobs instead.",
                status=413)
        results = []
        for number, image in enumerate(documents.iter_pages(data, self.limits), 1):
            start = time.perf_counter()
            result = pipeline.recognise(image, page=number)
            self._observe(result, "sync", time.perf_counter() - start)
            results.append(result)
        if case_id:
            self.index.add_document(case_id, document, [(r.page, r.text) for r in results])
        return results

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.limits.max_bytes:
            raise InputRejected("file-too-large",
                                f"The file has {len(data)} bytes; the limit is "
                                f"{self.limits.max_bytes}. Split it into parts.", status=413)

    # -- jobs -----------------------------------------------------------------------
    def submit(self, data: bytes, document: str, case_id: str | None) -> Job:
        self.require_pipeline()
        # check what can be checked now, so a bad file is refused at once, not in a job
        self._check_size(data)
        pages = documents.count_pages(data, self.limits)
        if pages > self.limits.max_pages:
            raise InputRejected("too-many-pages",
                                f"The document has {pages} pages; the limit is "
                                f"{self.limits.max_pages}. Split it.", status=413)
        with self._jobs_lock:
            active = sum(j.state in ("queued", "running") for j in self.jobs.values())
            if active >= self.settings.max_queued_jobs:
                raise InputRejected(
                    "queue-full", f"{active} jobs are waiting or running; retry later.",
                    status=503)
            job = Job(id=uuid.uuid4().hex, document=document, case_id=case_id,
                      pages_total=pages)
            self.jobs[job.id] = job
            self._prune()
        self._executor.submit(self._run, job, data)
        self._count_jobs()
        return job

    def _prune(self, keep: int = 1000) -> None:
        done = [j for j in self.jobs.values() if j.state in ("succeeded", "failed")]
        for job in sorted(done, key=lambda j: j.created)[: max(0, len(self.jobs) - keep)]:
            del self.jobs[job.id]

    def _count_jobs(self) -> None:
        if not self.metrics:
            return
        with self._jobs_lock:
            for state in ("queued", "running", "succeeded", "failed"):
                self.metrics.jobs.labels(state=state).set(
                    sum(j.state == state for j in self.jobs.values()))

    def _run(self, job: Job, data: bytes) -> None:
        job.state = "running"
        self._count_jobs()
        pipeline = self.require_pipeline()
        try:
            for number, image in enumerate(documents.iter_pages(data, self.limits), 1):
                start = time.perf_counter()
                result = pipeline.recognise(image, page=number)
                self._observe(result, "job", time.perf_counter() - start)
                job.pages.append(result.to_dict())
                job.pages_done = number
            if job.case_id:
                self.index.add_document(job.case_id, job.document,
                                        [(p["page"], p["text"]) for p in job.pages])
            job.state = "succeeded"
        except InputRejected as exc:
            job.state, job.error = "failed", {"code": exc.code, "detail": exc.detail}
        except Exception as exc:
            log.exception("job failed", extra={"job": job.id})
            job.state = "failed"
            job.error = {"code": "internal-error", "detail": f"{type(exc).__name__}: {exc}"}
        finally:
            job.finished = time.time()
            self._count_jobs()
            log.info("job finished", extra={"job": job.id, "state": job.state,
                                            "pages": job.pages_done})
