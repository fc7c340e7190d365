"""The log: signed tree heads, proofs, the node's key, and a full audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from chain.api.deps import Svc, problems
from chain.api.schemas import (
    AuditReport,
    ConsistencyProof,
    InclusionProof,
    KeyInfo,
    QueryLeafIndex,
    QueryQuorum,
    QueryTreeSize,
    TreeHeadOut,
)

router = APIRouter(prefix="/v1/log", tags=["log"])


@router.get(
    "/head",
    response_model=TreeHeadOut,
    responses=problems(409, 422),
    summary="The latest signed tree head, or the latest with a quorum of cosignatures",
)
async def head(svc: Svc, quorum: Annotated[QueryQuorum, Query()] = 0) -> dict[str, Any]:
    return (await svc.head(quorum)).as_dict()


@router.get("/proofs/inclusion", response_model=InclusionProof, responses=problems(422, 500))
async def inclusion(
    svc: Svc,
    leaf_index: Annotated[QueryLeafIndex, Query()],
    tree_size: Annotated[QueryTreeSize, Query()],
) -> dict[str, Any]:
    hashes = await svc.inclusion_proof(leaf_index, tree_size)
    return {"leaf_index": leaf_index, "tree_size": tree_size, "hashes": [h.hex() for h in hashes]}


@router.get("/proofs/consistency", response_model=ConsistencyProof, responses=problems(422, 500))
async def consistency(
    svc: Svc, first: Annotated[QueryTreeSize, Query()], second: Annotated[QueryTreeSize, Query()]
) -> dict[str, Any]:
    hashes = await svc.consistency_proof(first, second)
    return {"first": first, "second": second, "hashes": [h.hex() for h in hashes]}


@router.get("/key", response_model=KeyInfo, summary="This log's public key and its witnesses")
async def key(
    svc: Svc,
) -> dict[str, Any]:
    return svc.public_key_info()


@router.get(
    "/audit",
    response_model=AuditReport,
    summary="Recompute the tree from stored entries; name every altered entry or node",
)
async def audit(
    svc: Svc,
) -> dict[str, Any]:
    return await svc.audit()
