"""Hearing scheduling with conflict checks for judges, rooms and parties."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from litigation.api.deps import (
    Caller,
    Svc,
    audit,
    problems,
    require,
    require_judge,
    visible_case,
)
from litigation.api.schemas import HearingIn, HearingOut, PublicHearing
from litigation.domain.hearings import Slot, conflicts, party_identity
from litigation.domain.roles import COURT_STAFF
from litigation.problems import conflict, invalid, not_found
from litigation.store.models import Case, Hearing, Party

router = APIRouter(tags=["hearings"])
CaseId = Annotated[uuid.UUID, Path(description="the case's id")]
SCHEDULE_LOCK = 0x6C_69_74_68_65_01  # serialises scheduling: check and insert as one
MAX_HEARING = timedelta(hours=12)


def hearing_dict(h: Hearing) -> dict[str, Any]:
    return {
        k: getattr(h, k)
        for k in [
            "id",
            "case_id",
            "judge_subject",
            "room",
            "mode",
            "public",
            "starts_at",
            "ends_at",
            "status",
        ]
    }


def participants(parties: list[Party]) -> frozenset[str]:
    out = {party_identity(p.id_number, p.name) for p in parties}
    out |= {"lawyer:" + p.lawyer_subject for p in parties if p.lawyer_subject}
    return frozenset(out)


def slots_around(s: Session, start: datetime, end: datetime, exclude_case: uuid.UUID) -> list[Slot]:
    """Scheduled hearings overlapping [start, end), with their parties."""
    rows = s.execute(
        select(Hearing, Case.case_number)
        .join(Case, Case.id == Hearing.case_id)
        .where(Hearing.status == "scheduled", Hearing.starts_at < end, Hearing.ends_at > start)
    ).all()
    case_ids = {h.case_id for h, _ in rows}
    by_case: dict[uuid.UUID, list[Party]] = {}
    if case_ids:
        for p in s.scalars(select(Party).where(Party.case_id.in_(case_ids))):
            by_case.setdefault(p.case_id, []).append(p)
    del exclude_case
    return [
        Slot(
            str(h.id),
            str(h.case_id),
            number,
            h.judge_subject,
            h.room,
            h.starts_at,
            h.ends_at,
            participants(by_case.get(h.case_id, [])),
        )
        for h, number in rows
    ]


@router.post(
    "/v1/cases/{case_id}/hearings",
    status_code=201,
    response_model=HearingOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Schedule a hearing; refused (409) if the judge, room or a party is busy then",
)
def schedule(svc: Svc, actor: Caller, case_id: CaseId, body: HearingIn) -> dict[str, Any]:
    require(actor, *COURT_STAFF, doing="scheduling hearings")
    if body.ends_at <= body.starts_at:
        raise invalid("hearing.bad_period", "ends_at: must be after starts_at")
    if body.ends_at - body.starts_at > MAX_HEARING:
        raise invalid(
            "hearing.too_long", "ends_at: a hearing lasts at most 12 hours; schedule days apart"
        )
    if body.mode == "in_person" and body.room is None:
        raise invalid("hearing.room_required", "room: an in-person hearing needs a courtroom")
    with svc.sessions.begin() as s:
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEDULE_LOCK})
        case, _ = visible_case(s, actor, case_id, for_update=True)
        if case.status != "accepted":
            raise conflict(
                "hearing.case_not_accepted",
                f"the case is {case.status}; only accepted cases get hearings",
            )
        judge = body.judge_subject or case.judge_subject
        if judge is None:
            raise invalid(
                "hearing.judge_required", "judge_subject: the case has no judge assigned; name one"
            )
        if body.judge_subject is not None:
            require_judge(svc, s, judge, field="judge_subject", code="hearing.unknown_judge")
        proposed = Slot(
            "new",
            str(case.id),
            case.case_number,
            judge,
            body.room,
            body.starts_at,
            body.ends_at,
            participants(list(case.parties)),
        )
        found = conflicts(proposed, slots_around(s, body.starts_at, body.ends_at, case.id))
        if found:
            for c in found:
                svc.metrics.hearing_conflicts.labels(c.kind).inc()
            kinds = sorted({c.kind for c in found})
            raise conflict(
                "hearing.conflict",
                f"the {' and the '.join(kinds)} {'is' if len(kinds) == 1 else 'are'} busy then;"
                " pick another time",
                conflicts=[c.as_dict() for c in found],
            )
        h = Hearing(
            case_id=case.id,
            judge_subject=judge,
            room=body.room,
            mode=body.mode,
            public=body.public,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            status="scheduled",
            scheduled_by=actor.subject,
        )
        s.add(h)
        s.flush()
        audit(
            s,
            actor,
            "hearing.scheduled",
            case.id,
            "hearing",
            h.id,
            starts_at=body.starts_at.isoformat(),
            ends_at=body.ends_at.isoformat(),
            judge=judge,
            room=body.room,
            mode=body.mode,
        )
        s.flush()
        return hearing_dict(h)


@router.get(
    "/v1/cases/{case_id}/hearings",
    response_model=list[HearingOut],
    responses=problems(401, 404, 422),
    summary="Hearings of a case",
)
def list_hearings(svc: Svc, actor: Caller, case_id: CaseId) -> list[dict[str, Any]]:
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        rows = s.scalars(
            select(Hearing).where(Hearing.case_id == case.id).order_by(Hearing.starts_at)
        )
        return [hearing_dict(h) for h in rows]


@router.post(
    "/v1/hearings/{hearing_id}/cancellation",
    response_model=HearingOut,
    responses=problems(401, 403, 404, 409, 422),
    summary="Cancel a scheduled hearing (frees the judge, room and parties)",
)
def cancel(svc: Svc, actor: Caller, hearing_id: uuid.UUID) -> dict[str, Any]:
    require(actor, *COURT_STAFF, doing="cancelling hearings")
    with svc.sessions.begin() as s:
        h = s.get(Hearing, hearing_id, with_for_update=True)
        if h is None:
            raise not_found("hearing.not_found", f"there is no hearing {hearing_id}")
        if h.status != "scheduled":
            raise conflict("hearing.not_scheduled", f"the hearing is {h.status}")
        h.status = "cancelled"
        audit(s, actor, "hearing.cancelled", h.case_id, "hearing", h.id)
        s.flush()
        return hearing_dict(h)


@router.get(
    "/v1/public/hearings",
    response_model=list[PublicHearing],
    responses=problems(401, 422),
    summary="The public hearing calendar (no party details), for any signed-in user",
)
def public_calendar(
    svc: Svc,
    actor: Caller,
    days: Annotated[int, Query(ge=1, le=90, description="how many days ahead")] = 14,
) -> list[dict[str, Any]]:
    del actor
    now = datetime.now(UTC)
    with svc.sessions() as s:
        rows = s.execute(
            select(Hearing, Case.case_number, Case.cause)
            .join(Case, Case.id == Hearing.case_id)
            .where(
                Hearing.status == "scheduled",
                Hearing.public.is_(True),
                Hearing.ends_at > now,
                Hearing.starts_at < now + timedelta(days=days),
                or_(Case.status == "accepted", Case.status == "mediated"),
            )
            .order_by(Hearing.starts_at)
            .limit(500)
        ).all()
    return [
        {
            "case_number": number,
            "cause": cause,
            "starts_at": h.starts_at,
            "ends_at": h.ends_at,
            "mode": h.mode,
            "room": h.room,
        }
        for h, number, cause in rows
    ]
