"""The HTTP and WebSocket service: transcription, roles, streaming, limits, operations."""

from __future__ import annotations

import io
import json

import numpy as np
import soundfile as sf
import soxr
from asr.domain.quality import wer
from asr.synth import Clip, hearing, silent_flac, speak
from fastapi.testclient import TestClient


def _problem(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert body["type"] == f"urn:courtcloud:problem:asr:{code}"


def test_operations(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["model"]["engine"].startswith("pocketsphinx")
    assert client.get("/v1/model").json()["model"]["source"] == "shipped in the pocketsphinx wheel"
    assert "/v1/transcriptions" in client.get("/openapi.json").json()["paths"]


def test_two_channel_hearing_with_roles(client: TestClient, clips: list[Clip]) -> None:
    samples, rate, truth = hearing([clips[0], clips[3], clips[7]], channels=2)
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="FLAC")
    r = client.post("/v1/transcriptions", files={"file": ("h.flac", buf.getvalue(), "x")},
                    data={"channel_roles": json.dumps({"0": "judge", "1": "plaintiff"}),
                          "case_id": "2019-0491-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    segs = body["segments"]
    assert [s["role"] for s in segs] == ["judge", "plaintiff", "judge"]
    for seg, (channel, start, text) in zip(segs, truth, strict=True):
        assert seg["channel"] == channel
        assert abs(seg["start"] - start) < 0.8
        assert wer(text, seg["text"]) <= 0.2
    assert "审判员 Judge" in body["record"] and "原告 Plaintiff" in body["record"]
    assert body["characters"] == len(body["text"].replace("\n", " "))


def test_hot_words_over_http(client: TestClient, clips: list[Clip]) -> None:
    text = "the plaintiff asks the court to order the defendant to pay nine thousand yuan"
    audio, rate = speak(text, "slt")  # slt's "court" is "car" to the generic model
    wav = Clip("court", text, audio, rate, "slt").wav()
    r = client.post("/v1/transcriptions", files={"file": ("c.wav", wav, "x")},
                    data={"hot_words": "court, 张三, Zhangsanfeng"})
    body = r.json()
    assert "court" in body["text"].split()
    assert body["hot_words"] == ["court", "zhangsanfeng"]  # the name is learnt
    assert body["hot_words_unknown"] == ["张三"]


def test_bad_input_gets_clear_4xx_and_worker_stays_up(client: TestClient,
                                                     clips: list[Clip]) -> None:
    def post(data: bytes, **form: str):  # type: ignore[no-untyped-def]
        return client.post("/v1/transcriptions", files={"file": ("a.wav", data, "x")},
                           data=form)

    _problem(post(b""), 422, "empty-file")
    header_only = io.BytesIO()
    sf.write(header_only, np.zeros(0, dtype=np.float32), 16000, format="WAV")
    _problem(post(header_only.getvalue()), 422, "audio-empty")
    _problem(post(b"\x00\x01" * 500), 415, "unsupported-media-type")
    _problem(post(silent_flac(2 * 3600)), 413, "audio-too-long")
    _problem(post(b"RIFF" + b"\0" * 4 + b"WAVE" + b"\0" * 5_000_000), 413, "file-too-large")
    low = io.BytesIO()
    sf.write(low, np.zeros(4000, dtype=np.float32), 4000, format="WAV")
    _problem(post(low.getvalue()), 422, "sample-rate-too-low")
    _problem(post(clips[0].wav(), channel_roles="judge"), 422, "invalid-channel-roles")
    _problem(post(clips[0].wav(), channel_roles='{"0": "king"}'), 422, "invalid-channel-roles")
    _problem(post(clips[0].wav(), channel_roles='{"3": "judge"}'), 422, "channel-out-of-range")
    assert client.get("/healthz").status_code == 200
    r = post(clips[3].wav())
    assert r.status_code == 200 and wer(clips[3].text, r.json()["text"]) <= 0.1
    metrics = client.get("/metrics").text
    assert 'asr_uploads_rejected_total{code="audio-too-long"}' in metrics
    assert "asr_audio_seconds_total" in metrics


def test_streaming(client: TestClient, clips: list[Clip]) -> None:
    rate = 44100
    pause = np.zeros(int(0.8 * rate), dtype=np.float32)
    audio = np.concatenate([soxr.resample(clips[3].audio, clips[3].rate, rate), pause,
                            soxr.resample(clips[0].audio, clips[0].rate, rate), pause])
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    with client.websocket_connect(f"/v1/stream?rate={rate}&role=judge&hot_words=court") as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["hot_words"] == ["court"]
        step = rate // 5 * 2  # 200 ms chunks
        segments = []
        for i in range(0, len(pcm), step):
            ws.send_bytes(pcm[i : i + step])
        ws.send_text("end")
        while True:
            msg = ws.receive_json()
            if msg["type"] == "final":
                break
            assert msg["type"] == "segment"
            segments.append(msg)
    assert len(segments) == 2 and all(s["role"] == "judge" for s in segments)
    assert wer(clips[3].text, segments[0]["text"]) <= 0.15
    assert segments[1]["start"] > segments[0]["end"]
    assert "审判员 Judge" in msg["record"]


def test_streaming_rejects_bad_data(client: TestClient) -> None:
    with client.websocket_connect("/v1/stream?rate=16000") as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_bytes(b"\x00\x01\x02")  # odd length: not 16-bit PCM
        err = ws.receive_json()
        assert err == {"type": "error", "code": "wrong-sample-format", "detail": err["detail"]}
    with client.websocket_connect("/v1/stream?rate=100") as ws:
        assert ws.receive_json()["code"] == "invalid-rate"
    with client.websocket_connect("/v1/stream?role=king") as ws:
        assert ws.receive_json()["code"] == "invalid-role"
    assert client.get("/healthz").status_code == 200
