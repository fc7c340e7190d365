"""Uploaded recordings (WAV, FLAC, OGG) to 16-bit mono PCM per channel at the engine's rate.

The duration is read from the header before anything is decoded, so a two-hour file is
refused at once, whatever its size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from .errors import InputRejected

FORMATS = {"WAV", "FLAC", "OGG"}
MIN_RATE = 8000


@dataclass(frozen=True)
class AudioLimits:
    max_bytes: int
    max_seconds: float
    max_channels: int = 8


@dataclass
class Recording:
    channels: list[np.ndarray]  # int16 per channel at `rate`
    rate: int
    seconds: float
    source_rate: int
    source_format: str


def sniff(data: bytes) -> str:
    if not data:
        raise InputRejected("empty-file", "The file is empty (0 bytes); upload the recording.")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "WAV"
    if data[:4] == b"fLaC":
        return "FLAC"
    if data[:4] == b"OggS":
        return "OGG"
    raise InputRejected(
        "unsupported-media-type",
        "The file is not WAV, FLAC or OGG (its first bytes match none of them); "
        "raw PCM must be sent to the streaming endpoint.", status=415)


def load(data: bytes, limits: AudioLimits, rate: int) -> Recording:
    if len(data) > limits.max_bytes:
        raise InputRejected("file-too-large",
                            f"The file has {len(data)} bytes; the limit is {limits.max_bytes}. "
                            "Split the recording or stream it.", status=413)
    kind = sniff(data)
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InputRejected("audio-unreadable",
                            f"The {kind} file cannot be read ({exc}); it may be truncated or "
                            "use a sample format this service does not decode "
                            "(use 16-bit PCM WAV, FLAC or Ogg Vorbis).") from exc
    if info.samplerate < MIN_RATE:
        raise InputRejected("sample-rate-too-low",
                            f"The recording is sampled at {info.samplerate} Hz; speech "
                            f"recognition needs at least {MIN_RATE} Hz.")
    if info.channels > limits.max_channels:
        raise InputRejected("too-many-channels",
                            f"The recording has {info.channels} channels; at most "
                            f"{limits.max_channels} (one per microphone) are taken.")
    seconds = info.frames / info.samplerate if info.frames > 0 else info.duration
    if seconds > limits.max_seconds:
        raise InputRejected("audio-too-long",
                            f"The recording lasts {seconds:.0f} s; the limit is "
                            f"{limits.max_seconds:.0f} s. Split it, or stream the hearing.",
                            status=413)
    try:
        samples, source_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise InputRejected("audio-unreadable",
                            f"The {kind} file cannot be decoded ({exc}); it may be truncated."
                            ) from exc
    if samples.shape[0] == 0:
        raise InputRejected("audio-empty", "The recording holds no samples.")
    channels = []
    for c in range(samples.shape[1]):
        mono = samples[:, c]
        if source_rate != rate:
            mono = soxr.resample(mono, source_rate, rate, quality="HQ")
        channels.append(to_pcm16(mono))
    return Recording(channels=channels, rate=rate, seconds=samples.shape[0] / source_rate,
                     source_rate=source_rate, source_format=kind)


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")


def speech_regions(pcm: np.ndarray, rate: int, *, min_gap: float = 0.45,
                   max_len: float = 20.0, pad: float = 0.15) -> list[tuple[int, int]]:
    """(start, end) sample ranges that hold speech, split at pauses.

    Energy per 20 ms frame against a threshold set between the quiet floor and the loud
    level of this recording; a pause of `min_gap` seconds ends a region, and a region
    longer than `max_len` is cut at its quietest frame.
    """
    frame = rate // 50
    n = len(pcm) // frame
    if n == 0:
        return []
    frames = pcm[: n * frame].astype(np.float32).reshape(n, frame)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1.0)
    floor, loud = np.percentile(energy, 10), np.percentile(energy, 95)
    if loud - floor < 6:  # no contrast: silence, or noise throughout
        return [(0, len(pcm))] if loud > 35 else []
    voiced = energy > floor + 0.3 * (loud - floor)
    regions: list[list[int]] = []
    gap_frames = int(min_gap * 50)
    silent = gap_frames
    for i, v in enumerate(voiced):
        if v:
            if silent >= gap_frames or not regions:
                regions.append([i, i + 1])
            else:
                regions[-1][1] = i + 1
            silent = 0
        else:
            silent += 1
    out: list[tuple[int, int]] = []
    pad_frames = int(pad * 50)
    max_frames = int(max_len * 50)
    for start, end in regions:
        if end - start < 5:  # under 100 ms: a click, not speech
            continue
        while end - start > max_frames:
            window = energy[start + max_frames // 2 : start + max_frames]
            cut = start + max_frames // 2 + int(np.argmin(window))
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return [(max(0, (s - pad_frames) * frame), min(len(pcm), (e + pad_frames) * frame))
            for s, e in out]
