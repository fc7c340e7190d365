"""Attachments and evidence: files to object storage, evidence digests to the chain."""

from __future__ import annotations

import hashlib
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from litigation.api.deps import Caller, Svc, audit, party_side_case, problems, visible_case
from litigation.api.schemas import EvidenceCheck, FileOut
from litigation.blobs import StorageUnavailable
from litigation.chain_client import ChainUnavailable
from litigation.domain.roles import Actor
from litigation.domain.uploads import (
    ACCEPTED_TYPES,
    BadUpload,
    DigestingBuffer,
    check_content,
    check_filename,
)
from litigation.problems import Problem, conflict, invalid, not_found
from litigation.service import Services
from litigation.store.models import StoredFile

log = logging.getLogger("litigation.files")
router = APIRouter(tags=["evidence"])
CaseId = Annotated[uuid.UUID, Path(description="the case's id")]
STORAGE_NUMBER = r"^[A-Z0-9]{1,12}-[0-9A-F]{20}$"
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ACCEPTED_TYPES},
    }
}
Title = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Filename = Annotated[
    str,
    Query(
        min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f/\\]*$", description="original name"
    ),
]


def file_dict(f: StoredFile) -> dict[str, Any]:
    return {
        k: getattr(f, k)
        for k in [
            "id",
            "case_id",
            "purpose",
            "title",
            "filename",
            "content_type",
            "size_bytes",
            "sm3",
            "storage_number",
            "chain_leaf_index",
            "chain_integrated_time",
            "uploaded_by",
            "uploaded_at",
        ]
    }


async def read_upload(request: Request, limit: int) -> tuple[str, DigestingBuffer]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    buf = DigestingBuffer(limit)
    try:
        async for chunk in request.stream():
            buf.add(chunk)
        if buf.size == 0:
            raise BadUpload("upload.empty", "the body is empty: send the file's bytes")
        check_content(ctype, buf.parts[0][:64] if len(buf.parts[0]) >= 64 else buf.data()[:64])
    except BadUpload as exc:
        status = 413 if exc.code == "request.too_large" else 422
        raise Problem(status, exc.code, "Invalid upload", exc.detail) from None
    return ctype, buf


def _store(
    svc: Services,
    actor: Actor,
    case_id: uuid.UUID,
    purpose: str,
    title: str,
    filename: str,
    ctype: str,
    buf: DigestingBuffer,
) -> dict[str, Any]:
    """Object first, then the chain (evidence), then the row; undo the object on failure."""
    try:
        filename = check_filename(filename)
    except BadUpload as exc:
        raise invalid(exc.code, exc.detail) from None
    sm3 = buf.sm3.hexdigest()
    file_id = uuid.uuid4()
    stored: str | None = None
    try:
        with svc.sessions.begin() as s:
            case, _ = party_side_case(
                s, actor, case_id, doing=f"uploading {purpose}", for_update=True
            )
            if case.status == "rejected":
                raise conflict(
                    "case.rejected", "the filing was rejected; nothing more can be added"
                )
            key = f"cases/{case.id}/{purpose}/{file_id}"
            try:
                svc.blobs.put(key, buf.data(), ctype, sm3)
            except StorageUnavailable as exc:
                raise Problem(503, "storage.unavailable", "Service unavailable", str(exc)) from None
            stored = key
            reg = None
            if purpose == "evidence":
                try:
                    reg = svc.chain.register(
                        sm3,
                        submitter=f"litigation:{actor.subject}"[:200],
                        metadata={
                            "case_id": str(case.id),
                            "file_id": str(file_id),
                            "case_ref": case.case_number or case.filing_number,
                            "content_type": ctype,
                            "size": str(buf.size),
                        },
                    )
                except ChainUnavailable as exc:
                    raise Problem(
                        503,
                        "evidence.chain_unavailable",
                        "Service unavailable",
                        f"{exc}; the evidence was not stored, try again",
                    ) from None
            row = StoredFile(
                id=file_id,
                case_id=case.id,
                purpose=purpose,
                title=title,
                filename=filename,
                content_type=ctype,
                size_bytes=buf.size,
                sm3=sm3,
                object_key=key,
                storage_number=reg.storage_number if reg else None,
                chain_leaf_index=reg.leaf_index if reg else None,
                chain_integrated_time=reg.integrated_time if reg else None,
                uploaded_by=actor.subject,
            )
            s.add(row)
            s.flush()
            audit(
                s,
                actor,
                f"{purpose}.uploaded",
                case.id,
                "file",
                file_id,
                title=title,
                filename=filename,
                sm3=sm3,
                size_bytes=buf.size,
                storage_number=row.storage_number,
            )
            s.flush()
            s.refresh(row)
            doc = file_dict(row)
    except BaseException:
        if stored is not None:
            _undo(svc, stored)
        raise
    svc.metrics.uploads.labels(purpose).inc()
    svc.metrics.upload_bytes.inc(buf.size)
    return doc


def _may_upload(svc: Services, actor: Actor, case_id: uuid.UUID, purpose: str) -> None:
    with svc.sessions() as s:
        case, _ = party_side_case(s, actor, case_id, doing=f"uploading {purpose}")
        if case.status == "rejected":
            raise conflict("case.rejected", "the filing was rejected; nothing more can be added")


def _undo(svc: Services, key: str) -> None:
    try:
        svc.blobs.delete(key)
    except StorageUnavailable:
        log.error("could not remove an orphaned object", extra={"object_key": key})


async def _upload(
    svc: Services,
    actor: Actor,
    request: Request,
    case_id: uuid.UUID,
    purpose: str,
    title: str,
    filename: str,
) -> Response:
    # Refuse callers who may not add to the case before reading a byte of the body.
    await run_in_threadpool(_may_upload, svc, actor, case_id, purpose)
    ctype, buf = await read_upload(request, svc.settings.max_upload_bytes)
    doc = await run_in_threadpool(_store, svc, actor, case_id, purpose, title, filename, ctype, buf)
    out = FileOut.model_validate(doc)
    return Response(
        out.model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/v1/files/{doc['id']}"},
    )


@router.post(
    "/v1/cases/{case_id}/evidence",
    status_code=201,
    response_model=FileOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422, 503),
    openapi_extra=UPLOAD_BODY,
    summary="Upload a piece of evidence (raw body); its SM3 digest is registered on the chain",
)
async def upload_evidence(
    svc: Svc, actor: Caller, request: Request, case_id: CaseId, title: Title, filename: Filename
) -> Response:
    return await _upload(svc, actor, request, case_id, "evidence", title, filename)


@router.post(
    "/v1/cases/{case_id}/attachments",
    status_code=201,
    response_model=FileOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422, 503),
    openapi_extra=UPLOAD_BODY,
    summary="Upload an attachment to the filing (raw body): identity papers, the complaint",
)
async def upload_attachment(
    svc: Svc, actor: Caller, request: Request, case_id: CaseId, title: Title, filename: Filename
) -> Response:
    return await _upload(svc, actor, request, case_id, "attachment", title, filename)


@router.get(
    "/v1/cases/{case_id}/files",
    response_model=list[FileOut],
    responses=problems(401, 404, 422),
    summary="Attachments and evidence of a case",
)
def list_files(svc: Svc, actor: Caller, case_id: CaseId) -> list[dict[str, Any]]:
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        rows = s.scalars(
            select(StoredFile).where(StoredFile.case_id == case.id).order_by(StoredFile.uploaded_at)
        )
        return [file_dict(f) for f in rows]


def _file(svc: Services, actor: Actor, file_id: uuid.UUID) -> StoredFile:
    with svc.sessions() as s:
        f = s.get(StoredFile, file_id)
        if f is None:
            raise not_found("file.not_found", f"there is no file {file_id} that you can see")
        try:
            visible_case(s, actor, f.case_id)
        except Problem:
            raise not_found(
                "file.not_found", f"there is no file {file_id} that you can see"
            ) from None
        return f


@router.get(
    "/v1/files/{file_id}",
    response_model=FileOut,
    responses=problems(401, 404, 422),
    summary="A file's record",
)
def get_file(svc: Svc, actor: Caller, file_id: uuid.UUID) -> dict[str, Any]:
    return file_dict(_file(svc, actor, file_id))


@router.get(
    "/v1/files/{file_id}/content",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        **problems(401, 404, 409, 422, 503),
    },
    summary="The file's bytes, as filed (refused if they were changed in storage)",
)
def file_content(svc: Svc, actor: Caller, file_id: uuid.UUID) -> Response:
    f = _file(svc, actor, file_id)
    try:
        data = svc.blobs.get(f.object_key)
    except StorageUnavailable as exc:
        raise Problem(503, "storage.unavailable", "Service unavailable", str(exc)) from None
    served = hashlib.new("sm3", data).hexdigest()
    if served != f.sm3:
        # Never serve changed bytes as the file that was filed.
        raise Problem(
            409,
            "file.altered_in_storage",
            "Conflict",
            f"the stored bytes' SM3 {served} differs from the SM3 {f.sm3} recorded at upload:"
            " the object was changed in storage, so it is not served; restore it"
            + (f" (its chain record: POST /v1/evidence/{f.storage_number}/verification)"
               if f.storage_number else ""),
        )
    return Response(
        data,
        media_type=f.content_type,
        headers={
            "X-Content-SM3": served,
            "Content-Disposition": "attachment",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _by_storage_number(svc: Services, actor: Actor, sn: str) -> StoredFile:
    with svc.sessions() as s:
        f = s.scalar(select(StoredFile).where(StoredFile.storage_number == sn))
        if f is None:
            raise not_found(
                "evidence.not_found", f"no evidence with storage number {sn} that you can see"
            )
        try:
            visible_case(s, actor, f.case_id)
        except Problem:
            raise not_found(
                "evidence.not_found", f"no evidence with storage number {sn} that you can see"
            ) from None
        return f


SN = Annotated[str, Path(min_length=1, max_length=64, pattern=STORAGE_NUMBER)]


@router.get(
    "/v1/evidence/{storage_number}",
    response_model=FileOut,
    responses=problems(401, 404, 422),
    summary="The evidence registered under a storage number",
)
def get_evidence(svc: Svc, actor: Caller, storage_number: SN) -> dict[str, Any]:
    return file_dict(_by_storage_number(svc, actor, storage_number))


@router.post(
    "/v1/evidence/{storage_number}/verification",
    response_model=EvidenceCheck,
    responses=problems(401, 404, 422, 503),
    summary="Re-read the stored file, recompute its SM3 and verify it against the chain",
)
def verify_evidence(svc: Svc, actor: Caller, storage_number: SN) -> dict[str, Any]:
    f = _by_storage_number(svc, actor, storage_number)
    try:
        data = svc.blobs.get(f.object_key)
        recomputed = hashlib.new("sm3", data).hexdigest()
        result = svc.chain.verify(storage_number, recomputed)
    except StorageUnavailable as exc:
        raise Problem(503, "storage.unavailable", "Service unavailable", str(exc)) from None
    except ChainUnavailable as exc:
        raise Problem(503, "evidence.chain_unavailable", "Service unavailable", str(exc)) from None
    chain_ok = bool(result.get("verified")) and result.get("digest_matches") is not False
    return {
        "storage_number": storage_number,
        "file_id": f.id,
        "stored_sm3": f.sm3,
        "recomputed_sm3": recomputed,
        "file_intact": recomputed == f.sm3,
        "chain_verified": chain_ok,
        "integrated_time": result.get("integrated_time"),
        "failure": None if chain_ok else _failure(result, f.sm3, recomputed),
    }


def _failure(result: dict[str, Any], recorded: str, recomputed: str) -> dict[str, str]:
    """What failed, said precisely: an investigator is never told that a file was altered
    when only the chain could not vouch for it."""
    failure = result.get("failure") or {}
    if result.get("digest_matches") is False and failure.get("code") in (None, "digest_mismatch"):
        where = ("the file was changed in storage: its SM3 also differs from the one recorded"
                 " at upload" if recomputed != recorded else
                 "the SM3 recorded at upload differs from the chain's too")
        return {
            "code": "evidence.digest_mismatch",
            "detail": f"the stored file's SM3 {recomputed} differs from the digest registered on"
            f" the chain: {where}",
        }
    code = str(failure.get("code") or "chain.unverified")
    detail = str(failure.get("detail") or "the chain did not verify the entry")
    if code not in ("chain.not_found", "chain.inconsistent"):
        # the chain's entry or proof failed its own check (leaf_altered, a bad proof, ...)
        detail = f"the chain's record of this entry fails its check ({code}): {detail}"
        code = "chain.inconsistent"
    return {"code": code, "detail": detail}
