"""Who may do what: roles from the token, and per-case visibility."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    JUDGE = "judge"
    CLERK = "clerk"
    MEDIATOR = "mediator"
    LITIGANT = "litigant"
    LAWYER = "lawyer"
    PUBLIC = "public"


COURT_STAFF = frozenset({Role.JUDGE, Role.CLERK})
FILERS = frozenset({Role.LITIGANT, Role.LAWYER})


@dataclass(frozen=True)
class Actor:
    """The caller, as the verified token describes them."""

    subject: str
    name: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & COURT_STAFF)

    def role_names(self) -> list[str]:
        return sorted(r.value for r in self.roles)


@dataclass(frozen=True)
class CaseMembership:
    """The people attached to one case, as far as visibility is concerned."""

    filed_by: str
    party_accounts: frozenset[str]
    lawyers: frozenset[str]
    mediators: frozenset[str]
    judge: str | None = None


def can_see_case(actor: Actor, m: CaseMembership) -> bool:
    """Court staff see every case; everyone else only the cases they take part in."""
    if actor.is_staff:
        return True
    s = actor.subject
    if actor.has(Role.MEDIATOR) and s in m.mediators:
        return True
    if actor.has(Role.LITIGANT) and (s == m.filed_by or s in m.party_accounts):
        return True
    return actor.has(Role.LAWYER) and (s == m.filed_by or s in m.lawyers)


def acts_for_parties(actor: Actor, m: CaseMembership) -> bool:
    """A litigant or lawyer who takes part in the case (may pay, upload, confirm)."""
    s = actor.subject
    return (actor.has(Role.LITIGANT) and (s == m.filed_by or s in m.party_accounts)) or (
        actor.has(Role.LAWYER) and (s == m.filed_by or s in m.lawyers)
    )
