"""The case database as SQLAlchemy 2 mappings (the schema itself lives in migrations)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

TS = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Account(Base):
    """Someone who signs in: the identity provider's subject, name and roles."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    filing_number: Mapped[str] = mapped_column(String(40), unique=True)
    case_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    cause: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    claim_total_fen: Mapped[int] = mapped_column(BigInteger)
    facts: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(255), index=True)
    filed_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(TS)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    judge_subject: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())

    parties: Mapped[list[Party]] = relationship(
        back_populates="case", order_by="Party.seq", lazy="selectin"
    )
    claims: Mapped[list[Claim]] = relationship(order_by="Claim.seq", lazy="selectin")


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(40), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    account_subject: Mapped[str | None] = mapped_column(String(255), index=True)
    lawyer_subject: Mapped[str | None] = mapped_column(String(255), index=True)
    lawyer_name: Mapped[str | None] = mapped_column(String(200))
    case: Mapped[Case] = relationship(back_populates="parties")


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)


class CaseNumberCounter(Base):
    """The last sequence number given out per year and category (for case numbers)."""

    __tablename__ = "case_number_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class StoredFile(Base):
    """A file in object storage: an attachment, a piece of evidence or a document."""

    __tablename__ = "files"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sm3: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    storage_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    chain_leaf_index: Mapped[int | None] = mapped_column(BigInteger)
    chain_integrated_time: Mapped[str | None] = mapped_column(String(40))
    uploaded_by: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Fee(Base):
    __tablename__ = "fees"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    assessed_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    paid_at: Mapped[datetime | None] = mapped_column(TS)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    fee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("fees.id"), index=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(40))
    transaction_reference: Mapped[str] = mapped_column(String(100), unique=True)
    payer_subject: Mapped[str] = mapped_column(String(255))
    paid_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Document(Base):
    """A generated document (.docx in object storage) and what it was made from."""

    __tablename__ = "documents"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    template: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    sm3: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    elements: Mapped[dict[str, Any]] = mapped_column(JSONB)
    generated_by: Mapped[str] = mapped_column(String(255))
    generated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Service(Base):
    """Electronic service of one document on one party, and its delivery receipt."""

    __tablename__ = "services"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    sent_by: Mapped[str] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(TS, server_default=func.now(), index=True)
    receipt_at: Mapped[datetime | None] = mapped_column(TS)
    receipt_detail: Mapped[str | None] = mapped_column(Text)


class Mediation(Base):
    __tablename__ = "mediations"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    mediator_subject: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(TS)


class Agreement(Base):
    """One draft of a mediation agreement; a new draft voids earlier confirmations."""

    __tablename__ = "mediation_agreements"
    __table_args__ = (UniqueConstraint("mediation_id", "version"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    mediation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mediations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    terms: Mapped[list[str]] = mapped_column(JSONB)
    digest: Mapped[str] = mapped_column(String(64))
    drafted_by: Mapped[str] = mapped_column(String(255))
    drafted_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Confirmation(Base):
    __tablename__ = "agreement_confirmations"
    __table_args__ = (UniqueConstraint("agreement_id", "side"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mediation_agreements.id"))
    side: Mapped[str] = mapped_column(String(20))
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"))
    subject: Mapped[str] = mapped_column(String(255))
    digest: Mapped[str] = mapped_column(String(64))
    confirmed_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class Hearing(Base):
    __tablename__ = "hearings"
    __table_args__ = (Index("ix_hearings_period", "starts_at", "ends_at"),)
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    judge_subject: Mapped[str] = mapped_column(String(255))
    room: Mapped[str | None] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean)
    starts_at: Mapped[datetime] = mapped_column(TS)
    ends_at: Mapped[datetime] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(20))
    scheduled_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


class AuditEvent(Base):
    """One change, written in the same transaction as the change itself."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    actor_subject: Mapped[str] = mapped_column(String(255))
    actor_roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
