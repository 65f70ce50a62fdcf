"""Every row of every table of the app, searched for an address (compressed columns
decompressed): what an erasure must leave without it."""

from __future__ import annotations

import contextlib
import json
import zlib
from typing import Any

from sqlalchemy import select

from addon import tables  # noqa: F401  (every table in Base.metadata)
from addon.db.base import Base
from addon.services import Services


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        return raw.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


async def rows_naming(services: Services, address: str) -> list[str]:
    """ "table.column" of each value that holds `address` (any case)."""
    wanted = address.lower()
    found = []
    async with services.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if wanted in _text(value).lower():
                        found.append(f"{table.name}.{column}")
    return found


async def table_names(services: Services) -> list[str]:
    return [table.name for table in Base.metadata.sorted_tables]
