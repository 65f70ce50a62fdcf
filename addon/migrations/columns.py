"""The column sets the migrations repeat: an installation's tables, their keys and timestamps.

Every helper builds exactly what the migrations wrote out by hand before (same names, types,
order and constraint names), so a migration's DDL does not depend on whether it uses them. Keep
them that way: a migration that has run must never change what it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def id_column() -> sa.Column[Any]:
    return sa.Column("id", sa.Integer(), nullable=False)


def installation_id(*, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column("installation_id", sa.Integer(), nullable=nullable)


def timestamp(name: str, *, nullable: bool) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def status() -> sa.Column[Any]:
    """A row's state, one of its model's enumerated values."""
    return sa.Column("status", sa.String(length=20), nullable=False)


def list_id() -> sa.Column[Any]:
    """A Mailchimp audience's id."""
    return sa.Column("list_id", sa.String(length=64), nullable=False)


def channel_slug() -> sa.Column[Any]:
    """A Saleor channel's slug."""
    return sa.Column("channel_slug", sa.String(length=255), nullable=False)


def updated_at() -> sa.Column[Any]:
    return timestamp("updated_at", nullable=False)


def cascade_fk(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    """`column` holds the id of a row of `parent`; deleting that row deletes this one."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{parent}.id"],
        name=op.f(f"fk_{table}_{column}_{parent}"),
        ondelete="CASCADE",
    )


def installation_fk(table: str) -> sa.ForeignKeyConstraint:
    """The installation a row belongs to; deleting the installation deletes the row."""
    return cascade_fk(table, "installation_id", "installations")


def primary_key(table: str, column: str = "id") -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(column, name=op.f(f"pk_{table}"))


def create_installation_table(
    table: str,
    *columns: sa.Column[Any],
    keyed_by_installation: bool = False,
    unique: Sequence[str] = (),
    unique_name: str | None = None,
    parent: tuple[str, str] | None = None,
) -> None:
    """Create `table` owned by an installation: an integer `id` key then `installation_id` (or
    `installation_id` alone as the key: one row per installation), then `columns`; then the
    cascading foreign key to the installation, the one to a `parent` row (column, table) and
    `unique`: columns unique within the installation (the constraint named after its columns
    unless `unique_name`). Constraints are created in that order, the order DDL lists them in."""
    key = "installation_id" if keyed_by_installation else "id"
    own = [installation_id()] if keyed_by_installation else [id_column(), installation_id()]
    constraints: list[sa.Constraint] = [installation_fk(table), primary_key(table, key)]
    if parent:
        constraints.append(cascade_fk(table, *parent))
    if unique:
        unique_columns = ("installation_id", *unique)
        name = unique_name or op.f(f"uq_{table}_{'_'.join(unique_columns)}")
        constraints.append(sa.UniqueConstraint(*unique_columns, name=name))
    op.create_table(table, *own, *columns, *constraints)


def create_installation_index(table: str) -> None:
    op.create_index(op.f(f"ix_{table}_installation_id"), table, ["installation_id"], unique=False)


def drop_installation_index(table: str) -> None:
    op.drop_index(op.f(f"ix_{table}_installation_id"), table_name=table)
