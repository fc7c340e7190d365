"""Hearing conflicts: one judge, one room, one party cannot be in two places at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Slot:
    hearing_id: str
    case_id: str
    case_number: str | None
    judge: str
    room: str | None
    starts_at: datetime
    ends_at: datetime
    participants: frozenset[str]  # party identities and lawyer accounts


@dataclass(frozen=True)
class Conflict:
    kind: str  # judge | room | party
    hearing_id: str
    case_number: str | None
    starts_at: datetime
    ends_at: datetime
    who: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "hearing_id": self.hearing_id,
            "case_number": self.case_number,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "who": self.who,
        }


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: a hearing ending at 10:00 does not clash with one at 10:00."""
    return a_start < b_end and b_start < a_end


def conflicts(proposed: Slot, existing: list[Slot]) -> list[Conflict]:
    out: list[Conflict] = []
    for h in existing:
        if h.hearing_id == proposed.hearing_id:
            continue
        if not overlaps(proposed.starts_at, proposed.ends_at, h.starts_at, h.ends_at):
            continue

        def add(kind: str, who: str, h: Slot = h) -> None:
            out.append(Conflict(kind, h.hearing_id, h.case_number, h.starts_at, h.ends_at, who))

        if h.judge == proposed.judge:
            add("judge", proposed.judge)
        if proposed.room is not None and h.room == proposed.room:
            add("room", proposed.room)
        if h.case_id != proposed.case_id:
            for who in sorted(proposed.participants & h.participants):
                add("party", who)
    return out


def party_identity(id_number: str | None, name: str) -> str:
    """The key two cases share when the same person or body is a party in both."""
    if id_number:
        return "id:" + id_number.strip().upper()
    return "name:" + " ".join(name.split())
