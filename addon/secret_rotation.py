"""`addon rotate-secrets`: every stored secret encrypted again under SECRET_KEY.

After SECRET_KEY changed, its old value in SECRET_KEY_PREVIOUS still decrypts (`SecretBox`), so
the app works while the stored secrets are re-encrypted here; SECRET_KEY_PREVIOUS can go once
none is left under it. The columns are found by their type, `EncryptedSecret`, in every table's
metadata (a secret column added later needs no list kept here), and read and written as the
stored text: the type would decrypt them, and could not tell which key a value was under.

A column is walked in key order, a batch of rows per transaction (short: nothing remote in it),
and a value already under SECRET_KEY is left as it is, so a second run changes nothing. A value
written meanwhile by the app is under SECRET_KEY already: a row is updated only if it still
holds the value read. A value no key decrypts is reported (its table and row key, never the
value) and left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Text, and_, select, tuple_, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

import addon.tables  # noqa: F401  (every table in Base.metadata)
from addon.crypto import KeyFit, SecretBox
from addon.db.base import Base
from addon.db.engine import Database
from addon.db.types import EncryptedSecret

BATCH_ROWS = 200


@dataclass
class TableRotation:
    """What a table's encrypted values were found under (values: a row counts once a column)."""

    table: str
    rotated: int = 0  # under a previous key: re-encrypted (on a dry run, to be)
    current: int = 0  # under SECRET_KEY already
    unreadable: list[str] = field(default_factory=list)  # row keys ("id=3"): no key decrypts

    def line(self, *, dry_run: bool = False) -> str:
        verb = "under a previous key" if dry_run else "re-encrypted"
        line = f"{self.table}: {self.rotated} {verb}, {self.current} already under SECRET_KEY"
        return line + (f", {len(self.unreadable)} unreadable" if self.unreadable else "")


@dataclass(frozen=True)
class Rotation:
    tables: list[TableRotation]

    @property
    def rotated(self) -> int:
        return sum(table.rotated for table in self.tables)

    @property
    def unreadable(self) -> list[str]:
        """Each unreadable value as "<table> <row key>"."""
        return [f"{t.table} {row}" for t in self.tables for row in t.unreadable]


def encrypted_columns() -> list[Column[Any]]:
    """Every `EncryptedSecret` column, table by table (parents first)."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedSecret)
    ]


async def rotate_secrets(db: Database, box: SecretBox, *, dry_run: bool = False) -> Rotation:
    """Re-encrypt under SECRET_KEY every stored secret under a previous key; `dry_run` only
    counts (`addon doctor`)."""
    tables: dict[str, TableRotation] = {}
    for column in encrypted_columns():
        name = column.table.name
        found = tables.setdefault(name, TableRotation(name))
        await _rotate_column(db, box, column, found, dry_run=dry_run)
    return Rotation(list(tables.values()))


async def _rotate_column(
    db: Database, box: SecretBox, column: Column[Any], found: TableRotation, *, dry_run: bool
) -> None:
    keys = list(column.table.primary_key.columns)
    stored = type_coerce(column, Text())  # the ciphertext, not decrypted
    after: Sequence[Any] | None = None
    while True:
        query = select(*keys, stored).where(column.is_not(None)).order_by(*keys)
        if after is not None:
            query = query.where(_after(keys, after))
        async with db.session() if dry_run else db.transaction() as session:
            rows = (await session.execute(query.limit(BATCH_ROWS))).all()
            for row in rows:
                *key, token = row
                fit = box.fit(token)
                if fit is KeyFit.CURRENT:
                    found.current += 1
                elif fit is KeyFit.NONE:
                    found.unreadable.append(_row_key(keys, key))
                elif dry_run or await _replace(session, column, keys, key, token, box):
                    found.rotated += 1
        if len(rows) < BATCH_ROWS:
            return
        after = tuple(rows[-1])[: len(keys)]


def _row_key(keys: list[Column[Any]], key: Sequence[Any]) -> str:
    return ", ".join(f"{column.name}={value}" for column, value in zip(keys, key, strict=True))


def _after(keys: list[Column[Any]], values: Sequence[Any]) -> ColumnElement[bool]:
    if len(keys) == 1:
        first: ColumnElement[bool] = keys[0] > values[0]
        return first
    return tuple_(*keys) > tuple_(*values)


async def _replace(
    session: AsyncSession,
    column: Column[Any],
    keys: list[Column[Any]],
    key: Sequence[Any],
    token: str,
    box: SecretBox,
) -> bool:
    """Whether the row still held `token` and now holds it under SECRET_KEY."""
    stored = type_coerce(column, Text())
    changed = await session.execute(
        update(column.table)
        .where(and_(*(k == v for k, v in zip(keys, key, strict=True))), stored == token)
        .values({column: type_coerce(box.rotate(token), Text())})
    )
    return bool(getattr(changed, "rowcount", 0))
