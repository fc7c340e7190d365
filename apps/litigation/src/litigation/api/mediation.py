"""Mediation sessions with mediation codes, agreements confirmed by both sides."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy import select
from sqlalchemy.orm import Session

from litigation.api.deps import Caller, Svc, audit, problems, require, visible_case
from litigation.api.schemas import AgreementIn, ConfirmIn, MediationIn, MediationOut
from litigation.domain.mediation import (
    CODE_PATTERN,
    agreement_digest,
    new_mediation_code,
    sides_needed,
)
from litigation.domain.roles import COURT_STAFF, Actor, Role
from litigation.problems import Problem, conflict, forbidden, invalid, not_found
from litigation.store.models import Account, Agreement, Case, Confirmation, Mediation

router = APIRouter(tags=["mediation"])
CaseId = Annotated[uuid.UUID, Path(description="the case's id")]
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="the mediation code")]


def mediation_dict(s: Session, m: Mediation) -> dict[str, Any]:
    a = latest_agreement(s, m)
    agreement = None
    if a is not None:
        sides = sorted(
            s.scalars(select(Confirmation.side).where(Confirmation.agreement_id == a.id))
        )
        agreement = {
            "version": a.version,
            "terms": list(a.terms),
            "digest": a.digest,
            "drafted_by": a.drafted_by,
            "drafted_at": a.drafted_at,
            "confirmed_sides": sides,
        }
    return {
        "id": m.id,
        "case_id": m.case_id,
        "code": m.code,
        "mediator_subject": m.mediator_subject,
        "status": m.status,
        "opened_at": m.opened_at,
        "closed_at": m.closed_at,
        "agreement": agreement,
    }


def latest_agreement(s: Session, m: Mediation) -> Agreement | None:
    return s.scalar(
        select(Agreement)
        .where(Agreement.mediation_id == m.id)
        .order_by(Agreement.version.desc())
        .limit(1)
    )


def find(
    s: Session, actor: Actor, code: str, *, for_update: bool = False
) -> tuple[Mediation, Case]:
    q = select(Mediation).where(Mediation.code == code)
    if for_update:
        q = q.with_for_update()
    m = s.scalar(q)
    missing = not_found("mediation.not_found", f"there is no mediation {code} that you can see")
    if m is None:
        raise missing
    try:
        case, _ = visible_case(s, actor, m.case_id, for_update=for_update)
    except Problem:
        raise missing from None
    return m, case


@router.post(
    "/v1/cases/{case_id}/mediations",
    status_code=201,
    response_model=MediationOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Open a mediation session; it gets a mediation code",
)
def open_mediation(svc: Svc, actor: Caller, case_id: CaseId, body: MediationIn) -> dict[str, Any]:
    require(actor, *COURT_STAFF, doing="opening a mediation")
    with svc.sessions.begin() as s:
        case, _ = visible_case(s, actor, case_id, for_update=True)
        if case.status not in ("filed", "accepted"):
            raise conflict(
                "mediation.case_closed", f"the case is {case.status}; it cannot be mediated"
            )
        mediator = s.scalar(select(Account).where(Account.subject == body.mediator_subject))
        if mediator is None or Role.MEDIATOR.value not in mediator.roles:
            raise invalid(
                "mediation.unknown_mediator",
                "mediator_subject: no account with the mediator role has that subject",
            )
        if s.scalar(
            select(Mediation.id).where(Mediation.case_id == case.id, Mediation.status == "open")
        ):
            raise conflict("mediation.already_open", "the case already has an open mediation")
        m = Mediation(
            case_id=case.id,
            code=new_mediation_code(),
            mediator_subject=mediator.subject,
            status="open",
        )
        s.add(m)
        s.flush()
        audit(
            s,
            actor,
            "mediation.opened",
            case.id,
            "mediation",
            m.id,
            code=m.code,
            mediator=mediator.subject,
        )
        s.flush()
        s.refresh(m)
        return mediation_dict(s, m)


@router.get(
    "/v1/mediations/{code}",
    response_model=MediationOut,
    responses=problems(401, 404, 422),
    summary="A mediation session by its code",
)
def get_mediation(svc: Svc, actor: Caller, code: Code) -> dict[str, Any]:
    with svc.sessions() as s:
        m, _ = find(s, actor, code)
        return mediation_dict(s, m)


@router.put(
    "/v1/mediations/{code}/agreement",
    response_model=MediationOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Draft (or redraft) the agreement; a new draft needs new confirmations",
)
def draft_agreement(svc: Svc, actor: Caller, code: Code, body: AgreementIn) -> dict[str, Any]:
    with svc.sessions.begin() as s:
        m, case = find(s, actor, code, for_update=True)
        if actor.subject != m.mediator_subject and not actor.is_staff:
            raise forbidden(
                "mediation.not_mediator", "only the session's mediator drafts the agreement"
            )
        if m.status != "open":
            raise conflict("mediation.closed", f"the mediation is {m.status}")
        prev = latest_agreement(s, m)
        version = (prev.version + 1) if prev else 1
        a = Agreement(
            mediation_id=m.id,
            version=version,
            terms=body.terms,
            digest=agreement_digest(str(case.id), version, body.terms),
            drafted_by=actor.subject,
        )
        s.add(a)
        s.flush()
        audit(
            s,
            actor,
            "mediation.agreement_drafted",
            case.id,
            "agreement",
            a.id,
            version=version,
            digest=a.digest,
        )
        s.flush()
        return mediation_dict(s, m)


@router.post(
    "/v1/mediations/{code}/confirmations",
    response_model=MediationOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="A party confirms the current draft (by its SM3 digest)",
)
def confirm(svc: Svc, actor: Caller, code: Code, body: ConfirmIn) -> dict[str, Any]:
    now = datetime.now(UTC)
    with svc.sessions.begin() as s:
        m, case = find(s, actor, code, for_update=True)
        if m.status != "open":
            raise conflict("mediation.closed", f"the mediation is {m.status}")
        a = latest_agreement(s, m)
        if a is None:
            raise conflict("mediation.no_agreement", "there is no draft agreement to confirm yet")
        if body.digest != a.digest:
            raise conflict(
                "mediation.agreement_changed",
                f"digest: the current draft is version {a.version} with digest {a.digest};"
                " read it again before confirming",
            )
        mine = [
            p
            for p in case.parties
            if p.side in sides_needed()
            and (
                (actor.has(Role.LITIGANT) and p.account_subject == actor.subject)
                or (actor.has(Role.LAWYER) and p.lawyer_subject == actor.subject)
            )
        ]
        if body.party_id is not None:
            mine = [p for p in mine if p.id == body.party_id]
        if not mine:
            raise forbidden(
                "mediation.not_a_party",
                "only a plaintiff or defendant (or their lawyer) confirms an agreement",
            )
        party = mine[0]
        done = s.scalar(
            select(Confirmation).where(
                Confirmation.agreement_id == a.id, Confirmation.side == party.side
            )
        )
        if done is not None:
            raise conflict(
                "mediation.already_confirmed", f"the {party.side} side already confirmed this draft"
            )
        s.add(
            Confirmation(
                agreement_id=a.id,
                side=party.side,
                party_id=party.id,
                subject=actor.subject,
                digest=a.digest,
                confirmed_at=now,
            )
        )
        s.flush()
        audit(
            s,
            actor,
            "mediation.confirmed",
            case.id,
            "agreement",
            a.id,
            side=party.side,
            party=party.name,
            version=a.version,
            digest=a.digest,
        )
        sides = set(s.scalars(select(Confirmation.side).where(Confirmation.agreement_id == a.id)))
        if sides >= sides_needed():
            m.status, m.closed_at = "agreed", now
            case.status, case.updated_at = "mediated", now
            audit(
                s,
                actor,
                "mediation.agreed",
                case.id,
                "mediation",
                m.id,
                version=a.version,
                digest=a.digest,
            )
        s.flush()
        return mediation_dict(s, m)
