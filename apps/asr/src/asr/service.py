"""The running service's parts: settings, engine, limits. No web types here."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .domain import audio
from .domain.engine import SpeechEngine, load_engine
from .domain.errors import InputRejected
from .domain.recognise import transcribe
from .domain.transcript import Transcript
from .settings import Settings

log = logging.getLogger("asr")


class AsrService:
    def __init__(self, settings: Settings, metrics: Any = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.engine: SpeechEngine | None = None
        self.ready = threading.Event()
        self.load_error: str | None = None
        self.limits = audio.AudioLimits(max_bytes=settings.max_upload_bytes,
                                        max_seconds=settings.max_seconds)
        self._slots = threading.BoundedSemaphore(settings.max_concurrent)

    def load(self) -> None:
        try:
            self.engine = load_engine(self.settings.engine, self.settings.model_dir,
                                      self.settings.language_model or None)
            self.ready.set()
            if self.metrics:
                self.metrics.ready.set(1)
            log.info("engine loaded", extra={"model": self.engine.describe()})
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("engine load failed")

    def require_engine(self) -> SpeechEngine:
        if self.engine is None:
            raise InputRejected("not-ready", self.load_error or
                                "The speech engine is still loading; retry shortly.",
                                status=503)
        return self.engine

    def transcribe_upload(self, data: bytes, channel_roles: dict[int, str],
                          hot_words: list[str]) -> Transcript:
        engine = self.require_engine()
        recording = audio.load(data, self.limits, engine.sample_rate)
        unknown = [c for c in channel_roles if c >= len(recording.channels)]
        if unknown:
            raise InputRejected(
                "channel-out-of-range",
                f"channel_roles names channel {unknown[0]}, but the recording has "
                f"{len(recording.channels)} channel(s), numbered from 0.")
        if not self._slots.acquire(timeout=120):
            raise InputRejected("busy", "All recognisers are busy; retry later.", status=503)
        try:
            start = time.perf_counter()
            result = transcribe(engine, recording, channel_roles=channel_roles,
                                hot_words=[*self.settings.hot_words, *hot_words])
            self.observe("upload", recording.seconds, time.perf_counter() - start,
                         len(result.text))
        finally:
            self._slots.release()
        return result

    def observe(self, mode: str, audio_seconds: float, seconds: float, chars: int) -> None:
        if not self.metrics:
            return
        self.metrics.audio_seconds.labels(mode=mode).inc(audio_seconds)
        self.metrics.characters.labels(mode=mode).inc(chars)
        if audio_seconds > 0:
            self.metrics.rtf.observe(seconds / audio_seconds)
