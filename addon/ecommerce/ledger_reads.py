"""Reads of the sync ledger (`LedgerReads`, the part of `LedgerRepository` that writes
nothing): one record, the records or what Mailchimp holds of some entities, a listing, and the
counts and last pushes the E-commerce page shows."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select

from addon.db.repository import Repository
from addon.ecommerce.ledger_statements import (
    HeldRecord,
    by_saleor_ids_statement,
    held_statement,
)
from addon.ecommerce.lookups import by_ids
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus


class LedgerReads(Repository):
    async def get(
        self, installation_id: int, channel: str, kind: EntityKind, saleor_id: str
    ) -> SyncRecord | None:
        result = await self.session.execute(
            select(SyncRecord).where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.channel_slug == channel,
                SyncRecord.kind == kind,
                SyncRecord.saleor_id == saleor_id,
            )
        )
        return result.scalar_one_or_none()

    async def by_id(self, installation_id: int, record_id: int) -> SyncRecord | None:
        record = await self.session.get(SyncRecord, record_id)
        return record if record and record.installation_id == installation_id else None

    async def by_saleor_ids(
        self,
        installation_id: int,
        channel: str,
        kind: EntityKind,
        saleor_ids: Collection[str],
        *,
        locked: bool = False,
    ) -> dict[str, SyncRecord]:
        """The records of these entities that exist, by Saleor id (one query); `locked`: their
        rows locked until the transaction ends (`by_saleor_ids_statement`)."""
        if not saleor_ids:
            return {}
        parameters = {
            "installation_id": installation_id,
            "channel": channel,
            "kind": kind,
            "saleor_ids": list(saleor_ids),
        }
        statement = by_saleor_ids_statement(self.dialect, locked)
        result = await by_ids(self.session, statement, parameters)
        return {record.saleor_id: record for record in result.scalars()}

    async def held_by_saleor_ids(
        self,
        installation_id: int,
        channel: str,
        kind: EntityKind,
        saleor_ids: Collection[str],
        *,
        locked: bool = False,
    ) -> dict[str, HeldRecord]:
        """What the ledger says Mailchimp holds of these entities (those with a record), by
        Saleor id, no ORM object loaded: a burst's plan, an initial sync's; `locked`: as
        `by_saleor_ids` (an initial sync's batch applied)."""
        if not saleor_ids:
            return {}
        parameters = {
            "of_installation": installation_id,
            "channel": channel,
            "of_kind": kind,
            "saleor_ids": list(saleor_ids),
        }
        rows = await by_ids(self.session, held_statement(self.dialect, locked), parameters)
        return {
            row.saleor_id: HeldRecord(
                row.status,
                row.mailchimp_id,
                row.content_hash,
                row.children,
                row.pushed_at,
                row.updated_at,
            )
            for row in rows
        }

    async def held_ids(self, installation_id: int, channel: str, kind: EntityKind) -> list[str]:
        """The Saleor ids of the channel's records of `kind` that Mailchimp holds (not removed)."""
        rows = await self.session.scalars(
            select(SyncRecord.saleor_id).where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.channel_slug == channel,
                SyncRecord.kind == kind,
                SyncRecord.mailchimp_id.is_not(None),
                SyncRecord.status != SyncStatus.REMOVED,
            )
        )
        return list(rows)

    async def select(
        self,
        installation_id: int,
        *,
        channel: str | None = None,
        kinds: Sequence[EntityKind] = (),
        status: SyncStatus | None = None,
        limit: int | None = None,
    ) -> list[SyncRecord]:
        statement = select(SyncRecord).where(SyncRecord.installation_id == installation_id)
        if channel is not None:
            statement = statement.where(SyncRecord.channel_slug == channel)
        if kinds:
            statement = statement.where(SyncRecord.kind.in_(list(kinds)))
        if status is not None:
            statement = statement.where(SyncRecord.status == status)
        statement = statement.order_by(SyncRecord.id)
        if limit is not None:
            statement = statement.limit(limit)
        return list((await self.session.execute(statement)).scalars())

    async def counts(self, installation_id: int) -> dict[tuple[str, EntityKind, SyncStatus], int]:
        result = await self.session.execute(
            select(SyncRecord.channel_slug, SyncRecord.kind, SyncRecord.status, func.count())
            .where(SyncRecord.installation_id == installation_id)
            .group_by(SyncRecord.channel_slug, SyncRecord.kind, SyncRecord.status)
        )
        return {
            (channel, EntityKind(kind), SyncStatus(status)): count
            for channel, kind, status, count in result.all()
        }

    async def last_push(self, installation_id: int) -> dict[str, datetime]:
        result = await self.session.execute(
            select(SyncRecord.channel_slug, func.max(SyncRecord.pushed_at))
            .where(SyncRecord.installation_id == installation_id)
            .group_by(SyncRecord.channel_slug)
        )
        return {channel: at for channel, at in result.all() if at is not None}
