"""Shared bits of the routers: services, the caller, case access, audit, problems."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from litigation.auth import TokenRefused
from litigation.domain.roles import Actor, CaseMembership, Role, acts_for_parties, can_see_case
from litigation.problems import Problem, forbidden, invalid, not_found
from litigation.service import Services
from litigation.store.models import Account, AuditEvent, Case, Mediation

bearer = HTTPBearer(auto_error=False, description="an OIDC ID or access token (JWT)")


def services(request: Request) -> Services:
    svc = request.app.state.services
    if svc is None:
        raise Problem(503, "health.starting", "Service unavailable", "the service is starting")
    return svc  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services)]


def current_actor(
    svc: Svc,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        svc.metrics.auth_failures.labels("missing_token").inc()
        raise Problem(
            401,
            "auth.missing_token",
            "Unauthorized",
            "send 'Authorization: Bearer <token>' with a token from the court's identity provider",
        )
    try:
        verified = svc.verifier.verify(credentials.credentials)
    except TokenRefused as exc:
        svc.metrics.auth_failures.labels(exc.reason).inc()
        raise
    svc.remember_account(verified.actor)
    return verified.actor


Caller = Annotated[Actor, Depends(current_actor)]


def require(actor: Actor, *roles: Role, doing: str) -> None:
    if not actor.has(*roles):
        raise forbidden(
            "auth.role_required",
            f"{doing} needs the role {' or '.join(sorted(r.value for r in roles))}"
            f" (you have {', '.join(actor.role_names())})",
        )


def require_judge(svc: Services, s: Session, subject: str, *, field: str, code: str) -> None:
    """Only a judge of this court may be made a case's or a hearing's judge: one on the
    court's roster when it has one, else an account that signed in here as a judge (staff
    tokens are scoped to this court, so such an account is one of its judges)."""
    roster = svc.settings.judges
    if roster:
        if subject in roster:
            return
        why = "is not on the court's roster of judges"
    else:
        roles = s.scalar(select(Account.roles).where(Account.subject == subject))
        if roles is not None and Role.JUDGE.value in roles:
            return
        why = ("has never signed in to this court as a judge" if roles is None else
               f"is not a judge of this court (their roles: {', '.join(sorted(roles))})")
    raise invalid(
        code,
        f"{field}: {subject} {why}; name one of the court's judges",
        errors=[{"field": field, "reason": why}],
    )


def membership(s: Session, case: Case) -> CaseMembership:
    mediators = s.scalars(select(Mediation.mediator_subject).where(Mediation.case_id == case.id))
    return CaseMembership(
        filed_by=case.filed_by,
        party_accounts=frozenset(p.account_subject for p in case.parties if p.account_subject),
        lawyers=frozenset(p.lawyer_subject for p in case.parties if p.lawyer_subject),
        mediators=frozenset(mediators),
        judge=case.judge_subject,
    )


def case_not_found(case_id: uuid.UUID | str) -> Problem:
    # The same answer whether the case does not exist or the caller may not see it.
    return not_found("case.not_found", f"there is no case {case_id} that you can see")


def visible_case(
    s: Session, actor: Actor, case_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Case, CaseMembership]:
    case = s.get(Case, case_id, with_for_update=for_update)
    if case is None:
        raise case_not_found(case_id)
    m = membership(s, case)
    if not can_see_case(actor, m):
        raise case_not_found(case_id)
    return case, m


def party_side_case(
    s: Session, actor: Actor, case_id: uuid.UUID, *, doing: str, for_update: bool = False
) -> tuple[Case, CaseMembership]:
    """A case the caller takes part in as court staff or for a party."""
    case, m = visible_case(s, actor, case_id, for_update=for_update)
    if not (actor.is_staff or acts_for_parties(actor, m)):
        raise forbidden("auth.not_a_party", f"{doing} is for the parties and the court")
    return case, m


def audit(
    s: Session,
    actor: Actor,
    action: str,
    case_id: uuid.UUID | None,
    entity: str,
    entity_id: Any,
    **detail: Any,
) -> None:
    s.add(
        AuditEvent(
            case_id=case_id,
            actor_subject=actor.subject,
            actor_roles=actor.role_names(),
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=detail,
        )
    )


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem-detail responses a route can give."""
    from litigation.api.schemas import ProblemOut

    text = {
        401: "no valid token",
        403: "role or party required",
        404: "not found (or not yours to see)",
        409: "conflict with the case's state",
        413: "body too large",
        415: "wrong content type",
        422: "invalid input",
        503: "a dependency is unavailable; nothing was stored",
    }
    return {
        s: {
            "model": ProblemOut,
            "description": text.get(s, "problem"),
            "content": {"application/problem+json": {}},
        }
        for s in statuses
    }
