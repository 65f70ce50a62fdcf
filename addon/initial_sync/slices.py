"""Slices of a kind's history by creation time, read side by side.

Customers and orders are read as up to `INITIAL_SYNC_READ_SLICES` slices, each a half-open range
`[start, end)` of creation time with its own Saleor cursor (kept in the run's `streams` with the
batch it fed, so a resumed sync goes on where each slice was). The bounds split evenly the time
between the oldest and the newest entity (`Reader.bounds`, one request); the first slice is open
below (or starts at `orders_since`) and the last open above, so every entity, even one created
while the sync runs, falls in exactly one slice. Products are one unbounded slice (orders wait
for all of them anyway).

How a slice reaches Saleor (both filters take inclusive bounds: `filter_range_field`,
saleor/graphql/utils/filters.py; the Saleor sandbox models them, sandboxes/saleor/created_range):

* by instant, `orders(where: {createdAt})` (Saleor 3.22+): `gte` start, `lte` end - 1 µs (Saleor
  stores times to the microsecond), so adjacent slices share no instant;
* by UTC day, the deprecated `filter: {created}` / `filter: {dateJoined}` (every supported
  Saleor; customers always, see `order_instants`): the cuts are rounded down to midnights, and a
  slice asks for the days from its start's to the day before its end.

A node outside its slice is dropped (`Slice.holds`): a guard, the filters above already
partition, except before `orders_since` under a day filter (the first day's earlier orders).

Every page document sorts oldest first (`sortBy: {field: CREATED_AT, direction: ASC}`, the same
sort on every supported Saleor): an entity created while the sync runs is the newest, in the last
slice (open above), listed after every other, so it is read. Saleor's default order would skip
it once the reading has passed it: orders by `-number` (the newest first), customers by e-mail,
products by slug (the models' `Meta.ordering`, `sort_queryset_by_default` in
saleor/graphql/utils/sorting.py).

A cursor is a position in one sort only: it holds the sort's field values
(saleor/graphql/core/connection.py `to_global_cursor`). A slice's JSON says which sort its
cursor is in (`order`); one recorded before the documents sorted (no `order`) is a position in
Saleor's default order, which Saleor refuses with `sortBy` ("Received cursor is invalid.": the
fields differ in number, or a value does not fit its field) or would misread, so such a slice is
read again from its start (`Slice.position`: its pushes are idempotent through the ledger, an
entity sent already is skipped or handed to live sync; its total, counted already, is not asked
for again). A cursor of ours that Saleor refuses all the same (the fields of
`OrderSortField.CREATED_AT` changed in 3.22.0: saleor/graphql/order/sorters.py) restarts its
slice likewise (`Reader.page`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.models import EntityKind
from addon.installations.models import Installation
from addon.saleor.versions import has_order_where, parse_version

ONE_MICROSECOND = timedelta(microseconds=1)

# Per kind: the node's creation field, and the document of a slice read by instant / by day /
# unbounded. Customers have no instant document (`customers(where:)` needs Saleor 3.22 too;
# the day filter serves every version).
CREATED_FIELD = {EntityKind.ORDER: "created", EntityKind.CUSTOMER: "dateJoined"}
# The sort the documents read in, as a slice's JSON names its cursor's (see the docstring).
BY_CREATION = "created-asc"


@dataclass(frozen=True)
class Slice:
    """Entities created in `[start, end)` (None: unbounded), and where their reading is: the
    cursor of the last page read, in the sort `order` (None: Saleor's default order)."""

    start: datetime | None = None
    end: datetime | None = None
    cursor: str | None = None
    done: bool = False
    order: str | None = BY_CREATION

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def position(self) -> str | None:
        """The cursor to read on after (None: from the slice's start): only one of the sort the
        documents read in (see the module docstring)."""
        return self.cursor if self.order == BY_CREATION else None

    @property
    def begun(self) -> bool:
        """Whether a page of it was read (its total counted), in whatever sort."""
        return self.cursor is not None

    def holds(self, created: datetime) -> bool:
        return (self.start is None or created >= self.start) and (
            self.end is None or created < self.end
        )

    def read_to(self, cursor: str | None, done: bool) -> Slice:
        return replace(self, cursor=cursor, done=done, order=BY_CREATION)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "cursor": self.cursor,
            "done": self.done,
            "order": self.order,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Slice:
        """A slice as recorded; without `order`, one recorded before the documents sorted: its
        cursor is in Saleor's default order."""
        return cls(
            parse_time(data.get("start")),
            parse_time(data.get("end")),
            data.get("cursor"),
            bool(data.get("done")),
            data.get("order"),
        )


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from Saleor's ISO text (naive ones are UTC); None if absent."""
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def created_of(kind: EntityKind, node: dict[str, Any]) -> datetime | None:
    field = CREATED_FIELD.get(kind)
    return parse_time(node.get(field)) if field else None


def _midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


def split(
    oldest: datetime | None,
    newest: datetime | None,
    count: int,
    *,
    by_day: bool,
    since: datetime | None = None,
) -> tuple[Slice, ...]:
    """Up to `count` slices covering everything from `since` (or the beginning) on; the cuts
    split `[max(oldest, since), newest]` evenly (midnights when Saleor filters by day)."""
    low = max(oldest, since) if oldest is not None and since is not None else oldest
    cuts: list[datetime] = []
    if low is not None and newest is not None and newest > low and count > 1:
        width = (newest - low) / count
        for index in range(1, count):
            cut = low + width * index
            cuts.append(_midnight(cut) if by_day else cut)
    # Strictly increasing, after the first slice's start (a midnight may fall before it).
    floor = since or low
    cuts = sorted({cut for cut in cuts if floor is None or cut > floor})
    starts: list[datetime | None] = [since, *cuts]
    ends: list[datetime | None] = [*cuts, None]
    return tuple(Slice(start, end) for start, end in zip(starts, ends, strict=True))


def order_filter(piece: Slice, by_instant: bool) -> tuple[str, dict[str, Any]]:
    """The orders document and filter variables of a slice."""
    if not piece.bounded:
        return "initial_sync_orders", {}
    if by_instant:
        bounds = {
            "gte": piece.start.isoformat() if piece.start else None,
            "lte": (piece.end - ONE_MICROSECOND).isoformat() if piece.end else None,
        }
        return "initial_sync_orders_since", {"where": {"createdAt": _present(bounds)}}
    return "initial_sync_orders_since_day", {"filter": {"created": _days(piece)}}


def customer_filter(piece: Slice) -> tuple[str, dict[str, Any]]:
    """The customers document and filter variables of a slice."""
    if not piece.bounded:
        return "initial_sync_customers", {}
    return "initial_sync_customers_day", {"filter": {"dateJoined": _days(piece)}}


def _days(piece: Slice) -> dict[str, str]:
    # A cut is a midnight: the slice ends with the day before it.
    return _present(
        {
            "gte": piece.start.astimezone(UTC).date().isoformat() if piece.start else None,
            "lte": (piece.end - ONE_MICROSECOND).astimezone(UTC).date().isoformat()
            if piece.end
            else None,
        }
    )


def _present(bounds: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in bounds.items() if value is not None}


async def order_instants(session: AsyncSession, installation_id: int) -> bool:
    """Whether the installation's Saleor filters orders by instant (`where`, 3.22+). Where the
    version is not known yet, no: every supported Saleor serves the day filter (deprecated
    since 3.22, still answered)."""
    installation = await session.get(Installation, installation_id)
    return has_order_where(parse_version(installation.saleor_version if installation else None))
