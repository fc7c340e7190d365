"""Live hearings over a WebSocket.

Connect to `/v1/stream?rate=16000&role=judge&hot_words=plaintiff,defendant`, send binary
messages of 16-bit little-endian mono PCM at `rate`, and receive JSON messages:
`{"type": "ready", "model": ...}` on connect, `{"type": "segment", ...}` after each
pause, and `{"type": "final", "segments": [...], "record": "..."}` after you send the text
message `end`. Errors arrive as `{"type": "error", "code": ..., "detail": ...}` before
the server closes the socket (1003 for wrong data, 1008 for bad parameters, 1009 for
too long a stream).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from ..domain.errors import InputRejected
from ..domain.stream import StreamSession
from ..domain.transcript import ROLES, Transcript, trial_record

router = APIRouter(tags=["streaming"])
log = logging.getLogger("asr.stream")


@router.websocket("/v1/stream")
async def stream(ws: WebSocket, rate: int = 16000, role: str = "unknown",
                 hot_words: str = "", case_id: str | None = None) -> None:
    svc = ws.app.state.service
    await ws.accept()
    engine = svc.engine
    problem = None
    if engine is None:
        problem = ("not-ready", "The speech engine is still loading; reconnect shortly.")
    elif not 8000 <= rate <= 192000:
        problem = ("invalid-rate", f"rate={rate}: give the PCM sample rate, 8000-192000 Hz.")
    elif role not in ROLES:
        problem = ("invalid-role", f"role={role!r}: one of {', '.join(sorted(ROLES))}.")
    if problem is not None or engine is None:
        code, detail = problem or ("not-ready", "")
        await ws.send_json({"type": "error", "code": code, "detail": detail})
        await ws.close(code=1008)
        return
    terms = [w for w in hot_words.split(",") if w.strip()]
    usable, unknown = engine.normalise_hot_words([*svc.settings.hot_words, *terms])
    session = StreamSession(engine=engine, rate=rate, role=role, hot_words=usable,
                            max_seconds=svc.settings.stream_max_seconds)
    await ws.send_json({"type": "ready", "model": engine.describe(),
                        "hot_words": list(usable), "hot_words_unknown": unknown})
    if svc.metrics:
        svc.metrics.streams.inc()
    segments = []
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                new = await run_in_threadpool(session.feed, message["bytes"])
            elif (message.get("text") or "").strip().lower() in ("end", '{"type": "end"}'):
                new = await run_in_threadpool(session.finish)
                segments.extend(new)
                for s in new:
                    await ws.send_json({"type": "segment", **asdict(s)})
                transcript = Transcript(segments=segments, duration=round(session.received, 2),
                                        model=engine.describe(), hot_words=list(usable),
                                        hot_words_unknown=unknown)
                text = transcript.text
                svc.observe("stream", session.received, session.busy, len(text))
                await ws.send_json({"type": "final", **transcript.to_dict(),
                                    "record": trial_record(transcript, case_id=case_id)})
                await ws.close(code=1000)
                return
            else:
                await ws.send_json({"type": "error", "code": "unexpected-message",
                                    "detail": "Send binary PCM chunks, then the text 'end'."})
                continue
            segments.extend(new)
            for s in new:
                await ws.send_json({"type": "segment", **asdict(s)})
    except InputRejected as exc:
        await ws.send_json({"type": "error", "code": exc.code, "detail": exc.detail})
        await ws.close(code=1009 if exc.code == "audio-too-long" else 1003)
    except WebSocketDisconnect:
        return
    finally:
        if svc.metrics:
            svc.metrics.streams.dec()
