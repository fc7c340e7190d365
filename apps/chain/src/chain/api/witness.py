"""This node as a witness of the other sites' logs: cosign, observe, alarms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from chain.api.deps import Svc, problems
from chain.api.schemas import (
    Alarm,
    CosignatureOut,
    CosignRequest,
    ObserveRequest,
    ObserveResponse,
    QueryLimit,
    WitnessedLatest,
)

router = APIRouter(prefix="/v1/witness", tags=["witness"])
Origin = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9.\-]{0,62}$")]


@router.get(
    "/logs/{origin}",
    response_model=WitnessedLatest,
    responses=problems(404, 422),
    summary="The latest head of a log that this witness cosigned",
)
async def latest(svc: Svc, origin: Origin) -> dict[str, Any]:
    return await svc.witnessed_latest(origin)


@router.post(
    "/cosign",
    response_model=CosignatureOut,
    responses=problems(403, 404, 409, 413, 415, 422),
    summary="Cosign a log's head, given a consistency proof from the last cosigned size",
)
async def cosign(svc: Svc, body: CosignRequest) -> dict[str, Any]:
    return await svc.cosign(body.head.model_dump(), body.old_size, body.consistency_proof)


@router.post(
    "/observe",
    response_model=ObserveResponse,
    responses=problems(403, 404, 409, 413, 415, 422),
    summary="Report a head someone was shown; raises an alarm on equivocation",
)
async def observe(svc: Svc, body: ObserveRequest) -> dict[str, Any]:
    return await svc.observe(body.head.model_dump())


@router.get("/alarms", response_model=list[Alarm], summary="Equivocation alarms, newest first")
async def alarms(
    svc: Svc, limit: Annotated[QueryLimit, Query()] = 100
) -> list[dict[str, Any]]:
    return await svc.alarms(limit)
