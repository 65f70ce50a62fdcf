"""Bounds of the ids the API takes from paths, queries and bodies.

An id beyond its column's range can never name a row, and the database drivers refuse it with an
error (SQLite: OverflowError past 64 bits; PostgreSQL: out of range for INTEGER past 32 bits)
instead of finding nothing. Bounding ids at the edge answers such requests with a 422 before any
query runs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Primary keys declared INTEGER: 32-bit on PostgreSQL (64-bit on SQLite).
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# Primary keys declared BIGINT (the job queue's).
BigDbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
