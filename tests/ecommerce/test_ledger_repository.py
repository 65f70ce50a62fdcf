"""The ledger repository's bulk reads and upserts, used by live and initial sync alike: records
found or created many at once, settled, marked pending, inserted synced and relabelled in one
statement, also when another job's row lands meanwhile (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine.interfaces import ExecuteStyle

from addon.ecommerce.fingerprints import Fingerprint
from addon.ecommerce.ledger_statements import SYNC_RECORDS
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.record_states import content_forgotten, quarantined, settled
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.variant_ledger import VariantLedger
from addon.jobs.retry import ERROR_TEXT_LIMIT
from addon.services import Services
from tests.ecommerce.conftest import CHANNEL
from tests.factories import make_installation


async def test_bulk_reads_and_upserts(services: Services) -> None:
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        first = await ledger.get_or_create_many(installation, CHANNEL, EntityKind.PRODUCT, ["a"])
        settled(
            first["a"],
            SyncStatus.SYNCED,
            "1",
            Fingerprint("h", {"11": "x", "12": "y"}),
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        records = await ledger.get_or_create_many(
            installation, CHANNEL, EntityKind.PRODUCT, ["a", "b", "c", "b"]
        )
        assert sorted(records) == ["a", "b", "c"]
        assert records["a"] is first["a"]  # found, not created again
        assert records["b"].status is SyncStatus.PENDING and records["b"].id is not None
        quarantined(records["b"], "x" * (ERROR_TEXT_LIMIT + 10))
        content_forgotten(records["c"], "3", ["31"])
        records["c"].status = SyncStatus.PENDING
    async with services.db.session() as session:
        ledger = VariantLedger(session)
        found = await ledger.by_saleor_ids(
            installation, CHANNEL, EntityKind.PRODUCT, ["a", "b", "c", "zz"]
        )
        assert sorted(found) == ["a", "b", "c"]
        assert found["a"].fingerprint == Fingerprint("h", {"11": "x", "12": "y"})
        assert found["b"].status is SyncStatus.QUARANTINED
        assert len(found["b"].last_error or "") == ERROR_TEXT_LIMIT
        assert found["c"].fingerprint == Fingerprint.unknown(["31"])
        assert await ledger.by_saleor_ids(installation, "other", EntityKind.PRODUCT, ["a"]) == {}
        # A quarantined product's variants cannot be referenced; one being re-pushed (pending
        # with its Mailchimp id) can.
        assert await ledger.available_variants(installation, CHANNEL, ["a", "b", "c"]) == {
            "11",
            "12",
            "31",
        }


async def test_a_record_another_job_created_meanwhile_is_found_not_a_conflict(
    services: Services,
) -> None:
    """On PostgreSQL two jobs can create the same record at once: the second's insert must find
    the first's row, not fail on the unique key (a retry after backoff)."""
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        read = ledger.by_saleor_ids

        async def read_then_the_other_job_inserts(
            *args: Any, **kwargs: Any
        ) -> dict[str, SyncRecord]:
            found = await read(*args, **kwargs)
            if not found:  # this job looked; now the other one's row lands
                row = {"installation_id": installation, "channel_slug": CHANNEL}
                row |= {"kind": EntityKind.PRODUCT, "saleor_id": "a", "label": "theirs"}
                await session.execute(ledger.insert(SyncRecord).values(row))
            return found

        ledger.by_saleor_ids = read_then_the_other_job_inserts  # type: ignore[method-assign]
        record = await ledger.get_or_create(installation, CHANNEL, EntityKind.PRODUCT, "a")
        assert record.label == "theirs" and record.id is not None


async def test_settle_records_what_a_push_established(services: Services) -> None:
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        record: SyncRecord = await ledger.get_or_create(
            installation, CHANNEL, EntityKind.ORDER, "o"
        )
        record.attempts, record.last_error = 3, "boom"
        await ledger.settle(
            installation,
            CHANNEL,
            EntityKind.ORDER,
            "o",
            SyncStatus.SYNCED,
            mailchimp_id="7",
            fingerprint=Fingerprint("h", {"lines": "l"}),
        )
        assert (record.attempts, record.last_error, record.status) == (0, None, SyncStatus.SYNCED)
        assert record.pushed_at is not None
        assert record.fingerprint == Fingerprint("h", {"lines": "l"})


async def test_a_change_marks_its_record_pending_in_one_statement(services: Services) -> None:
    """`mark_pending`: a new record is created pending; an existing one becomes pending (a
    quarantined one with its attempts reset, a synced one keeping them); a copy of the record
    the session holds sees the change."""
    installation = await make_installation(services)
    scope = (installation, CHANNEL, EntityKind.PRODUCT)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        records = await ledger.get_or_create_many(*scope, ["synced", "quarantined"])
        records["synced"].status, records["synced"].attempts = SyncStatus.SYNCED, 2
        quarantined(records["quarantined"], "Mailchimp refused it")
        records["quarantined"].attempts = 5
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        held = (await ledger.by_saleor_ids(*scope, ["quarantined"]))["quarantined"]
        for saleor_id in ("new", "synced", "quarantined"):
            await ledger.mark_pending(*scope, saleor_id)
        assert (held.status, held.attempts) == (SyncStatus.PENDING, 0)
    async with services.db.session() as session:
        found = await LedgerRepository(session).by_saleor_ids(
            *scope, ["new", "synced", "quarantined"]
        )
        assert {k: (r.status, r.attempts) for k, r in found.items()} == {
            "new": (SyncStatus.PENDING, 0),
            "synced": (SyncStatus.PENDING, 2),
            "quarantined": (SyncStatus.PENDING, 0),
        }


async def _rows(services: Services, installation: int, channel: str) -> dict[str, tuple[Any, ...]]:
    """The ledger's rows of the channel's orders by Saleor id, without their ids."""
    async with services.db.session() as session:
        records = await LedgerRepository(session).by_saleor_ids(
            installation, channel, EntityKind.ORDER, ["a", "b", "c", "d"]
        )
    return {
        saleor_id: (
            r.label,
            r.status,
            r.mailchimp_id,
            r.fingerprint,
            r.attempts,
            r.last_error,
            r.next_attempt_at,
            r.pushed_at,
        )
        for saleor_id, r in records.items()
    }


async def test_records_inserted_synced_are_those_an_insert_then_a_settle_would_leave(
    services: Services,
) -> None:
    """An initial sync's applier writes a new record synced at once (`labels_inserting`); the
    ledger holds what inserting it pending and settling it (`labels_of`, `settle_synced`)
    would leave, one that existed is left to `settle_synced`, the others stay pending."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    taken = {"a": ("1", Fingerprint("h", {"lines": "l"})), "c": ("3", Fingerprint.unknown())}
    ids = ["a", "b", "c", "d"]
    leaves = {}
    installation = await make_installation(services)
    for way, channel in (("insert then settle", CHANNEL), ("inserted synced", "other")):
        async with services.db.transaction() as session:
            ledger = LedgerRepository(session)
            # "c" existed, labelled.
            await ledger.labels_of(installation, channel, EntityKind.ORDER, ["c"])
            await session.execute(
                SYNC_RECORDS.update()
                .where(SYNC_RECORDS.c.saleor_id == "c", SYNC_RECORDS.c.channel_slug == channel)
                .values(label="#3")
            )
            if way == "insert then settle":
                labels = await ledger.labels_of(installation, channel, EntityKind.ORDER, ids)
                written: set[str] = set()
            else:
                labels, written = await ledger.labels_inserting(
                    installation, channel, EntityKind.ORDER, ids, taken, now
                )
                assert written == {"a"}
            assert sorted(labels) == ids and labels["c"][1] == "#3"
            await ledger.settle_synced(
                [(*labels[s], None, *taken[s]) for s in taken if s not in written], now
            )
        leaves[way] = await _rows(services, installation, channel)
    assert leaves["inserted synced"] == leaves["insert then settle"]
    assert leaves["inserted synced"]["a"][1:4] == (SyncStatus.SYNCED, "1", taken["a"][1])
    assert leaves["inserted synced"]["b"][1] is SyncStatus.PENDING


async def test_a_record_another_job_inserted_meanwhile_is_not_taken_as_written(
    services: Services,
) -> None:
    """A row skipped on the unique key (another job's, on PostgreSQL) was not written synced:
    `labels_inserting` answers only the rows it inserted as written, so the caller settles
    the other."""
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        execute = session.execute
        landed = False

        async def read_then_the_other_job_inserts(*args: Any, **kwargs: Any) -> Any:
            nonlocal landed
            result = await execute(*args, **kwargs)
            if not landed:  # this job looked; now the other one's row lands
                landed = True
                row = {"installation_id": installation, "channel_slug": CHANNEL}
                row |= {"kind": EntityKind.ORDER, "saleor_id": "b", "label": "theirs"}
                await execute(ledger.insert(SyncRecord).values(row))
            return result

        session.execute = read_then_the_other_job_inserts  # type: ignore[method-assign]
        taken = {"a": ("1", Fingerprint("h")), "b": ("2", Fingerprint("i"))}
        labels, written = await ledger.labels_inserting(
            installation, CHANNEL, EntityKind.ORDER, ["a", "b"], taken
        )
        assert landed and written == {"a"}
        assert sorted(labels) == ["a", "b"] and labels["b"][1] == "theirs"


async def test_settling_without_a_new_label_keeps_the_label_the_row_has(
    services: Services,
) -> None:
    """The label read before a batch went out may be stale by the time it is settled (a live
    push relabelled the record meanwhile): settling with no new label leaves the row's own."""
    installation = await make_installation(services)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        labels = await ledger.labels_of(installation, CHANNEL, EntityKind.ORDER, ["a", "b"])
        (a_id, a_held), (b_id, b_held) = labels["a"], labels["b"]
        await session.execute(
            SYNC_RECORDS.update().where(SYNC_RECORDS.c.id == a_id).values(label="#1 (live)")
        )
        await ledger.settle_synced(
            [
                (a_id, a_held, None, "1", Fingerprint("h")),
                (b_id, b_held, "#2", "2", Fingerprint("i")),
            ],
            now,
        )
    rows = await _rows(services, installation, CHANNEL)
    assert rows["a"][:3] == ("#1 (live)", SyncStatus.SYNCED, "1")
    assert rows["b"][:3] == ("#2", SyncStatus.SYNCED, "2")


async def test_relabelling_writes_every_label_in_one_statement_and_keeps_updated_at(
    services: Services,
) -> None:
    """A burst relabels its records at once: each gets its label, none its `updated_at`
    stamped (no push's verdict), and on PostgreSQL it is one execution, not one per record."""
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        labels = await LedgerRepository(session).labels_of(
            installation, CHANNEL, EntityKind.ORDER, ["a", "b", "c"]
        )
    before = await _updated_at(services)
    styles: list[ExecuteStyle] = []

    def record(*args: Any) -> None:
        if str(args[2]).startswith("UPDATE"):
            styles.append(args[4].execute_style)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with services.db.transaction() as session:
            await LedgerRepository(session).relabel(
                [(labels["a"][0], "#1"), (labels["c"][0], "#3")]
            )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    rows = await _rows(services, installation, CHANNEL)
    assert {saleor_id: row[0] for saleor_id, row in rows.items()} == {
        "a": "#1",
        "b": None,
        "c": "#3",
    }
    assert await _updated_at(services) == before
    if services.db.is_sqlite:
        assert styles == [ExecuteStyle.EXECUTEMANY]
    else:
        assert styles == [ExecuteStyle.EXECUTE]


async def _updated_at(services: Services) -> dict[str, datetime]:
    async with services.db.session() as session:
        rows = await session.execute(select(SYNC_RECORDS.c.saleor_id, SYNC_RECORDS.c.updated_at))
    return {saleor_id: updated_at for saleor_id, updated_at in rows}


async def test_updating_every_record_of_full_pages_writes_no_index_entry(
    services: Services,
) -> None:
    """On PostgreSQL the ledger's pages are half filled (`LEDGER_FILLFACTOR`): records updated
    all at once, as a burst relabels and settles them, get their new versions on their own
    pages (HOT updates: no entry in either index). With full pages every one went elsewhere."""
    if services.db.is_sqlite:
        pytest.skip("PostgreSQL's storage parameters and HOT updates")
    installation = await make_installation(services)
    # Several pages' worth, written as an initial sync writes them (settled at insert), each
    # about as wide as a product's record with its variants.
    saleor_ids = [f"P{n}" for n in range(300)]
    synced = {
        saleor_id: (f"m{n}", Fingerprint("h" * 64, {f"v{n}.{k}": "c" * 64 for k in range(3)}))
        for n, saleor_id in enumerate(saleor_ids)
    }
    async with services.db.transaction() as session:
        labels, _ = await LedgerRepository(session).labels_inserting(
            installation, CHANNEL, EntityKind.PRODUCT, saleor_ids, synced
        )
    # This transaction's counts (the view also shows what the connection did before and has
    # not reported yet: taken before and after).
    counts = text(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables"
        " WHERE relname = 'ecommerce_sync_records'"
    )
    async with services.db.transaction() as session:
        before = (await session.execute(counts)).one()
        await LedgerRepository(session).relabel(
            [(record_id, f"Product {saleor_id}") for saleor_id, (record_id, _) in labels.items()]
        )
        after = (await session.execute(counts)).one()
    updated, hot = after[0] - before[0], after[1] - before[1]
    # With full pages none was (0 of 300); half filled, all but about the last record of each
    # page (271 of 300: a page's records updated in one statement need as much room again).
    assert updated == len(saleor_ids)
    assert hot > 0.8 * updated
