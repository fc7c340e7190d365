"""The application factory: wiring only."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import __version__
from .api import cases, health, jobs, problems, recognitions
from .api.observability import Metrics, configure_logging, install_middleware
from .service import OcrService
from .settings import Settings


def create_app(settings: Settings | None = None, *, load_in_background: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.threads))
    metrics = Metrics()
    service = OcrService(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if load_in_background:
            threading.Thread(target=service.load, name="ocr-load", daemon=True).start()
        else:
            service.load()
        yield
        service.close()

    app = FastAPI(
        title="courtcloud OCR",
        version=__version__,
        description="Case-file pages (PNG, JPEG, TIFF, PDF) to text with boxes, confidences "
        "and reading order; asynchronous jobs for long files; full-text search per case. "
        "Errors are RFC 9457 problem details.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.service = service
    problems.install(app)
    install_middleware(app, metrics)
    for module in (health, recognitions, jobs, cases):
        app.include_router(module.router)
    return app


def main() -> None:
    """`ocr-serve`: run the service with uvicorn on OCR_HOST:OCR_PORT (127.0.0.1:8080)."""
    import uvicorn

    app = create_app()
    uvicorn.run(app, host=os.environ.get("OCR_HOST", "127.0.0.1"),
                port=int(os.environ.get("OCR_PORT", "8080")), log_config=None,
                access_log=False)
