"""Live recognition: PCM arrives in chunks; each utterance is decoded when a pause ends it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import soxr

from .audio import speech_regions
from .engine import SpeechEngine, Word
from .errors import InputRejected
from .transcript import Segment, segment

SPEECH_DB = 45.0  # frame energy (dB over int16 units) that counts as speech, about -45 dBFS
PAUSE = 0.5  # seconds of quiet that end an utterance
MAX_UTTERANCE = 20.0  # seconds: longer speech is decoded anyway


@dataclass
class StreamSession:
    engine: SpeechEngine
    rate: int
    role: str
    channel: int = 0
    hot_words: tuple[str, ...] = ()
    max_seconds: float = 3600.0
    received: float = 0.0  # seconds of audio received
    _pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<i2"))
    _offset: float = 0.0  # time of the first pending sample
    words: list[Word] = field(default_factory=list)
    busy: float = 0.0  # seconds spent decoding

    def __post_init__(self) -> None:
        self._resampler = (soxr.ResampleStream(self.rate, self.engine.sample_rate, 1,
                                               dtype="int16")
                           if self.rate != self.engine.sample_rate else None)

    def _energy(self, pcm: np.ndarray) -> np.ndarray:
        frame = self.engine.sample_rate // 50
        n = len(pcm) // frame
        if n == 0:
            return np.zeros(0)
        f = pcm[: n * frame].astype(np.float32).reshape(n, frame)
        return 10 * np.log10(np.mean(f**2, axis=1) + 1.0)

    def feed(self, chunk: bytes) -> list[Segment]:
        """Add raw 16-bit little-endian mono PCM; returns segments that are now complete."""
        if len(chunk) % 2:
            raise InputRejected("wrong-sample-format",
                                "Audio chunks must be 16-bit little-endian mono PCM (an even "
                                f"number of bytes); got {len(chunk)} bytes.")
        samples = np.frombuffer(chunk, dtype="<i2")
        self.received += len(samples) / self.rate
        if self.received > self.max_seconds:
            raise InputRejected("audio-too-long",
                                f"The stream passed {self.max_seconds:.0f} s; start a new one.",
                                status=413)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        self._pending = np.concatenate([self._pending, samples.astype("<i2")])
        return self._maybe_decode(final=False)

    def finish(self) -> list[Segment]:
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros(0, dtype="<i2"), last=True)
            self._pending = np.concatenate([self._pending, tail.astype("<i2")])
        return self._maybe_decode(final=True)

    def _maybe_decode(self, final: bool) -> list[Segment]:
        rate = self.engine.sample_rate
        energy = self._energy(self._pending)
        if len(energy) == 0:
            return []
        speech = energy > SPEECH_DB
        pause_frames = int(PAUSE * 50)
        long_enough = len(self._pending) / rate > MAX_UTTERANCE
        ended = speech.any() and len(speech) > pause_frames and not speech[-pause_frames:].any()
        if not (final or ended or long_enough):
            if not speech.any() and len(speech) > 5 * 50:  # drop long silence
                self._offset += len(self._pending) / rate
                self._pending = self._pending[:0]
            return []
        pcm, self._pending = self._pending, self._pending[:0]
        offset, self._offset = self._offset, self._offset + len(pcm) / rate
        if not speech.any():
            return []
        words: list[Word] = []
        began = time.perf_counter()
        for start, end in speech_regions(pcm, rate):  # the same trimming as uploads get
            words.extend(self.engine.transcribe(pcm[start:end], offset=offset + start / rate,
                                                hot_words=self.hot_words))
        self.busy += time.perf_counter() - began
        self.words.extend(words)
        return segment(words, channel=self.channel, role=self.role)
