"""The audit trail: every change, queryable per case."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from litigation.api.deps import Caller, Svc, problems, require, visible_case
from litigation.api.schemas import AuditOut, PageLimit
from litigation.domain.roles import COURT_STAFF
from litigation.store.models import AuditEvent

router = APIRouter(tags=["audit"])


@router.get(
    "/v1/cases/{case_id}/audit",
    response_model=list[AuditOut],
    responses=problems(401, 403, 404, 422),
    summary="Every change to a case, oldest first (court staff)",
)
def case_audit(
    svc: Svc,
    actor: Caller,
    case_id: Annotated[uuid.UUID, Path()],
    after: Annotated[int, Query(ge=0, le=2**62, description="only events after this id")] = 0,
    limit: Annotated[PageLimit, Query()] = 200,
) -> list[dict[str, Any]]:
    require(actor, *COURT_STAFF, doing="reading the audit trail")
    with svc.sessions() as s:
        visible_case(s, actor, case_id)
        rows = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id, AuditEvent.id > after)
            .order_by(AuditEvent.id)
            .limit(limit)
        )
        return [
            {
                k: getattr(e, k)
                for k in [
                    "id",
                    "at",
                    "actor_subject",
                    "actor_roles",
                    "action",
                    "entity",
                    "entity_id",
                    "detail",
                ]
            }
            for e in rows
        ]
