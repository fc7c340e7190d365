"""Recordings in: formats, resampling, limits and bad files."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from asr.domain import audio
from asr.domain.errors import InputRejected
from asr.synth import silent_flac

LIMITS = audio.AudioLimits(max_bytes=10_000_000, max_seconds=1800)


def _tone(rate: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def _encode(x: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,subtype,rate", [
    ("WAV", "PCM_16", 22050), ("WAV", "FLOAT", 44100), ("WAV", "PCM_U8", 8000),
    ("FLAC", "PCM_24", 48000), ("OGG", "VORBIS", 32000),
])
def test_formats_and_rates_become_16k_pcm(fmt: str, subtype: str, rate: int) -> None:
    rec = audio.load(_encode(_tone(rate), rate, fmt, subtype), LIMITS, 16000)
    assert rec.source_format == fmt and rec.source_rate == rate and rec.rate == 16000
    (pcm,) = rec.channels
    assert pcm.dtype == np.dtype("<i2")
    assert len(pcm) == pytest.approx(16000, abs=200)
    assert rec.seconds == pytest.approx(1.0, abs=0.01)


def test_channels_are_kept_apart() -> None:
    rec = audio.load(_encode(_tone(16000, channels=2), 16000, "WAV"), LIMITS, 16000)
    assert len(rec.channels) == 2


@pytest.mark.parametrize("data,code,status", [
    (b"", "empty-file", 422),
    (b"\x01\x02" * 1000, "unsupported-media-type", 415),  # raw PCM has no header
    (b"ID3\x03\x00 an mp3", "unsupported-media-type", 415),
])
def test_bad_files(data: bytes, code: str, status: int) -> None:
    with pytest.raises(InputRejected) as err:
        audio.load(data, LIMITS, 16000)
    assert (err.value.code, err.value.status) == (code, status)


def test_wrong_sample_format_and_rate() -> None:
    wav = bytearray(_encode(_tone(16000), 16000, "WAV"))
    wav[20:22] = (0x55).to_bytes(2, "little")  # format tag: MPEG layer 3 inside WAV
    with pytest.raises(InputRejected) as err:
        audio.load(bytes(wav), LIMITS, 16000)
    assert err.value.code == "audio-unreadable"
    with pytest.raises(InputRejected) as err:
        audio.load(_encode(_tone(4000), 4000, "WAV"), LIMITS, 16000)
    assert err.value.code == "sample-rate-too-low"
    good = _encode(_tone(16000), 16000, "WAV")
    with pytest.raises(InputRejected) as err:
        audio.load(good[:30], LIMITS, 16000)
    assert err.value.code == "audio-unreadable"


def test_two_hour_recording_is_refused_without_decoding() -> None:
    data = silent_flac(2 * 3600)
    assert len(data) < 300_000
    with pytest.raises(InputRejected) as err:
        audio.load(data, LIMITS, 16000)
    assert (err.value.code, err.value.status) == ("audio-too-long", 413)
    assert "7200 s" in err.value.detail


def test_speech_regions_split_at_pauses() -> None:
    rate = 16000
    speech = (0.3 * np.sin(np.arange(rate) / 5)).astype(np.float32)
    gap = np.zeros(rate, dtype=np.float32)
    pcm = audio.to_pcm16(np.concatenate([gap, speech, gap, speech, gap]))
    regions = audio.speech_regions(pcm, rate)
    assert len(regions) == 2
    assert regions[0][0] == pytest.approx(rate, abs=0.2 * rate)
    assert regions[1][1] == pytest.approx(4 * rate, abs=0.2 * rate)
    assert audio.speech_regions(np.zeros(rate, dtype="<i2"), rate) == []
