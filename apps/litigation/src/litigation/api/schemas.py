"""Request and response bodies, with the limits that keep bad input out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from litigation.domain.mediation import CODE_PATTERN

CLEAN_LINE = r"^[^\x00-\x1f\x7f]*$"  # one line: no control characters
MAX_FEN = 10**15  # ten trillion yuan: more than any claim


def _clean(v: str, *, multiline: bool = False) -> str:
    allowed = {"\n", "\t"} if multiline else set()
    if any((ord(c) < 0x20 and c not in allowed) or ord(c) == 0x7F for c in v):
        raise ValueError("must not contain control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
        raise ValueError("must be valid Unicode text")
    if not v.strip():
        raise ValueError("must not be blank")
    return v.strip()


Line = Annotated[str, Field(min_length=1, max_length=200, pattern=CLEAN_LINE)]
Subject = Annotated[str, Field(min_length=1, max_length=255, pattern=CLEAN_LINE)]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="amount in fen (0.01 yuan)")]
Side = Literal["plaintiff", "defendant", "third_party"]
MediationCode = Annotated[str, Field(pattern=CODE_PATTERN, description="the session's code")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(Strict):
    side: Side
    kind: Literal["person", "organisation"] = "person"
    name: Line
    id_number: Annotated[
        str | None,
        Field(
            pattern=r"^[0-9A-Z]{6,30}$",
            description="resident identity number or unified social credit code",
        ),
    ] = None
    address: Annotated[str | None, Field(max_length=300, pattern=CLEAN_LINE)] = None
    phone: Annotated[str | None, Field(pattern=r"^\+?[0-9][0-9 \-]{4,28}$")] = None
    email: Annotated[
        str | None,
        Field(max_length=200, pattern=r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$"),
    ] = None
    account_subject: Annotated[
        Subject | None, Field(description="the party's account (token 'sub'), if it has one")
    ] = None
    lawyer_subject: Annotated[Subject | None, Field(description="the lawyer's account")] = None
    lawyer_name: Line | None = None

    @field_validator("name", "address", "lawyer_name")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else _clean(v)


class ClaimIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    amount_fen: Fen | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _clean(v, multiline=True)


class FilingIn(Strict):
    """A statement of claim: who sues whom, for what, on which facts."""

    cause: Annotated[Line, Field(description="cause of action, e.g. 网络购物合同纠纷")]
    category: Literal["civil", "administrative"] = "civil"
    facts: Annotated[str, Field(min_length=1, max_length=20000)]
    parties: Annotated[list[PartyIn], Field(min_length=2, max_length=50)]
    claims: Annotated[list[ClaimIn], Field(min_length=1, max_length=50)]

    @field_validator("cause")
    @classmethod
    def _cause(cls, v: str) -> str:
        return _clean(v)

    @field_validator("facts")
    @classmethod
    def _facts(cls, v: str) -> str:
        return _clean(v, multiline=True)

    @field_validator("parties")
    @classmethod
    def _sides(cls, v: list[PartyIn]) -> list[PartyIn]:
        sides = {p.side for p in v}
        if not {"plaintiff", "defendant"} <= sides:
            raise ValueError("name at least one plaintiff and one defendant")
        return v


class PartyOut(BaseModel):
    id: uuid.UUID
    side: str
    kind: str
    name: str
    id_number: str | None
    address: str | None
    phone: str | None
    email: str | None
    account_subject: str | None
    lawyer_subject: str | None
    lawyer_name: str | None


class ClaimOut(BaseModel):
    seq: int
    text: str
    amount_fen: int | None


class FeeOut(BaseModel):
    id: uuid.UUID
    kind: str
    amount_fen: int
    basis: str
    status: str
    assessed_at: datetime
    paid_at: datetime | None


class CaseSummary(BaseModel):
    id: uuid.UUID
    filing_number: str
    case_number: str | None
    cause: str
    category: str
    status: str
    claim_total_fen: int
    filed_by: str
    filed_at: datetime


class CaseOut(CaseSummary):
    facts: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    judge_subject: str | None
    parties: list[PartyOut]
    claims: list[ClaimOut]
    fees: list[FeeOut]


class CaseList(BaseModel):
    items: list[CaseSummary]
    total: int


class DecisionIn(Strict):
    decision: Literal["accept", "reject"]
    reason: Annotated[str, Field(max_length=2000)] = ""
    judge_subject: Subject | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        return _clean(v, multiline=True) if v.strip() else ""


class PaymentIn(Strict):
    fee_id: uuid.UUID
    amount_fen: Annotated[int, Field(gt=0, le=MAX_FEN)]
    channel: Literal["online_bank", "unionpay", "wechat_pay", "alipay", "counter"]
    transaction_reference: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_\-]{6,100}$", description="the payment channel's id")
    ]


class PaymentOut(BaseModel):
    id: uuid.UUID
    fee_id: uuid.UUID
    case_id: uuid.UUID
    amount_fen: int
    channel: str
    transaction_reference: str
    payer_subject: str
    paid_at: datetime


class FileOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    purpose: str
    title: str
    filename: str
    content_type: str
    size_bytes: int
    sm3: str
    storage_number: str | None
    chain_leaf_index: int | None
    chain_integrated_time: str | None
    uploaded_by: str
    uploaded_at: datetime


class EvidenceCheck(BaseModel):
    storage_number: str
    file_id: uuid.UUID
    stored_sm3: str
    recomputed_sm3: str
    file_intact: bool
    chain_verified: bool
    integrated_time: str | None
    failure: dict[str, str] | None


class DocumentIn(Strict):
    template: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
    hearing_id: uuid.UUID | None = None
    party_id: uuid.UUID | None = None
    mediation_code: MediationCode | None = None


class DocumentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    template: str
    title: str
    sm3: str
    size_bytes: int
    elements: dict[str, str]
    generated_by: str
    generated_at: datetime


class TemplateOut(BaseModel):
    name: str
    title: str
    description: str
    inputs: list[str]
    elements: list[dict[str, str | bool | None]]


class ServeIn(Strict):
    document_id: uuid.UUID
    party_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=50)]
    channel: Literal["platform", "sms", "email"] = "platform"


class ServiceOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    document_id: uuid.UUID
    party_id: uuid.UUID
    channel: str
    address: str
    status: str
    sent_by: str
    sent_at: datetime
    receipt_at: datetime | None
    receipt_detail: str | None


class ReceiptIn(Strict):
    status: Literal["delivered", "failed"]
    detail: Annotated[str, Field(max_length=500, pattern=CLEAN_LINE)] = ""


class DeliveryReport(BaseModel):
    since: datetime | None
    until: datetime | None
    total: int
    delivered: int
    failed: int
    pending: int
    delivery_rate: float | None
    by_channel: dict[str, dict[str, int | float | None]]


class MediationIn(Strict):
    mediator_subject: Subject


class AgreementOut(BaseModel):
    version: int
    terms: list[str]
    digest: str
    drafted_by: str
    drafted_at: datetime
    confirmed_sides: list[str]


class MediationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    code: str
    mediator_subject: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    agreement: AgreementOut | None


class AgreementIn(Strict):
    terms: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=2000)]],
        Field(min_length=1, max_length=50),
    ]

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        return [_clean(t, multiline=True) for t in v]


class ConfirmIn(Strict):
    digest: Annotated[
        str,
        Field(pattern=r"^[0-9a-f]{64}$", description="SM3 digest of the draft being confirmed"),
    ]
    party_id: uuid.UUID | None = None


class HearingIn(Strict):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    mode: Literal["online", "in_person"] = "online"
    room: Annotated[str | None, Field(min_length=1, max_length=100, pattern=CLEAN_LINE)] = None
    public: bool = True
    judge_subject: Subject | None = None


class HearingOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    judge_subject: str
    room: str | None
    mode: str
    public: bool
    starts_at: datetime
    ends_at: datetime
    status: str


class PublicHearing(BaseModel):
    case_number: str | None
    cause: str
    starts_at: datetime
    ends_at: datetime
    mode: str
    room: str | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_subject: str
    actor_roles: list[str]
    action: str
    entity: str
    entity_id: str
    detail: dict[str, object]


class AccountOut(BaseModel):
    subject: str
    name: str
    roles: list[str]


class ProblemOut(BaseModel):
    """RFC 9457 problem details; ``code`` is stable and machine-readable."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    code: str


PageLimit = Annotated[int, Field(ge=1, le=200)]
PageOffset = Annotated[int, Field(ge=0, le=1_000_000)]
