"""Evidence: register a digest, fetch its receipt, verify data or a digest."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from chain.api.deps import Svc, problems
from chain.api.schemas import (
    STORAGE_NUMBER,
    AppendRequest,
    AppendResponse,
    BatchAppendRequest,
    BatchAppendResponse,
    EvidenceBundle,
    QueryQuorum,
    VerifyRequest,
    VerifyResponse,
)
from chain.domain.leaf import Submission
from chain.integrator import IntegrationFailed, Overloaded
from chain.problems import Problem
from chain.service import digests_of

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])
SN = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=STORAGE_NUMBER,
        description="the storage number a registration returned",
    ),
]


def _submission(req: AppendRequest) -> Submission:
    return Submission(req.digest_alg, bytes.fromhex(req.digest), req.submitter, dict(req.metadata))


def _append_problem(exc: Exception) -> Problem:
    if isinstance(exc, Overloaded):
        return Problem(503, "evidence.overloaded", "Service unavailable", str(exc))
    return Problem(
        503,
        "evidence.not_integrated",
        "Service unavailable",
        f"the batch could not be committed, nothing was stored: {exc}; retry",
    )


@router.post(
    "",
    status_code=201,
    response_model=AppendResponse,
    responses=problems(413, 415, 422, 503),
    summary="Register an evidence digest; returns its storage number and inclusion proof",
)
async def register(svc: Svc, body: AppendRequest) -> Response:
    try:
        r = await svc.integrator.append(_submission(body))
    except (Overloaded, IntegrationFailed) as exc:
        raise _append_problem(exc) from None
    doc = {
        "storage_number": r.entry.storage_number,
        "leaf_index": r.entry.leaf_index,
        "integrated_time": r.entry.integrated_time,
        "entry": r.entry.as_dict(),
        "leaf_hash": r.leaf_hash.hex(),
        "inclusion_proof": {
            "leaf_index": r.entry.leaf_index,
            "tree_size": r.head.tree_size,
            "hashes": [h.hex() for h in r.proof],
        },
        "tree_head": r.head.as_dict(),
    }
    # The hot path: the document is built from typed values already, so it is encoded
    # directly instead of being re-validated against AppendResponse (which documents it).
    return Response(
        json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/v1/evidence/{r.entry.storage_number}"},
    )


@router.post(
    ":batch",
    status_code=201,
    response_model=BatchAppendResponse,
    responses=problems(413, 415, 422, 503),
    summary="Register many digests at once (all or none); proofs via GET",
)
async def register_batch(svc: Svc, body: BatchAppendRequest) -> dict[str, Any]:
    if len(body.items) > svc.settings.max_batch_items:
        raise Problem(
            422,
            "request.too_many_items",
            "Invalid request",
            f"at most {svc.settings.max_batch_items} items per batch",
        )
    try:
        receipts = await svc.integrator.append_many([_submission(i) for i in body.items])
    except (Overloaded, IntegrationFailed) as exc:
        raise _append_problem(exc) from None
    return {
        "receipts": [
            {
                "storage_number": r.entry.storage_number,
                "leaf_index": r.entry.leaf_index,
                "integrated_time": r.entry.integrated_time,
            }
            for r in receipts
        ],
        "tree_head": max(receipts, key=lambda r: r.head.tree_size).head.as_dict(),
    }


@router.get(
    "/{storage_number}",
    response_model=EvidenceBundle,
    responses=problems(404, 409, 422, 500),
    summary="The entry, its inclusion proof and the signed (optionally cosigned) head",
)
async def get_evidence(
    svc: Svc, storage_number: SN, quorum: Annotated[QueryQuorum, Query()] = 0
) -> dict[str, Any]:
    return await svc.bundle(storage_number, quorum)


@router.post(
    "/{storage_number}/verify",
    response_model=VerifyResponse,
    responses=problems(404, 409, 413, 415, 422, 500),
    summary="Verify a digest against a storage number: integrity, storage time, proof",
)
async def verify_digest(svc: Svc, storage_number: SN, body: VerifyRequest) -> dict[str, Any]:
    return await svc.verify(storage_number, digest=body.digest, quorum=body.quorum)


@router.post(
    "/{storage_number}/verify-data",
    response_model=VerifyResponse,
    responses=problems(404, 409, 413, 415, 422, 500),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    summary="Verify the original data (uploaded as the body) against a storage number",
)
async def verify_data(
    svc: Svc, storage_number: SN, request: Request, quorum: Annotated[QueryQuorum, Query()] = 0
) -> dict[str, Any]:
    chunks = [c async for c in request.stream()]
    return await svc.verify(storage_number, data_digest=digests_of(chunks), quorum=quorum)
