"""An audience's members read from Mailchimp (`collector.py`): their rating and tags in it, a
page at a time, and on a full read, those it no longer lists forgotten.

A full read must remember every member it saw until its last page. It kept a set of their
subscriber hashes (about 130 bytes a member) and forgetting read every member's row at once:
23 MB of objects at 30 k members, the worker's peak growing with the audience. The read keeps a
bit per member row (`RowIds`: 125 kB at a million) and forgetting reads `FORGET_PAGE` members
at a time.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.engagement import in_lists
from addon.engagement.models import EngagementMember
from addon.engagement.store import bulk_update, member_ids
from addon.mailchimp import subscriber_hash
from addon.mailchimp.campaigns import EngagementMember as MailchimpMember

FORGET_PAGE = 1000  # members read at a time by `forget_audience`


class RowIds:
    """A set of row ids (non-negative integers), a bit each between the lowest and the highest
    added: compact for the dense ids of a table's rows."""

    __slots__ = ("_base", "_bits", "_count")

    def __init__(self) -> None:
        self._base = 0  # the id of bit 0 of `_bits[0]` (a multiple of 8)
        self._bits = bytearray()
        self._count = 0

    def add(self, row_id: int) -> None:
        if row_id < 0:
            raise ValueError(f"Row id {row_id} is negative")
        start = row_id & ~7
        if not self._bits:
            self._base = start
        elif start < self._base:
            self._bits[:0] = bytes((self._base - start) // 8)  # a new lowest: a few kB moved
            self._base = start
        byte, bit = divmod(row_id - self._base, 8)
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits)))
        if not self._bits[byte] >> bit & 1:
            self._bits[byte] |= 1 << bit
            self._count += 1

    def update(self, row_ids: Iterable[int]) -> None:
        for row_id in row_ids:
            self.add(row_id)

    def __contains__(self, row_id: object) -> bool:
        if not isinstance(row_id, int) or row_id < self._base:
            return False
        byte, bit = divmod(row_id - self._base, 8)
        return byte < len(self._bits) and bool(self._bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """The memory its bits take (what the tests bound)."""
        return len(self._bits)


async def apply_members(
    session: AsyncSession,
    installation_id: int,
    list_id: str,
    members: Sequence[MailchimpMember],
    *,
    listed: RowIds | None = None,
) -> int:
    """One page of an audience's members: their rating and tags in it (marked changed only
    where they differ). An address in several audiences is rated in each: `member_rating` is
    the highest, whichever audience is read last. `listed` (a full read) gets the rows of those
    not archived, for `forget_audience`."""
    keyed = [(subscriber_hash(m.email_address), m) for m in members]
    listed_count = len(dict(keyed))
    erased = await in_lists.erased(session, installation_id, (key for key, _ in keyed))
    # An erased address's rating and tags are not made again, as its activity and orders are
    # not (`activity.apply_activity`, `store.apply_orders`): another account connected since
    # still lists it. Unless it changed there since (added again, a new relationship).
    keyed = [(key, m) for key, m in keyed if not _erased_since(erased.get(key), m.last_changed)]
    seen = dict(keyed)
    ids = await member_ids(session, installation_id, seen)
    if listed is not None:
        listed.update(ids[key] for key, m in keyed if m.status != "archived")
    model = EngagementMember
    read = select(model.id, model.email_hash, model.ratings, model.tags)
    rows = [
        found
        for chunk in in_lists.chunks(sorted(ids.values()))
        for found in await session.execute(read.where(model.id.in_(chunk)))
    ]
    now = utcnow()
    updates = []
    for member_id, key, ratings, tags in rows:
        member = seen[key]
        # An archived contact has left the audience: its rating and tags there go.
        gone = member.status == "archived"
        names = [] if gone else sorted(t.name for t in member.tags)
        rating = None if gone else member.member_rating
        current = dict(tags or {})
        rated = dict(ratings or {})
        if rated.get(list_id) == rating and current.get(list_id, []) == names:
            continue
        if names or list_id in current:
            current[list_id] = names  # [] once emptied: the key in Saleor is overwritten
        if rating is None:
            rated.pop(list_id, None)
        else:
            rated[list_id] = rating
        updates.append(_changed_row(member_id, rated, current, now))
    if updates:
        await bulk_update(session, updates)
    return listed_count


def _erased_since(erased_at: datetime | None, last_changed: datetime | None) -> bool:
    """Whether the member is as it was when its address was erased here (not changed since)."""
    return erased_at is not None and (last_changed is None or last_changed <= erased_at)


def _changed_row(
    member_id: int, rated: dict[str, int], tags: dict[str, list[str]], now: datetime
) -> dict[str, Any]:
    """A member's new ratings and tags, its rating the highest of them, marked changed."""
    return {
        "id": member_id,
        "ratings": rated,
        "member_rating": max(rated.values()) if rated else None,
        "tags": tags,
        "changed": True,
        "updated_at": now,
    }


async def forget_audience(
    session: AsyncSession,
    installation_id: int,
    list_id: str,
    *,
    listed: Container[int] = frozenset(),
) -> int:
    """Members' rating and tags in `list_id` dropped, but for the member rows `listed`: the
    audience is no longer read (made inactive in the app), or a full read of it no longer lists
    them (deleted or archived there). Else the highest rating stays whatever they are rated now,
    and the tags they no longer carry stay in Saleor. Returns how many members changed.

    Read `FORGET_PAGE` members at a time, in the order of the unique (installation, hash)
    index (by id, SQLite sorted all of the installation's members for each page): all of them
    at once held a million members' rows in memory."""
    member = EngagementMember
    changed = 0
    after = ""  # hashes are hex: every one sorts after it
    while True:
        rows = (
            await session.execute(
                select(member.id, member.email_hash, member.ratings, member.tags)
                .where(member.installation_id == installation_id, member.email_hash > after)
                .order_by(member.email_hash)
                .limit(FORGET_PAGE)
            )
        ).all()
        if not rows:
            return changed
        after = rows[-1].email_hash
        now = utcnow()
        updates = []
        for member_id, _, ratings, tags in rows:
            rated, current = dict(ratings or {}), dict(tags or {})
            if member_id in listed or (list_id not in rated and not current.get(list_id)):
                continue
            rated.pop(list_id, None)
            if list_id in current:
                current[list_id] = []  # the key in Saleor is overwritten (see apply_members)
            updates.append(_changed_row(member_id, rated, current, now))
        if updates:
            await bulk_update(session, updates)
            changed += len(updates)
