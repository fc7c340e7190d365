"""Synchronous recognition of one page (an image, or a one-page PDF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from .deps import check_case_id, document_name, read_upload, service

router = APIRouter(tags=["recognition"])

ERRORS = {
    413: {"description": "File too large, too many pages (use a job) or too many pixels"},
    415: {"description": "Not a PNG, JPEG, TIFF or PDF"},
    422: {"description": "Empty, truncated or undecodable file; bad field"},
    503: {"description": "Models still loading"},
}


@router.post("/v1/recognitions", summary="Recognise one page now", responses=ERRORS)
async def recognise(
    request: Request,
    file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF or PDF of one page")],
    case_id: Annotated[str | None, Form(description="index the page under this case")] = None,
    document: Annotated[str | None, Form(description="name in the case index")] = None,
) -> dict[str, object]:
    svc = service(request)
    case = check_case_id(case_id)
    name = document_name(document, file)
    data = await read_upload(file, svc.settings.max_upload_bytes)
    pages = await run_in_threadpool(svc.recognise_now, data, name, case)
    return {
        "document": name,
        "case_id": case,
        "pages": [p.to_dict() for p in pages],
        "text": "\n\f\n".join(p.text for p in pages),
    }
