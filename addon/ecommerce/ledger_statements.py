"""The ledger's prebuilt statements: the Core SELECTs and UPDATEs on its table that
`LedgerRepository` runs on its hot paths (built once, per dialect where an `IN` list differs),
the new rows an insert writes already settled, and `HeldRecord`, what is read of a record to
plan from without loading it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from addon.ecommerce.lookups import one_of
from addon.ecommerce.models import VERDICTS, EntityKind, Fingerprint, SyncRecord, SyncStatus

# The ledger's table, for the statements that skip the ORM (the hot path of every change).
SYNC_RECORDS: Table = SyncRecord.__table__  # type: ignore[assignment]


def locking(statement: Select[Any], locked: bool) -> Select[Any]:
    """`statement`, with `locked` its rows locked until the transaction ends, in id order.

    Every writer of many ledger records takes their locks in one order, id order (as
    `push_queue` marks records pending and a burst's apply reads them), and before it writes
    any: two of them taking overlapping records in their own orders (a batch's planned order,
    say) could each hold a row the other waits for, and PostgreSQL would break the deadlock by
    failing one (a batch's recording, after Mailchimp took it). Across kinds, one order too:
    orders, then products, carts and promo rules (a live order push and a burst of orders)."""
    if not locked:
        return statement
    return statement.order_by(SYNC_RECORDS.c.id).with_for_update()


# `locking`'s order across kinds (a settings save marks its stores' records, then its
# products'; an order push settles its order, then locks its products; a burst of orders its
# carts; a used promo code's rule comes last); customers, which no path locks together with
# others, after them.
KIND_LOCK_ORDER = (
    EntityKind.STORE,
    EntityKind.ORDER,
    EntityKind.PRODUCT,
    EntityKind.CART,
    EntityKind.PROMO_RULE,
    EntityKind.CUSTOMER,
)


def locking_kinds(statement: Select[Any]) -> Select[Any]:
    """`statement` on records of several kinds, locked as `locking` does: kind by kind in
    `KIND_LOCK_ORDER`, each in id order."""
    rank = case(
        {kind.value: index for index, kind in enumerate(KIND_LOCK_ORDER)},
        value=SYNC_RECORDS.c.kind,
        else_=len(KIND_LOCK_ORDER),
    )
    return statement.order_by(rank, SYNC_RECORDS.c.id).with_for_update()


@lru_cache(maxsize=8)
def by_saleor_ids_statement(dialect: str, locked: bool = False) -> Any:
    """`LedgerRepository.by_saleor_ids`' SELECT, built once per dialect. `locked`: the rows
    locked (`locking`), and read afresh into objects the session holds already."""
    statement = select(SyncRecord).where(
        SyncRecord.installation_id == bindparam("installation_id"),
        SyncRecord.channel_slug == bindparam("channel"),
        SyncRecord.kind == bindparam("kind", type_=SyncRecord.kind.type),
        one_of(SYNC_RECORDS.c.saleor_id, "saleor_ids", dialect),
    )
    if locked:
        statement = locking(statement, locked).execution_options(populate_existing=True)
    return statement


@dataclass(frozen=True, slots=True)
class HeldRecord:
    """What a burst plans from of a ledger record (`burst_plan.py`), and the initial sync's
    applier and planner: what Mailchimp holds, and when it was last pushed, read as a Core
    row, no ORM object."""

    status: SyncStatus
    mailchimp_id: str | None
    content_hash: str | None
    children: dict[str, str]
    pushed_at: datetime | None
    updated_at: datetime

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint(self.content_hash, dict(self.children or {}))


def among_ids(dialect: str) -> ColumnElement[bool]:
    """The records of one installation, channel and kind (bound as `of_installation`,
    `channel`, `of_kind`) among the Saleor ids bound as `saleor_ids` (`one_of`): the condition
    of the prebuilt lookups and updates by a list of ids."""
    table = SYNC_RECORDS.c
    return and_(
        table.installation_id == bindparam("of_installation"),
        table.channel_slug == bindparam("channel"),
        table.kind == bindparam("of_kind", type_=table.kind.type),
        one_of(table.saleor_id, "saleor_ids", dialect),
    )


@lru_cache(maxsize=8)
def held_statement(dialect: str, locked: bool = False) -> Any:
    """`LedgerRepository.held_by_saleor_ids`' SELECT, built once per dialect (`locking`)."""
    table = SYNC_RECORDS.c
    held = select(
        table.saleor_id,
        table.status,
        table.mailchimp_id,
        table.content_hash,
        table.children,
        table.pushed_at,
        table.updated_at,
    ).where(among_ids(dialect))
    return locking(held, locked)


@lru_cache(maxsize=8)
def labels_statement(dialect: str, locked: bool = False) -> Any:
    """`LedgerRepository.labels_of`' SELECT, built once per dialect (`locking`)."""
    table = SYNC_RECORDS.c
    labels = select(table.saleor_id, table.id, table.label).where(among_ids(dialect))
    return locking(labels, locked)


@lru_cache(maxsize=4)
def relabel_statement(dialect: str) -> Any:
    """`LedgerRepository.relabel`'s UPDATE, built once per dialect. On PostgreSQL one statement
    for all the records, their ids and labels bound as two arrays (`unnest`): many parameter
    sets, asyncpg runs a statement once per set, 500 executions a burst. On SQLite, in the
    process, a parameter set per record (`record_id`, `new_label`)."""
    if dialect == "postgresql":
        labels = (
            func.unnest(
                bindparam("record_ids", type_=postgresql.ARRAY(Integer)),
                bindparam("new_labels", type_=postgresql.ARRAY(String)),
            )
            .table_valued("record_id", "new_label")
            .render_derived()
        )
        record_id, new_label = labels.c.record_id, labels.c.new_label
    else:
        record_id, new_label = bindparam("record_id"), bindparam("new_label")
    return (
        update(SYNC_RECORDS)
        .where(SYNC_RECORDS.c.id == record_id)
        # Kept as it is (the column's `onupdate` would stamp it).
        .values(label=new_label, updated_at=SYNC_RECORDS.c.updated_at)
    )


def new_rows(
    installation_id: int,
    channel: str,
    kind: EntityKind,
    saleor_ids: Iterable[str],
    now: datetime,
) -> list[dict[str, object]]:
    """The rows of new pending ledger records, as every insert of records writes them."""
    return [
        {
            "installation_id": installation_id,
            "channel_slug": channel,
            "kind": kind,
            "saleor_id": saleor_id,
            "children": {},
            "status": SyncStatus.PENDING,
            "attempts": 0,
            "updated_at": now,
        }
        for saleor_id in saleor_ids
    ]


def settle_new(
    rows: list[dict[str, object]],
    synced: Mapping[str, tuple[str | None, Fingerprint]],
    now: datetime,
) -> None:
    """New ledger rows (`new_rows`) of entities Mailchimp holds written as `SETTLE_SYNCED`
    leaves a record (the label none yet); the others pending, with the same columns (one
    executemany)."""
    for row in rows:
        held = synced.get(str(row["saleor_id"]))
        if held is None:
            row.update(mailchimp_id=None, content_hash=None, pushed_at=None)
            continue
        mailchimp_id, fingerprint = held
        row.update(
            status=SyncStatus.SYNCED,
            mailchimp_id=mailchimp_id,
            content_hash=fingerprint.content_hash,
            children=dict(fingerprint.children),
            pushed_at=now,
            updated_at=now,
        )


# What `settled` writes for a synced record, by the record's id.
SETTLE_SYNCED = (
    update(SYNC_RECORDS)
    .where(SYNC_RECORDS.c.id == bindparam("record_id"))
    .values(
        label=func.coalesce(bindparam("new_label", type_=String), SYNC_RECORDS.c.label),
        status=SyncStatus.SYNCED,
        mailchimp_id=bindparam("new_mailchimp_id"),
        content_hash=bindparam("new_content_hash"),
        children=bindparam("new_children", type_=SYNC_RECORDS.c.children.type),
        attempts=0,
        last_error=None,
        next_attempt_at=None,
        pushed_at=bindparam("now", type_=SYNC_RECORDS.c.pushed_at.type),
        updated_at=bindparam("now", type_=SYNC_RECORDS.c.updated_at.type),
    )
)
# The same for a burst's records Saleor served unchanged, but not one its own push (or a later
# batch) recorded since Saleor was read (`record_states.overtaken`): that one is newer.
_READ_AT = bindparam("read_at", type_=SYNC_RECORDS.c.pushed_at.type)
# The verdicts written into the statement: a list bound as one expanding parameter cannot be
# run with many parameter sets (SQLAlchemy refused it, failing every burst that recorded more
# than one unchanged record on PostgreSQL).
_A_VERDICT = SYNC_RECORDS.c.status.in_([literal_column(f"'{v.value}'") for v in VERDICTS])
SETTLE_SYNCED_UNLESS_OVERTAKEN = SETTLE_SYNCED.where(
    or_(SYNC_RECORDS.c.pushed_at.is_(None), SYNC_RECORDS.c.pushed_at <= _READ_AT),
    ~and_(_A_VERDICT, SYNC_RECORDS.c.updated_at > _READ_AT),
)
