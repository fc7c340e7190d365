"""Transcription of an uploaded recording, and its trial record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from ..domain.transcript import trial_record
from .deps import parse_hot_words, parse_roles, read_upload, service

router = APIRouter(tags=["transcription"])


@router.post("/v1/transcriptions", summary="Transcribe a recording (WAV, FLAC, OGG)",
             responses={
                 413: {"description": "`file-too-large`, `audio-too-long`"},
                 415: {"description": "`unsupported-media-type`: not WAV, FLAC or Ogg"},
                 422: {"description": "`empty-file` (no bytes), `audio-empty` (a well-formed "
                                      "file whose header announces no samples), "
                                      "`audio-unreadable`, `sample-rate-too-low`, "
                                      "`too-many-channels`, `channel-out-of-range`, "
                                      "`invalid-channel-roles`, `invalid-hot-words`, "
                                      "`invalid-request`"},
                 503: {"description": "`not-ready` (engine loading), `busy`"}})
async def transcribe(
    request: Request,
    file: Annotated[UploadFile, File(description="WAV, FLAC or Ogg recording, any rate")],
    channel_roles: Annotated[str | None, Form(
        description='JSON: channel number to role, e.g. {"0": "judge", "1": "plaintiff"}'
    )] = None,
    hot_words: Annotated[str | None, Form(
        description="comma-separated legal terms and names to favour")] = None,
    case_id: Annotated[str | None, Form(description="printed on the trial record")] = None,
) -> dict[str, object]:
    svc = service(request)
    roles = parse_roles(channel_roles)
    terms = parse_hot_words(hot_words)
    data = await read_upload(file, svc.settings.max_upload_bytes)
    transcript = await run_in_threadpool(svc.transcribe_upload, data, roles, terms)
    return {**transcript.to_dict(), "case_id": case_id,
            "record": trial_record(transcript, case_id=case_id)}
