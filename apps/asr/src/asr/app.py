"""The application factory: wiring only."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import __version__
from .api import health, problems, stream, transcriptions
from .api.observability import Metrics, configure_logging, install_middleware
from .service import AsrService
from .settings import Settings


def create_app(settings: Settings | None = None, *, load_in_background: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    metrics = Metrics()
    service = AsrService(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if load_in_background:
            threading.Thread(target=service.load, name="asr-load", daemon=True).start()
        else:
            service.load()
        yield

    app = FastAPI(
        title="courtcloud ASR",
        version=__version__,
        description="Trial speech to text with word timestamps, confidences, speaker roles, "
        "hot words and a trial record; uploads (WAV, FLAC, OGG) and live WebSocket "
        "streaming at /v1/stream. Errors are RFC 9457 problem details.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.service = service
    problems.install(app)
    install_middleware(app, metrics)
    for module in (health, transcriptions, stream):
        app.include_router(module.router)
    return app


def main() -> None:
    """`asr-serve`: run the service with uvicorn on ASR_HOST:ASR_PORT (127.0.0.1:8081)."""
    import uvicorn

    uvicorn.run(create_app(), host=os.environ.get("ASR_HOST", "127.0.0.1"),
                port=int(os.environ.get("ASR_PORT", "8081")), log_config=None,
                access_log=False)
