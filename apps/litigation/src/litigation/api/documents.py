"""Documents generated from case data and JSON templates, stored as .docx."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from litigation import docx
from litigation.api.deps import Caller, Svc, audit, problems, require, visible_case
from litigation.api.schemas import DocumentIn, DocumentOut, TemplateOut
from litigation.blobs import StorageUnavailable
from litigation.domain.documents import MissingElement, assemble
from litigation.domain.roles import Actor, Role
from litigation.problems import Problem, conflict, invalid, not_found
from litigation.service import Services
from litigation.store.models import (
    Agreement,
    Case,
    Confirmation,
    Document,
    Fee,
    Hearing,
    Mediation,
    Party,
)

router = APIRouter(tags=["documents"])
CaseId = Annotated[uuid.UUID, Path(description="the case's id")]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SIDE_LABEL = {"plaintiff": "原告", "defendant": "被告", "third_party": "第三人"}
MODE_LABEL = {"online": "在线开庭", "in_person": "现场开庭"}


def party_data(p: Party) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "name": p.name,
        "side": p.side,
        "side_label": SIDE_LABEL.get(p.side, p.side),
        "kind": p.kind,
        "id_number": p.id_number,
        "address": p.address,
        "lawyer_name": p.lawyer_name,
    }


def case_data(
    svc: Services,
    s: Session,
    case: Case,
    *,
    hearing: Hearing | None = None,
    recipient: Party | None = None,
    mediation: Mediation | None = None,
) -> dict[str, Any]:
    """The structured data every template reads its elements from."""
    parties = [party_data(p) for p in case.parties]
    fee = s.scalar(select(Fee).where(Fee.case_id == case.id, Fee.kind == "acceptance_fee").limit(1))
    data: dict[str, Any] = {
        "court": {"name": svc.settings.court_name, "code": svc.settings.court_code},
        "case": {
            "id": str(case.id),
            "case_number": case.case_number,
            "filing_number": case.filing_number,
            "reference": case.case_number or case.filing_number,
            "cause": case.cause,
            "status": case.status,
            "filed_at": case.filed_at,
            "decided_at": case.decided_at,
            "claim_total_fen": case.claim_total_fen,
            "judge_name": svc.account_name(s, case.judge_subject),
        },
        "parties": parties,
        "plaintiffs": [p for p in parties if p["side"] == "plaintiff"],
        "defendants": [p for p in parties if p["side"] == "defendant"],
        "third_parties": [p for p in parties if p["side"] == "third_party"],
        "claims": [{"text": c.text, "amount_fen": c.amount_fen} for c in case.claims],
        "fee": None
        if fee is None
        else {"amount_fen": fee.amount_fen, "basis": fee.basis, "status": fee.status},
        "today": datetime.now(UTC).date(),
    }
    if recipient is not None:
        data["recipient"] = party_data(recipient)
    if hearing is not None:
        data["hearing"] = {
            "starts_at": hearing.starts_at.astimezone(svc.tz),
            "ends_at": hearing.ends_at.astimezone(svc.tz),
            "mode": hearing.mode,
            "mode_label": MODE_LABEL.get(hearing.mode, hearing.mode),
            "room": hearing.room,
            "place": hearing.room or "诉讼平台在线法庭",
            "public": hearing.public,
            "judge_name": svc.account_name(s, hearing.judge_subject) or hearing.judge_subject,
        }
    if mediation is not None:
        agreement = s.scalar(
            select(Agreement)
            .where(Agreement.mediation_id == mediation.id)
            .order_by(Agreement.version.desc())
            .limit(1)
        )
        data["mediation"] = {
            "code": mediation.code,
            "status": mediation.status,
            "mediator_name": svc.account_name(s, mediation.mediator_subject)
            or mediation.mediator_subject,
        }
        if agreement is not None:
            confs = list(
                s.scalars(
                    select(Confirmation)
                    .where(Confirmation.agreement_id == agreement.id)
                    .order_by(Confirmation.confirmed_at)
                )
            )
            by_party = {p.id: p for p in case.parties}
            data["agreement"] = {
                "version": agreement.version,
                "terms": list(agreement.terms),
                "digest": agreement.digest,
                "confirmed": {c.side for c in confs} >= {"plaintiff", "defendant"},
                "confirmed_at": max((c.confirmed_at for c in confs), default=None)
                and max(c.confirmed_at for c in confs).astimezone(svc.tz),
                "confirmations": [
                    {
                        "side_label": SIDE_LABEL.get(c.side, c.side),
                        "name": by_party[c.party_id].name if c.party_id in by_party else "",
                        "at": c.confirmed_at.astimezone(svc.tz).strftime("%Y-%m-%d %H:%M"),
                    }
                    for c in confs
                ],
            }
    return data


def document_dict(d: Document) -> dict[str, Any]:
    return {
        k: getattr(d, k)
        for k in [
            "id",
            "case_id",
            "template",
            "title",
            "sm3",
            "size_bytes",
            "elements",
            "generated_by",
            "generated_at",
        ]
    }


@router.get(
    "/v1/document-templates",
    response_model=list[TemplateOut],
    responses=problems(401),
    summary="The JSON-defined document templates and their elements",
)
def list_templates(svc: Svc, actor: Caller) -> list[dict[str, Any]]:
    del actor
    return [
        {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "inputs": sorted(t.inputs),
            "elements": [
                {"name": e.name, "label": e.label, "source": e.source, "required": e.required}
                for e in t.elements.values()
            ],
        }
        for t in svc.templates.values()
    ]


def _generate(svc: Services, actor: Actor, case_id: uuid.UUID, body: DocumentIn) -> dict[str, Any]:
    t = svc.templates.get(body.template)
    if t is None:
        raise invalid(
            "document.unknown_template",
            f"template: no template {body.template!r} (known: {', '.join(sorted(svc.templates))})",
        )
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        if t.requires_status and case.status not in t.requires_status:
            raise conflict(
                "document.case_not_ready",
                f"a {t.title} ({t.name}) needs the case to be"
                f" {' or '.join(sorted(t.requires_status))}; it is {case.status}",
            )
        hearing = recipient = mediation = None
        if "hearing" in t.inputs:
            if body.hearing_id is None:
                raise invalid("document.input_missing", f"hearing_id: a {t.name} needs a hearing")
            hearing = s.get(Hearing, body.hearing_id)
            if hearing is None or hearing.case_id != case.id or hearing.status != "scheduled":
                raise not_found(
                    "hearing.not_found",
                    f"case {case_id} has no scheduled hearing {body.hearing_id}",
                )
        if "recipient" in t.inputs:
            if body.party_id is None:
                raise invalid(
                    "document.input_missing", f"party_id: a {t.name} is addressed to a party"
                )
            recipient = next((p for p in case.parties if p.id == body.party_id), None)
            if recipient is None:
                raise not_found("party.not_found", f"case {case_id} has no party {body.party_id}")
        if "mediation" in t.inputs:
            if body.mediation_code is None:
                raise invalid(
                    "document.input_missing", f"mediation_code: a {t.name} needs a mediation"
                )
            mediation = s.scalar(select(Mediation).where(Mediation.code == body.mediation_code))
            if mediation is None or mediation.case_id != case.id:
                raise not_found(
                    "mediation.not_found", f"case {case_id} has no mediation {body.mediation_code}"
                )
        data = case_data(svc, s, case, hearing=hearing, recipient=recipient, mediation=mediation)
    try:
        assembled = assemble(t, data)
    except MissingElement as exc:
        raise conflict(
            "document.missing_element",
            f"{t.title} ({t.name}) needs {exc.label} ({exc.element}, read from {exc.source});"
            " the case does not have it yet",
            element=exc.element,
        ) from None
    content = docx.render(assembled, subject=str(data["case"]["reference"]))
    doc_id = uuid.uuid4()
    key = f"cases/{case_id}/documents/{doc_id}.docx"
    sm3 = hashlib.new("sm3", content).hexdigest()
    try:
        svc.blobs.put(key, content, DOCX, sm3)
    except StorageUnavailable as exc:
        raise Problem(503, "storage.unavailable", "Service unavailable", str(exc)) from None
    try:
        with svc.sessions.begin() as s:
            d = Document(
                id=doc_id,
                case_id=case_id,
                template=t.name,
                title=t.title,
                object_key=key,
                sm3=sm3,
                size_bytes=len(content),
                elements=assembled.elements,
                generated_by=actor.subject,
            )
            s.add(d)
            s.flush()
            audit(
                s,
                actor,
                "document.generated",
                case_id,
                "document",
                doc_id,
                template=t.name,
                sm3=sm3,
            )
            s.flush()
            s.refresh(d)
            out = document_dict(d)
    except BaseException:
        with contextlib.suppress(StorageUnavailable):
            svc.blobs.delete(key)
        raise
    svc.metrics.documents.labels(t.name).inc()
    return out


@router.post(
    "/v1/cases/{case_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    responses=problems(401, 403, 404, 409, 413, 415, 422, 503),
    summary="Generate a document (.docx) from the case's data and a JSON template",
)
async def generate(svc: Svc, actor: Caller, case_id: CaseId, body: DocumentIn) -> dict[str, Any]:
    require(actor, Role.JUDGE, Role.CLERK, Role.MEDIATOR, doing="generating documents")
    return await run_in_threadpool(_generate, svc, actor, case_id, body)


@router.get(
    "/v1/cases/{case_id}/documents",
    response_model=list[DocumentOut],
    responses=problems(401, 404, 422),
    summary="Documents generated for a case",
)
def list_documents(svc: Svc, actor: Caller, case_id: CaseId) -> list[dict[str, Any]]:
    with svc.sessions() as s:
        case, _ = visible_case(s, actor, case_id)
        rows = s.scalars(
            select(Document).where(Document.case_id == case.id).order_by(Document.generated_at)
        )
        return [document_dict(d) for d in rows]


def _document(svc: Services, actor: Actor, document_id: uuid.UUID) -> Document:
    with svc.sessions() as s:
        d = s.get(Document, document_id)
        missing = not_found(
            "document.not_found", f"there is no document {document_id} that you can see"
        )
        if d is None:
            raise missing
        try:
            visible_case(s, actor, d.case_id)
        except Problem:
            raise missing from None
        return d


@router.get(
    "/v1/documents/{document_id}",
    response_model=DocumentOut,
    responses=problems(401, 404, 422),
    summary="A generated document's record",
)
def get_document(svc: Svc, actor: Caller, document_id: uuid.UUID) -> dict[str, Any]:
    return document_dict(_document(svc, actor, document_id))


@router.get(
    "/v1/documents/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}, **problems(401, 404, 422, 503)},
    summary="The .docx itself",
)
def document_content(svc: Svc, actor: Caller, document_id: uuid.UUID) -> Response:
    d = _document(svc, actor, document_id)
    try:
        data = svc.blobs.get(d.object_key)
    except StorageUnavailable as exc:
        raise Problem(503, "storage.unavailable", "Service unavailable", str(exc)) from None
    return Response(
        data,
        media_type=DOCX,
        headers={
            "X-Content-SM3": d.sm3,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'attachment; filename="{d.template}-{d.id}.docx"',
        },
    )
