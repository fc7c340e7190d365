"""Accounts: who the caller is, and (for court staff) who else has an account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from litigation.api.deps import Caller, Svc, problems, require
from litigation.api.schemas import AccountOut, PageLimit
from litigation.domain.roles import COURT_STAFF, Role
from litigation.store.models import Account

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
RoleName = Annotated[str | None, Query(pattern="^(" + "|".join(r.value for r in Role) + ")$")]


@router.get("/me", response_model=AccountOut, responses=problems(401), summary="The caller")
def me(actor: Caller) -> dict[str, Any]:
    return {"subject": actor.subject, "name": actor.name, "roles": actor.role_names()}


@router.get(
    "",
    response_model=list[AccountOut],
    responses=problems(401, 403, 422),
    summary="Accounts, optionally with one role (court staff)",
)
def list_accounts(
    svc: Svc, actor: Caller, role: RoleName = None, limit: Annotated[PageLimit, Query()] = 100
) -> list[dict[str, Any]]:
    require(actor, *COURT_STAFF, doing="listing accounts")
    q = select(Account).order_by(Account.subject).limit(limit)
    if role:
        q = q.where(Account.roles.contains([role]))
    with svc.sessions() as s:
        return [
            {"subject": a.subject, "name": a.name, "roles": list(a.roles)} for a in s.scalars(q)
        ]
