"""`IN (...)` lists of a few lengths only, so the database keeps a few statements prepared.

An IN list of n values is rendered as n placeholders: each length is an SQL text of its own,
and SQLite's driver keeps the last 128 texts of each connection prepared (Python's `sqlite3`
statement cache), about 170 bytes a value. Pages counted in varying numbers (members active in
a page, pages waiting for the writer) made a new text nearly every time: the collection's
prepared statements grew with the pages read, 17 MB at 10 k members by 10 campaigns, 41 MB at
100 k, up to 128 statements of as many as 10,000 values on each of the pool's connections.
Padded to `SIZES` (the last value repeated, which an IN list ignores) and cut at the largest,
each query keeps at most `len(SIZES)` texts, about 190 kB, per connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from addon.privacy.erased import erased_hashes

T = TypeVar("T")

SIZES = (100, 1000)
LARGEST = SIZES[-1]


def chunks(values: Iterable[T]) -> list[list[T]]:
    """`values` in lists of at most `LARGEST`, each padded to one of `SIZES` (none if empty)."""
    items = list(values)
    cut = []
    for start in range(0, len(items), LARGEST):
        chunk = items[start : start + LARGEST]
        size = next(s for s in SIZES if s >= len(chunk))
        cut.append(chunk + [chunk[-1]] * (size - len(chunk)))
    return cut


async def erased(
    session: AsyncSession, installation_id: int, hashes: Iterable[str]
) -> dict[str, datetime]:
    """`erased_hashes` of any number of hashes, in padded lists."""
    found: dict[str, datetime] = {}
    for chunk in chunks(sorted(set(hashes))):
        found.update(await erased_hashes(session, installation_id, chunk))
    return found
