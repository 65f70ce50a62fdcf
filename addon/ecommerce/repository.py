"""Queries on the sync ledger (`LedgerRepository`): its records read (`ledger_reads.py`),
created, settled, queued again and forgotten."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from addon.db.types import utcnow
from addon.ecommerce.ledger_reads import LedgerReads
from addon.ecommerce.ledger_statements import (
    SETTLE_SYNCED,
    SETTLE_SYNCED_UNLESS_OVERTAKEN,
    SYNC_RECORDS,
    labels_statement,
    locking_kinds,
    new_rows,
    relabel_statement,
    settle_new,
)
from addon.ecommerce.lookups import by_ids
from addon.ecommerce.models import (
    HIDDEN_VARIANT,
    BurstBatch,
    EntityKind,
    Fingerprint,
    SyncRecord,
    SyncStatus,
    hidden_variants,
    told_parts,
)
from addon.ecommerce.record_states import settled

# Rows per INSERT of new ledger records (8 parameters each, well under PostgreSQL's 32,767).
INSERT_ROWS = 1000


class LedgerRepository(LedgerReads):
    async def get_or_create(
        self, installation_id: int, channel: str, kind: EntityKind, saleor_id: str
    ) -> SyncRecord:
        records = await self.get_or_create_many(installation_id, channel, kind, [saleor_id])
        return records[saleor_id]

    def _insert_new(self) -> Any:
        """Insert pending records (the rows given as parameters: one statement compiled once
        and cached, sent as an executemany, where a multi-row VALUES compiles anew for each
        count of rows), skipping those another job created meanwhile (on PostgreSQL jobs run
        in parallel) instead of failing on the unique key."""
        # Core (the table, not the model): a cursor result, with its rowcount.
        return self.insert(SYNC_RECORDS).on_conflict_do_nothing(
            index_elements=["installation_id", "channel_slug", "kind", "saleor_id"]
        )

    async def get_or_create_many(
        self,
        installation_id: int,
        channel: str,
        kind: EntityKind,
        saleor_ids: Collection[str],
        *,
        locked: bool = False,
    ) -> dict[str, SyncRecord]:
        """The records of these entities, new pending ones inserted for those without (one read,
        one insert per thousand new, one read of those). The insert skips a record another job
        created in the meantime (on PostgreSQL jobs run in parallel), instead of failing on
        the unique key and waiting out a retry. `locked`: as `by_saleor_ids`."""
        scope = (installation_id, channel, kind)
        records = await self.by_saleor_ids(*scope, saleor_ids, locked=locked)
        missing = [saleor_id for saleor_id in dict.fromkeys(saleor_ids) if saleor_id not in records]
        for start in range(0, len(missing), INSERT_ROWS):
            rows = new_rows(
                installation_id, channel, kind, missing[start : start + INSERT_ROWS], utcnow()
            )
            await self.session.execute(self._insert_new(), rows)
        if missing:
            records.update(await self.by_saleor_ids(*scope, missing, locked=locked))
        return records

    async def labels_of(
        self,
        installation_id: int,
        channel: str,
        kind: EntityKind,
        saleor_ids: Collection[str],
        *,
        locked: bool = False,
    ) -> dict[str, tuple[int, str | None]]:
        """Each record's id and label, by Saleor id, new pending records inserted for those
        without (as `get_or_create_many`, no record loaded: Core rows of two columns);
        `locked`: as `by_saleor_ids`."""
        scope = (installation_id, channel, kind)
        labels, _ = await self.labels_inserting(*scope, saleor_ids, {}, locked=locked)
        return labels

    async def labels_inserting(
        self,
        installation_id: int,
        channel: str,
        kind: EntityKind,
        saleor_ids: Collection[str],
        synced: Mapping[str, tuple[str | None, Fingerprint]],
        now: datetime | None = None,
        *,
        locked: bool = False,
    ) -> tuple[dict[str, tuple[int, str | None]], set[str]]:
        """`labels_of`, where a record inserted for an entity of `synced` (Saleor id → Mailchimp
        id, fingerprint) is written at once as `settle_synced` would write it (pushed at `now`),
        not pending to be updated next; also answers which were so written, so only the others
        need `settle_synced` (an initial sync's batch of new records: one INSERT, no UPDATE).
        `locked`: as `by_saleor_ids` (those inserted are this transaction's anyway)."""
        parameters = {
            "of_installation": installation_id,
            "channel": channel,
            "of_kind": kind,
        }
        statement = labels_statement(self.dialect, locked)

        async def read(ids: list[str]) -> dict[str, tuple[int, str | None]]:
            rows = await by_ids(self.session, statement, {**parameters, "saleor_ids": ids})
            return {row.saleor_id: (row.id, row.label) for row in rows}

        wanted = list(dict.fromkeys(saleor_ids))
        if not wanted:
            return {}, set()
        found = await read(wanted)
        missing = [saleor_id for saleor_id in wanted if saleor_id not in found]
        written: set[str] = set()
        for start in range(0, len(missing), INSERT_ROWS):
            rows = new_rows(
                installation_id, channel, kind, missing[start : start + INSERT_ROWS], utcnow()
            )
            if not synced:
                await self.session.execute(self._insert_new(), rows)
                continue
            settle_new(rows, synced, now or utcnow())
            # The rows this insert wrote, by RETURNING: one another job inserted meanwhile was
            # skipped on the unique key, and is settled as any existing record. (Not a row
            # count: asyncpg does not tell one for many parameter sets.)
            inserting = self._insert_new().returning(SYNC_RECORDS.c.saleor_id)
            result = await self.session.execute(inserting, rows)
            written.update(s for s in result.scalars() if s in synced)
        if missing:
            found.update(await read(missing))
        return found, written

    async def relabel(self, labels: Sequence[tuple[int, str]]) -> None:
        """New labels (record id, label), `updated_at` kept: no push's verdict (one UPDATE,
        `relabel_statement`)."""
        if not labels:
            return
        statement = relabel_statement(self.dialect)
        if self.dialect == "postgresql":
            ids, names = zip(*labels, strict=True)
            await self.session.execute(statement, {"record_ids": ids, "new_labels": names})
            return
        rows = [{"record_id": record_id, "new_label": label} for record_id, label in labels]
        await self.session.execute(statement, rows)

    async def settle_synced(
        self,
        records: Sequence[tuple[int, str | None, str | None, str | None, Fingerprint]],
        now: datetime,
        *,
        read_at: datetime | None = None,
    ) -> None:
        """`settled(…, SYNCED, …, pushed_at=now)` for records (id, label held, new label or
        None, Mailchimp id, fingerprint) whose content Mailchimp holds, with their new label
        (one UPDATE with a parameter set each, no record loaded). Without a new label the row
        keeps the one it has, not the one read earlier: a live push may have relabelled it
        meanwhile (on PostgreSQL jobs run side by side). `read_at`: when their content was
        read from Saleor; a record pushed since is left as that push recorded it."""
        if not records:
            return
        rows = [
            {
                "record_id": record_id,
                "new_label": label,
                "new_mailchimp_id": mailchimp_id,
                "new_content_hash": fingerprint.content_hash,
                "new_children": dict(fingerprint.children),
                "now": now,
                **({"read_at": read_at} if read_at is not None else {}),
            }
            for record_id, _held, label, mailchimp_id, fingerprint in records
        ]
        statement = SETTLE_SYNCED if read_at is None else SETTLE_SYNCED_UNLESS_OVERTAKEN
        await self.session.execute(statement, rows)

    async def settle(
        self,
        installation_id: int,
        channel: str,
        kind: EntityKind,
        saleor_id: str,
        status: SyncStatus,
        *,
        mailchimp_id: str | None,
        fingerprint: Fingerprint | None = None,
        pushed: bool = True,
        note: str | None = None,
    ) -> SyncRecord:
        """A push ended: record what Mailchimp holds now (see `settled`)."""
        record = await self.get_or_create(installation_id, channel, kind, saleor_id)
        settled(record, status, mailchimp_id, fingerprint, utcnow() if pushed else None, note)
        return record

    async def mark_pending(
        self, installation_id: int, channel: str, kind: EntityKind, saleor_id: str
    ) -> None:
        """A change arrived: the record waits for a push (a quarantined one gets a new chance,
        since the changed data may be what fixes it). One UPDATE when the record exists (every
        change after the first), else an INSERT; a copy of the record this session holds gets
        the new values (never expired: an expired attribute would load lazily, which async
        sessions refuse)."""
        table = SYNC_RECORDS.c
        pending = (
            update(SYNC_RECORDS)
            .where(
                table.installation_id == installation_id,
                table.channel_slug == channel,
                table.kind == kind,
                table.saleor_id == saleor_id,
            )
            .values(
                status=SyncStatus.PENDING,
                attempts=case((table.status == SyncStatus.QUARANTINED, 0), else_=table.attempts),
                updated_at=utcnow(),
            )
            .returning(table.id, table.attempts, table.updated_at)
        )
        row = (await self.session.execute(pending)).first()
        if row is None:
            new = new_rows(installation_id, channel, kind, [saleor_id], utcnow())
            if (await self.session.execute(self._insert_new(), new[0])).rowcount:  # type: ignore[attr-defined]
                return
            row = (await self.session.execute(pending)).one()  # another job created it
        held = self.session.identity_map.get(identity_key(SyncRecord, row.id))
        if held is not None:
            set_committed_value(held, "status", SyncStatus.PENDING)
            set_committed_value(held, "attempts", row.attempts)
            set_committed_value(held, "updated_at", row.updated_at)

    async def forget_channel(self, installation_id: int, channel: str) -> None:
        """The channel moved to another store: everything must be pushed there afresh (and
        the results of batches sent to the old one are not the new one's).

        Its rows are locked in the order a burst takes them before any is deleted: its
        batches, then its records, kind by kind in id order (`locking_kinds`). Deleted as
        found (records first, in the table's order), a batch being recorded or applied
        meanwhile, which holds its batch's row and then locks its records, or an order push
        (its order, then its products), could deadlock with it, failing the admin's save or
        the other's step."""
        batches = (BurstBatch.installation_id == installation_id) & (
            BurstBatch.channel_slug == channel
        )
        records = (SyncRecord.installation_id == installation_id) & (
            SyncRecord.channel_slug == channel
        )
        await self.session.execute(
            select(BurstBatch.id).where(batches).order_by(BurstBatch.id).with_for_update()
        )
        locked = locking_kinds(select(SyncRecord.id).where(records)).scalar_subquery()
        await self.session.execute(delete(SyncRecord).where(SyncRecord.id.in_(locked)))
        await self.session.execute(delete(BurstBatch).where(batches))

    async def reset_for_resync(
        self, installation_id: int, channel: str, kinds: Sequence[EntityKind]
    ) -> list[tuple[EntityKind, str]]:
        """Forget what was pushed (so nothing is skipped as unchanged) and mark every record
        pending; answers their (kind, Saleor id) in id order, for their pushes to be queued.

        The records are locked, kind by kind in id order, before any is written
        (`locking_kinds`): one UPDATE of them all took its rows in the table's order, so a
        burst or a webhook marking some of them pending meanwhile could deadlock with it."""
        condition = (
            (SyncRecord.installation_id == installation_id)
            & (SyncRecord.channel_slug == channel)
            & SyncRecord.kind.in_(list(kinds))
            & (SyncRecord.status != SyncStatus.REMOVED)
        )
        records: Any = select(SyncRecord.id, SyncRecord.children).where(condition)
        locked = locking_kinds(records)
        # A product's variants Mailchimp holds hidden stay marked (`HIDDEN_VARIANT`): forgotten,
        # the orders that bought them would go under a placeholder (`orphans.py`). So does what
        # an order's record says Mailchimp was told (`told_parts`).
        hidden = {
            record_id: kept
            for record_id, children in (await self.session.execute(locked)).all()
            if (
                kept := {v: HIDDEN_VARIANT for v in hidden_variants(children or {})}
                | told_parts(children or {})
            )
        }
        result = await self.session.execute(
            update(SyncRecord)
            .where(SyncRecord.id.in_(locked.with_only_columns(SyncRecord.id).scalar_subquery()))
            .values(
                content_hash=None,
                children={},
                status=SyncStatus.PENDING,
                attempts=0,
                next_attempt_at=None,
                updated_at=utcnow(),
            )
            .returning(SyncRecord.id, SyncRecord.kind, SyncRecord.saleor_id)
        )
        pending = sorted(result.all())
        for record_id, kept in hidden.items():
            await self.session.execute(
                update(SyncRecord).where(SyncRecord.id == record_id).values(children=kept)
            )
        return [(kind, saleor_id) for _, kind, saleor_id in pending]
