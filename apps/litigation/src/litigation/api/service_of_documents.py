"""Electronic service of documents on parties, delivery receipts, the delivery rate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import func, select

from litigation.api.deps import Caller, Svc, audit, problems, require, visible_case
from litigation.api.schemas import DeliveryReport, ReceiptIn, ServeIn, ServiceOut
from litigation.domain.roles import COURT_STAFF, Role
from litigation.problems import conflict, invalid, not_found
from litigation.store.models import Document, Party, Service

router = APIRouter(tags=["service of documents"])
CaseId = Annotated[uuid.UUID, Path(description="the case's id")]


def service_dict(x: Service) -> dict[str, Any]:
    return {
        k: getattr(x, k)
        for k in [
            "id",
            "case_id",
            "document_id",
            "party_id",
            "channel",
            "address",
            "status",
            "sent_by",
            "sent_at",
            "receipt_at",
            "receipt_detail",
        ]
    }


def address_for(p: Party, channel: str) -> str | None:
    if channel == "platform":
        return (
            f"platform:{p.account_subject or p.lawyer_subject}"
            if (p.account_subject or p.lawyer_subject)
            else None
        )
    if channel == "sms":
        return p.phone
    return p.email


@router.post(
    "/v1/cases/{case_id}/services",
    status_code=201,
    response_model=list[ServiceOut],
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Serve a generated document on parties electronically",
)
def serve(svc: Svc, actor: Caller, case_id: CaseId, body: ServeIn) -> list[dict[str, Any]]:
    require(actor, *COURT_STAFF, doing="serving documents")
    if len(set(body.party_ids)) != len(body.party_ids):
        raise invalid("service.duplicate_party", "party_ids: name each party once")
    now = datetime.now(UTC)
    with svc.sessions.begin() as s:
        case, _ = visible_case(s, actor, case_id, for_update=True)
        doc = s.get(Document, body.document_id)
        if doc is None or doc.case_id != case.id:
            raise not_found(
                "document.not_found", f"case {case_id} has no document {body.document_id}"
            )
        parties = {p.id: p for p in case.parties}
        out = []
        for pid in body.party_ids:
            p = parties.get(pid)
            if p is None:
                raise not_found("party.not_found", f"case {case_id} has no party {pid}")
            addr = address_for(p, body.channel)
            if not addr:
                raise conflict(
                    "service.no_address",
                    f"party {p.name} has no {body.channel} address; choose another channel"
                    " or record the address first",
                )
            x = Service(
                case_id=case.id,
                document_id=doc.id,
                party_id=p.id,
                channel=body.channel,
                address=addr,
                status="sent",
                sent_by=actor.subject,
                sent_at=now,
            )
            s.add(x)
            s.flush()
            audit(
                s,
                actor,
                "service.sent",
                case.id,
                "service",
                x.id,
                document_id=str(doc.id),
                party=p.name,
                channel=body.channel,
            )
            out.append(x)
        s.flush()
        docs = [service_dict(x) for x in out]
    svc.metrics.services.labels("sent").inc(len(docs))
    return docs


@router.get(
    "/v1/cases/{case_id}/services",
    response_model=list[ServiceOut],
    responses=problems(401, 404, 422),
    summary="Services of documents in a case and their receipts",
)
def list_services(svc: Svc, actor: Caller, case_id: CaseId) -> list[dict[str, Any]]:
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        rows = s.scalars(
            select(Service).where(Service.case_id == case.id).order_by(Service.sent_at)
        )
        return [service_dict(x) for x in rows]


@router.post(
    "/v1/services/{service_id}/receipt",
    response_model=ServiceOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
    summary="Record a delivery receipt: from the channel (court staff) or the recipient",
)
def receipt(svc: Svc, actor: Caller, service_id: uuid.UUID, body: ReceiptIn) -> dict[str, Any]:
    now = datetime.now(UTC)
    missing = not_found("service.not_found", f"there is no service {service_id} that you can see")
    with svc.sessions.begin() as s:
        x = s.get(Service, service_id, with_for_update=True)
        if x is None:
            raise missing
        case, _ = visible_case(s, actor, x.case_id)
        party = s.get(Party, x.party_id)
        assert party is not None
        recipient = actor.subject in (party.account_subject, party.lawyer_subject) and actor.has(
            Role.LITIGANT, Role.LAWYER
        )
        if not (actor.is_staff or recipient):
            raise missing
        if not actor.is_staff and body.status != "delivered":
            raise invalid(
                "service.recipient_confirms_delivery",
                "status: a recipient can only confirm delivery",
            )
        if x.status != "sent":
            raise conflict(
                "service.receipt_recorded", f"a receipt was already recorded ({x.status})"
            )
        x.status, x.receipt_at = body.status, now
        x.receipt_detail = body.detail or ("opened by the recipient" if recipient else None)
        audit(
            s,
            actor,
            f"service.{body.status}",
            case.id,
            "service",
            x.id,
            detail=x.receipt_detail,
            by_recipient=recipient,
        )
        s.flush()
        doc = service_dict(x)
    svc.metrics.services.labels(body.status).inc()
    return doc


@router.get(
    "/v1/reports/service-delivery",
    response_model=DeliveryReport,
    responses=problems(401, 403, 422),
    summary="Delivery rate of electronic service, overall and per channel",
)
def delivery_report(
    svc: Svc,
    actor: Caller,
    since: Annotated[datetime | None, Query(description="sent at or after")] = None,
    until: Annotated[datetime | None, Query(description="sent before")] = None,
) -> dict[str, Any]:
    require(actor, *COURT_STAFF, doing="the delivery report")
    q = select(Service.channel, Service.status, func.count()).group_by(
        Service.channel, Service.status
    )
    if since is not None:
        q = q.where(Service.sent_at >= since)
    if until is not None:
        q = q.where(Service.sent_at < until)
    with svc.sessions() as s:
        rows = s.execute(q).all()
    by: dict[str, dict[str, Any]] = {}
    for channel, status, n in rows:
        c = by.setdefault(channel, {"total": 0, "delivered": 0, "failed": 0, "pending": 0})
        c["total"] += n
        c["pending" if status == "sent" else status] += n
    for c in by.values():
        c["delivery_rate"] = round(c["delivered"] / c["total"], 4) if c["total"] else None
    total = sum(c["total"] for c in by.values())
    delivered = sum(c["delivered"] for c in by.values())
    return {
        "since": since,
        "until": until,
        "total": total,
        "delivered": delivered,
        "failed": sum(c["failed"] for c in by.values()),
        "pending": sum(c["pending"] for c in by.values()),
        "delivery_rate": round(delivered / total, 4) if total else None,
        "by_channel": by,
    }
