"""Alembic environment: runs on the connection handed over by addon.db.migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import addon.tables  # noqa: F401  (registers every table)
from addon.db.base import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `addon migrate` (addon.db.migrations.upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER constraints
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
