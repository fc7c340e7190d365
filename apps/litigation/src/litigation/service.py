"""The parts one app instance works with, built once at start."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from litigation.auth import TokenVerifier
from litigation.blobs import Blobs
from litigation.chain_client import ChainClient
from litigation.domain.documents import Template
from litigation.domain.roles import Actor
from litigation.observability import Metrics
from litigation.settings import Settings
from litigation.store.db import CaseDatabase
from litigation.store.models import Account, AuditEvent


@dataclass
class Services:
    settings: Settings
    database: CaseDatabase
    blobs: Blobs
    chain: ChainClient
    verifier: TokenVerifier
    templates: dict[str, Template]
    metrics: Metrics
    _known: OrderedDict[tuple[str, str, tuple[str, ...]], None] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def engine(self) -> Engine:
        return self.database.engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on the database as it is now (a standby copy, or the writable leader)."""
        return self.database.sessions

    @property
    def read_only(self) -> bool:
        return self.database.read_only

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def remember_account(self, actor: Actor) -> None:
        """Record (or refresh) the account a verified token describes.

        Accounts already seen with the same name and roles are not written again.
        """
        key = (actor.subject, actor.name, tuple(actor.role_names()))
        if self.read_only:
            return  # a standby copy: recorded where the account next signs in on a leader
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return
        try:
            with self.sessions.begin() as s:
                acct = s.scalar(
                    select(Account).where(Account.subject == actor.subject).with_for_update()
                )
                if acct is None:
                    s.add(Account(subject=actor.subject, name=actor.name, roles=actor.role_names()))
                    action = "account.created"
                elif (acct.name, sorted(acct.roles)) != (actor.name, actor.role_names()):
                    before = {"name": acct.name, "roles": list(acct.roles)}
                    acct.name, acct.roles = actor.name, actor.role_names()
                    action = "account.updated"
                else:
                    action = None
                if action is not None:
                    s.add(
                        AuditEvent(
                            case_id=None,
                            actor_subject=actor.subject,
                            actor_roles=actor.role_names(),
                            action=action,
                            entity="account",
                            entity_id=actor.subject,
                            detail={"name": actor.name, "roles": actor.role_names()}
                            | ({"before": before} if action == "account.updated" else {}),
                        )
                    )
        except IntegrityError:
            pass  # a concurrent first request of the same account created it
        with self._lock:
            self._known[key] = None
            while len(self._known) > 10_000:
                self._known.popitem(last=False)

    def account_name(self, s: Session, subject: str | None) -> str | None:
        if subject is None:
            return None
        return s.scalar(select(Account.name).where(Account.subject == subject))
