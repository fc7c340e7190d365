"""Alembic environment: always given a connection by litigation.store.db.migrate."""

from __future__ import annotations

from alembic import context

from litigation.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - offline SQL generation is not supported
    raise RuntimeError("run migrations through litigation.store.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
