"""Queueing a push: one `ecommerce.push` job per ledger record, coalesced and laned by it.

A change only says *what* changed: the record is marked pending and one job, whose
`coalesce_key` and `lane` are both `ledger:<channel>:<kind>:<id>`, is queued. Coalescing merges
every change of one entity that arrives before the push runs into one job (checkouts are
delayed by the debounce window, so a burst of updates becomes one cart push); the lane keeps two
pushes of one entity from ever running at the same time.

`enqueue_pushes` does the same for many records at once (the webhook jobs a worker handles
together): one statement per step instead of a few per record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.ecommerce.ledger_statements import SYNC_RECORDS, HeldRecord, among_ids, new_rows
from addon.ecommerce.lookups import by_ids
from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncStatus
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.stores_repository import StoreRepository
from addon.jobs.inserts import CoalescedJob
from addon.jobs.repository import JobRepository

ALONE_PREFIX = "alone:"


def ledger_key(channel: str, kind: EntityKind, saleor_id: str) -> str:
    return f"{ledger_prefix(channel)}{kind.value}:{saleor_id}"


def ledger_prefix(channel: str) -> str:
    """What the ledger keys (the lanes of the pushes) of the channel's records begin with."""
    return f"ledger:{channel}:"


async def enqueue_push(
    session: AsyncSession,
    installation_id: int,
    channel: str,
    kind: EntityKind,
    saleor_id: str,
    *,
    delay: float = 0.0,
    alone: bool = False,
) -> None:
    """Mark the record pending and queue (or merge into) its push; `alone`: a push of its own
    even during a burst (what a batch could not do), never taken into a batch."""
    await LedgerRepository(session).mark_pending(installation_id, channel, kind, saleor_id)
    key = ledger_key(channel, kind, saleor_id)
    request = PushRequest(channel=channel, kind=kind, saleor_id=saleor_id, alone=alone)
    await JobRepository(session).enqueue(
        installation_id,
        PUSH_JOB,
        request.model_dump(mode="json", exclude_defaults=True),
        # Its own key: a burst takes over pushes by the ledger key's prefix (`burst_queue.py`).
        coalesce_key=f"{ALONE_PREFIX}{key}" if alone else key,
        lane=key,
        run_after=utcnow() + timedelta(seconds=delay),
    )


def push_payload(
    channel: str, kind: EntityKind, saleor_id: str, *, alone: bool = False
) -> dict[str, Any]:
    """A push job's payload: `PushRequest(…).model_dump(mode="json", exclude_defaults=True)`
    written out (a model built and dumped per record cost more than the rest of queueing it
    during a burst)."""
    payload: dict[str, Any] = {"channel": channel, "kind": kind.value, "saleor_id": saleor_id}
    if alone:
        payload["alone"] = True
    return payload


async def enqueue_pushes(
    session: AsyncSession,
    installation_id: int,
    records: Iterable[tuple[str, EntityKind, str]],
    *,
    alone: bool = False,
    delay: float = 0.0,
) -> None:
    """`enqueue_push` for many (channel, kind, Saleor id) records at once: each record marked
    pending and its push queued or merged (due after `delay` seconds), as one by one, in a few
    statements whatever their number."""
    keys = list(dict.fromkeys(records))
    if not keys:
        return
    scopes: dict[tuple[str, EntityKind], list[str]] = {}
    for channel, kind, saleor_id in keys:
        scopes.setdefault((channel, kind), []).append(saleor_id)
    # Scope by scope in one order, whatever the caller's (Python's, not the database's
    # collation): two writers marking records of the same scopes never wait on each other.
    for (channel, kind), saleor_ids in sorted(scopes.items()):
        await _mark_pending_many(session, installation_id, channel, kind, saleor_ids)
    due = utcnow() + timedelta(seconds=delay)
    jobs = []
    for channel, kind, saleor_id in keys:
        key = ledger_key(channel, kind, saleor_id)
        payload = push_payload(channel, kind, saleor_id, alone=alone)
        coalesce_key = f"{ALONE_PREFIX}{key}" if alone else key
        jobs.append(CoalescedJob(installation_id, PUSH_JOB, payload, coalesce_key, key, due))
    await JobRepository(session).enqueue_coalesced(jobs)


async def _mark_pending_many(
    session: AsyncSession,
    installation_id: int,
    channel: str,
    kind: EntityKind,
    saleor_ids: list[str],
) -> None:
    """`LedgerRepository.mark_pending` for many records of one scope: one UPDATE of those
    that exist (locked in id order first, so two workers marking overlapping records wait for
    each other instead of deadlocking), one INSERT of the others, and the UPDATE again for any
    another job inserted meanwhile."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    scope = {"of_installation": installation_id, "channel": channel, "of_kind": kind, "now": now}

    async def mark(ids: list[str]) -> set[str]:
        statement = _mark_pending_statement(dialect)
        marked = await by_ids(session, statement, {**scope, "saleor_ids": ids})
        return set(marked.scalars())

    found = await mark(saleor_ids)
    missing = [saleor_id for saleor_id in saleor_ids if saleor_id not in found]
    if not missing:
        return
    rows = new_rows(installation_id, channel, kind, missing, now)
    # Many parameter sets for one prebuilt statement (SQLAlchemy's "insertmanyvalues": multi-row
    # INSERTs from one compiled form); a VALUES clause of these rows was compiled afresh each time.
    inserted = await session.execute(_new_records_statement(dialect), rows)
    raced = set(missing) - set(inserted.scalars())
    if raced:
        await mark(sorted(raced))  # another job created them: marked as existing ones


@lru_cache(maxsize=4)
def _mark_pending_statement(dialect: str) -> Any:
    """`_mark_pending_many`'s UPDATE, built once per dialect instead of for every group of
    webhooks: the scope and the Saleor ids as parameters, the records locked in id order first."""
    table = SYNC_RECORDS.c
    locked = select(table.id).where(among_ids(dialect)).order_by(table.id).with_for_update()
    return (
        update(SYNC_RECORDS)
        .where(table.id.in_(locked.scalar_subquery()))
        .values(
            status=SyncStatus.PENDING,
            attempts=case((table.status == SyncStatus.QUARANTINED, 0), else_=table.attempts),
            updated_at=bindparam("now", type_=table.updated_at.type),
        )
        .returning(table.saleor_id)
    )


@lru_cache(maxsize=4)
def _new_records_statement(dialect: str) -> Any:
    """Ledger records' INSERT for many parameter sets, answering which were added (a record
    another job created meanwhile adds nothing)."""
    return (
        insert_for(dialect, SYNC_RECORDS)
        .on_conflict_do_nothing(
            index_elements=["installation_id", "channel_slug", "kind", "saleor_id"]
        )
        .returning(SYNC_RECORDS.c.saleor_id)
    )


def request_key(request: PushRequest) -> tuple[str, EntityKind, str]:
    return request.channel, request.kind, request.saleor_id


async def enqueue_stock_pushes(
    session: AsyncSession, installation_id: int, channel: str | None, product_ids: Iterable[str]
) -> None:
    """The pushes of an order's products, for their stock (an order moves it with no product
    webhook), in the order's `channel` (None: one not tracked) and every tracked channel.

    A warehouse serves many channels (`Warehouse.channels` is many-to-many, and a channel's
    stock is that of its warehouses: saleor/warehouse/models.py, `StockQuerySet.for_channel`;
    `ProductVariant.resolve_stocks` in saleor/graphql/product/types/products.py), so an order
    in one channel moves the stock the others show. Which warehouses a channel shares is not
    asked: a channel whose stock did not move costs a Saleor read and no Mailchimp request
    (its push finds the product's fingerprint unchanged)."""
    wanted = list(dict.fromkeys(product_ids))
    if not wanted:
        return
    pushing = set(await StoreRepository(session).pushing_channels(installation_id))
    ledger = LedgerRepository(session)
    records: list[tuple[str, EntityKind, str]] = []
    # (`enqueue_pushes` locks the scopes in its own order, whatever this one.)
    for each in sorted(pushing | ({channel} if channel else set())):
        held = await ledger.held_by_saleor_ids(installation_id, each, EntityKind.PRODUCT, wanted)
        records.extend(
            (each, EntityKind.PRODUCT, product)
            for product in wanted
            if _shows_stock(held.get(product), ordered_in=each == channel)
        )
    await enqueue_pushes(session, installation_id, records)


def _shows_stock(record: HeldRecord | None, *, ordered_in: bool) -> bool:
    """Whether a channel's store shows the product's stock: not a product the channel no longer
    lists, which Mailchimp holds hidden and out of stock whatever its stock (listed again,
    Saleor sends PRODUCT_UPDATED); in a channel other than the order's, one its store holds
    (a product it never had is no stock it shows)."""
    if record is None:
        return ordered_in
    return record.status is not SyncStatus.REMOVED
