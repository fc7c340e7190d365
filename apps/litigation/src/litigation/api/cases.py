"""Cases: filing, the caller's cases, one case, the court's decision, fees and payments."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from litigation.api.deps import (
    Caller,
    Svc,
    audit,
    party_side_case,
    problems,
    require,
    require_judge,
    visible_case,
)
from litigation.api.schemas import (
    CaseList,
    CaseOut,
    DecisionIn,
    FilingIn,
    PageLimit,
    PageOffset,
    PaymentIn,
    PaymentOut,
)
from litigation.domain.fees import acceptance_fee
from litigation.domain.roles import COURT_STAFF, FILERS, Actor, Role
from litigation.problems import conflict, invalid, not_found
from litigation.store.models import (
    Case,
    CaseNumberCounter,
    Claim,
    Fee,
    Mediation,
    Party,
    Payment,
)

router = APIRouter(prefix="/v1/cases", tags=["cases"])
CaseId = Annotated[uuid.UUID, Path(description="the case's id")]
CATEGORY_MARK = {"civil": "民初", "administrative": "行初"}
CaseStatus = Annotated[
    str | None,
    Query(pattern=r"^(filed|accepted|rejected|mediated)$", description="only cases in this state"),
]


def fee_dict(f: Fee) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
        "amount_fen": f.amount_fen,
        "basis": f.basis,
        "status": f.status,
        "assessed_at": f.assessed_at,
        "paid_at": f.paid_at,
    }


def case_dict(c: Case, fees: list[Fee] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": c.id,
        "filing_number": c.filing_number,
        "case_number": c.case_number,
        "cause": c.cause,
        "category": c.category,
        "status": c.status,
        "claim_total_fen": c.claim_total_fen,
        "filed_by": c.filed_by,
        "filed_at": c.filed_at,
    }
    if fees is None:
        return doc
    doc.update(
        facts=c.facts,
        decided_at=c.decided_at,
        decided_by=c.decided_by,
        decision_reason=c.decision_reason,
        judge_subject=c.judge_subject,
        parties=[
            {
                k: getattr(p, k)
                for k in [
                    "id",
                    "side",
                    "kind",
                    "name",
                    "id_number",
                    "address",
                    "phone",
                    "email",
                    "account_subject",
                    "lawyer_subject",
                    "lawyer_name",
                ]
            }
            for p in c.parties
        ],
        claims=[{"seq": x.seq, "text": x.text, "amount_fen": x.amount_fen} for x in c.claims],
        fees=[fee_dict(f) for f in fees],
    )
    return doc


@router.post(
    "",
    status_code=201,
    response_model=CaseOut,
    responses=problems(401, 403, 413, 415, 422),
    summary="File a case online: parties, claims, facts; the acceptance fee is assessed",
)
def file_case(svc: Svc, actor: Caller, body: FilingIn, response: Response) -> dict[str, Any]:
    require(actor, *FILERS, doing="filing a case")
    claim_total = sum(c.amount_fen or 0 for c in body.claims)
    if claim_total > 10**15:
        raise invalid("filing.claim_too_large", "claims: the amounts add up to more than 10^15 fen")
    amount, basis = acceptance_fee(claim_total)
    now = datetime.now(UTC)
    with svc.sessions.begin() as s:
        case = Case(
            id=uuid.uuid4(),
            filing_number=f"F{now:%Y%m%d}-{secrets.token_hex(5).upper()}",
            cause=body.cause,
            category=body.category,
            status="filed",
            claim_total_fen=claim_total,
            facts=body.facts,
            filed_by=actor.subject,
            filed_at=now,
            updated_at=now,
        )
        s.add(case)
        s.flush()
        for i, p in enumerate(body.parties, 1):
            s.add(Party(case_id=case.id, seq=i, **p.model_dump()))
        for i, c in enumerate(body.claims, 1):
            s.add(Claim(case_id=case.id, seq=i, text=c.text, amount_fen=c.amount_fen))
        fee = Fee(
            case_id=case.id,
            kind="acceptance_fee",
            amount_fen=amount,
            basis=basis,
            status="due",
            assessed_at=now,
        )
        s.add(fee)
        s.flush()
        audit(
            s,
            actor,
            "case.filed",
            case.id,
            "case",
            case.id,
            filing_number=case.filing_number,
            cause=case.cause,
            parties=len(body.parties),
            claims=len(body.claims),
            claim_total_fen=claim_total,
        )
        audit(s, actor, "fee.assessed", case.id, "fee", fee.id, amount_fen=amount, basis=basis)
        s.flush()
        s.refresh(case)
        doc = case_dict(case, [fee])
    svc.metrics.filings.inc()
    response.headers["Location"] = f"/v1/cases/{case.id}"
    return doc


@router.get(
    "",
    response_model=CaseList,
    responses=problems(401, 422),
    summary="The cases the caller may see (court staff: all; others: their own)",
)
def list_cases(
    svc: Svc,
    actor: Caller,
    status: CaseStatus = None,
    limit: Annotated[PageLimit, Query()] = 50,
    offset: Annotated[PageOffset, Query()] = 0,
) -> dict[str, Any]:
    q = select(Case)
    if not actor.is_staff:
        q = q.where(visibility_filter(actor))
    if status:
        q = q.where(Case.status == status)
    with svc.sessions() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = s.scalars(q.order_by(Case.filed_at.desc(), Case.id).limit(limit).offset(offset))
        return {"items": [case_dict(c) for c in rows], "total": total}


def visibility_filter(actor: Actor) -> Any:
    """SQL form of roles.can_see_case for callers who are not court staff."""
    sub = actor.subject
    conds: list[Any] = []
    if actor.has(Role.LITIGANT):
        conds += [
            Case.filed_by == sub,
            Case.id.in_(select(Party.case_id).where(Party.account_subject == sub)),
        ]
    if actor.has(Role.LAWYER):
        conds += [
            Case.filed_by == sub,
            Case.id.in_(select(Party.case_id).where(Party.lawyer_subject == sub)),
        ]
    if actor.has(Role.MEDIATOR):
        conds.append(
            Case.id.in_(select(Mediation.case_id).where(Mediation.mediator_subject == sub))
        )
    return or_(*conds) if conds else Case.id.is_(None)


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    responses=problems(401, 404, 422),
    summary="One case with its parties, claims and fees",
)
def get_case(svc: Svc, actor: Caller, case_id: CaseId) -> dict[str, Any]:
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        fees = list(s.scalars(select(Fee).where(Fee.case_id == case.id).order_by(Fee.assessed_at)))
        return case_dict(case, fees)


def next_case_number(s: Any, court_code: str, category: str, year: int) -> str:
    stmt = insert(CaseNumberCounter).values(year=year, category=category, last=1)
    last = s.scalar(
        stmt.on_conflict_do_update(
            index_elements=[CaseNumberCounter.year, CaseNumberCounter.category],
            set_={"last": CaseNumberCounter.last + 1},
        ).returning(CaseNumberCounter.last)
    )
    return f"({year}){court_code}{CATEGORY_MARK[category]}{last}号"


@router.post(
    "/{case_id}/decision",
    response_model=CaseOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Accept the filing (a case number is given) or reject it with reasons",
)
def decide(svc: Svc, actor: Caller, case_id: CaseId, body: DecisionIn) -> dict[str, Any]:
    require(actor, *COURT_STAFF, doing="deciding on a filing")
    if body.decision == "reject" and len(body.reason) < 4:
        raise invalid(
            "decision.reason_required",
            "reason: a rejection must give its reasons (at least 4 characters)",
            errors=[{"field": "reason", "reason": "required when rejecting"}],
        )
    now = datetime.now(UTC)
    with svc.sessions.begin() as s:
        case, _ = visible_case(s, actor, case_id, for_update=True)
        if case.status != "filed":
            raise conflict(
                "decision.already_decided",
                f"the filing was already decided ({case.status}) on {case.decided_at:%Y-%m-%d}",
            )
        case.decided_at, case.decided_by = now, actor.subject
        case.decision_reason = body.reason or None
        case.updated_at = now
        if body.decision == "accept":
            if body.judge_subject is not None:
                require_judge(svc, s, body.judge_subject, field="judge_subject",
                              code="decision.unknown_judge")
            case.status = "accepted"
            case.case_number = next_case_number(s, svc.settings.court_code, case.category, now.year)
            case.judge_subject = body.judge_subject or (
                actor.subject if actor.has(Role.JUDGE) else None
            )
        else:
            case.status = "rejected"
            s.execute(
                update(Fee)
                .where(Fee.case_id == case.id, Fee.status == "due")
                .values(status="waived")
            )
        audit(
            s,
            actor,
            f"case.{case.status}",
            case.id,
            "case",
            case.id,
            case_number=case.case_number,
            reason=case.decision_reason,
            judge=case.judge_subject,
        )
        s.flush()
        fees = list(s.scalars(select(Fee).where(Fee.case_id == case.id)))
        doc = case_dict(case, fees)
    svc.metrics.decisions.labels(body.decision).inc()
    return doc


@router.post(
    "/{case_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Record a fee payment (idempotent per transaction reference)",
)
def pay(
    svc: Svc, actor: Caller, case_id: CaseId, body: PaymentIn, response: Response
) -> dict[str, Any]:
    with svc.sessions.begin() as s:
        case, _ = party_side_case(s, actor, case_id, doing="paying a fee", for_update=True)
        fee = s.get(Fee, body.fee_id, with_for_update=True)
        if fee is None or fee.case_id != case.id:
            raise not_found("fee.not_found", f"case {case_id} has no fee {body.fee_id}")
        earlier = s.scalar(
            select(Payment).where(Payment.transaction_reference == body.transaction_reference)
        )
        if earlier is not None:
            same = (earlier.fee_id, earlier.amount_fen, earlier.channel) == (
                fee.id,
                body.amount_fen,
                body.channel,
            )
            if not same:
                raise conflict(
                    "payment.reference_reused",
                    "transaction_reference: already used for a different payment",
                )
            response.status_code = 200
            return payment_dict(earlier)
        if fee.status != "due":
            raise conflict("fee.not_due", f"the fee is {fee.status}; nothing is owed")
        if body.amount_fen != fee.amount_fen:
            raise invalid(
                "payment.wrong_amount",
                f"amount_fen: the fee is {fee.amount_fen} fen; pay it in full",
                errors=[{"field": "amount_fen", "reason": f"must be {fee.amount_fen}"}],
            )
        now = datetime.now(UTC)
        p = Payment(
            fee_id=fee.id,
            case_id=case.id,
            amount_fen=body.amount_fen,
            channel=body.channel,
            transaction_reference=body.transaction_reference,
            payer_subject=actor.subject,
            paid_at=now,
        )
        s.add(p)
        fee.status, fee.paid_at = "paid", now
        s.flush()
        audit(
            s,
            actor,
            "fee.paid",
            case.id,
            "payment",
            p.id,
            fee_id=str(fee.id),
            amount_fen=p.amount_fen,
            channel=p.channel,
            transaction_reference=p.transaction_reference,
        )
        doc = payment_dict(p)
    svc.metrics.payments.inc()
    return doc


@router.get(
    "/{case_id}/payments",
    response_model=list[PaymentOut],
    responses=problems(401, 404, 422),
    summary="Payments recorded for a case",
)
def list_payments(svc: Svc, actor: Caller, case_id: CaseId) -> list[dict[str, Any]]:
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        rows = s.scalars(
            select(Payment).where(Payment.case_id == case.id).order_by(Payment.paid_at)
        )
        return [payment_dict(p) for p in rows]


def payment_dict(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "fee_id": p.fee_id,
        "case_id": p.case_id,
        "amount_fen": p.amount_fen,
        "channel": p.channel,
        "transaction_reference": p.transaction_reference,
        "payer_subject": p.payer_subject,
        "paid_at": p.paid_at,
    }
