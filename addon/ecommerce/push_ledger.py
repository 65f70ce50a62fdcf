"""A push's ledger I/O, which every pusher (the catalog, customers and orders, promotions)
builds on: what the ledger says Mailchimp holds for a record (`Known`), the label an admin sees
for it, recording what a push did, and the one Saleor read helper (`LedgerPusher`). Also the two
answers every push shares: a dependency that could not be pushed (`DependencyFailed`) and
Mailchimp's "already exists" (`already_exists`).

Sessions here are short and never held across a Mailchimp call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.context import Context
from addon.ecommerce.email_holder import taken_in
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.store_domain import domain_taken
from addon.mailchimp import BadRequest, MailchimpClient, MailchimpError, NotFound
from addon.services import Services


class DependencyFailed(Exception):
    """Something the record needs (its store, a product) could not be pushed."""

    @property
    def retry_after(self) -> float | None:
        """The wait Mailchimp asked for when it throttled the dependency (its 429's
        `Retry-After`), which the worker honours as for the record's own request."""
        value = getattr(self.__cause__, "retry_after", None)
        return value if isinstance(value, int | float) else None

    @property
    def retryable(self) -> bool:
        """The dependency failed for an outage (its 5xx, timeout or 429): the record is
        retried as long as for its own request's (`jobs.retry.in_outage`)."""
        return getattr(self.__cause__, "retryable", False) is True


@dataclass
class Known:
    """What the ledger says Mailchimp holds for one record (read outside any transaction)."""

    mailchimp_id: str | None = None
    fingerprint: Fingerprint = field(default_factory=lambda: Fingerprint(None))
    status: SyncStatus = SyncStatus.PENDING
    label: str | None = None
    note: str | None = None  # why the last push sent nothing, or the last failure

    @property
    def children(self) -> dict[str, str]:
        return self.fingerprint.children

    def holds(self, fingerprint: Fingerprint) -> bool:
        """Mailchimp holds exactly this content: nothing to send."""
        return self.status is SyncStatus.SYNCED and self.fingerprint == fingerprint

    def sent(self, fingerprint: Fingerprint) -> bool:
        """The last push Mailchimp confirmed sent exactly this content, whatever the status
        says now (a change marks the record pending before its push looks): a hash is only
        recorded for confirmed content, and forgotten when it may no longer be what Mailchimp
        holds."""
        known = self.fingerprint.content_hash is not None and self.fingerprint == fingerprint
        return known and self.status is not SyncStatus.REMOVED


LABEL_LENGTH = 255


def admin_label(text: str | None) -> str | None:
    """What the ledger shows an admin for a record: trimmed to fit its column."""
    text = " ".join((text or "").split())
    if not text:
        return None
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


# Mailchimp's refusal of a variant's PUT when it holds no such product (deleted there): "The
# parent product must already exists in order to use PUT on the variants endpoint"
# (mailchimp/mc-magento#254, its status not published). A 404 there means the same.
PARENT_MISSING = "parent product must already exist"


def parent_missing(exc: MailchimpError) -> bool:
    return isinstance(exc, NotFound) or PARENT_MISSING in f"{exc.title} {exc.detail}".lower()


def already_exists(exc: BadRequest) -> bool:
    """Mailchimp's answer to creating what it holds already (not to a customer's address held
    by another customer: `email_holder.py`)."""
    text = f"{exc.detail} {exc.title}"
    lowered = text.lower()
    return (
        "already exists" in lowered
        and PARENT_MISSING not in lowered  # "must already exists"
        and not taken_in(text)
        and not domain_taken(exc)
    )


class LedgerPusher:
    """The ledger I/O of a push, and its Saleor reads (`CatalogPusher` adds the channel's
    store and its products)."""

    def __init__(self, services: Services, context: Context, client: MailchimpClient) -> None:
        self.services = services
        self.ctx = context
        self.client = client

    # ledger I/O: short sessions, never across a Mailchimp call

    async def known(self, kind: EntityKind, saleor_id: str) -> Known:
        async with self.services.db.session() as session:
            record = await LedgerRepository(session).get(
                self.ctx.installation_id, self.ctx.channel, kind, saleor_id
            )
            if record is None:
                return Known()
            return Known(
                record.mailchimp_id,
                record.fingerprint,
                record.status,
                record.label,
                record.last_error,
            )

    async def remember_label(
        self, kind: EntityKind, saleor_id: str, known: Known, label: str | None
    ) -> None:
        """Record the label as soon as the entity is read from Saleor, so a record that then
        fails to reach Mailchimp (and ends in quarantine) is recognisable too."""
        label = admin_label(label)
        if label is None or label == known.label:
            return
        async with self.services.db.transaction() as session:
            record = await LedgerRepository(session).get_or_create(
                self.ctx.installation_id, self.ctx.channel, kind, saleor_id
            )
            record.label = label
        known.label = label

    async def synced(
        self,
        kind: EntityKind,
        saleor_id: str,
        mailchimp_id: str,
        fingerprint: Fingerprint,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        """Mailchimp holds what was just pushed (`also`: written in the same transaction)."""
        await self._settle(
            kind, saleor_id, SyncStatus.SYNCED, mailchimp_id, fingerprint, True, also=also
        )

    async def removed(
        self,
        kind: EntityKind,
        saleor_id: str,
        mailchimp_id: str | None = None,
        *,
        pushed: bool = True,
        note: str | None = None,
        fingerprint: Fingerprint | None = None,
    ) -> None:
        """Deliberately not in Mailchimp (deleted, converted, not eligible: `note` says why);
        `mailchimp_id` is kept for what Mailchimp still holds (a hidden product, a kept
        customer); `fingerprint`: what the record keeps saying (`converted_cart`)."""
        await self._settle(
            kind, saleor_id, SyncStatus.REMOVED, mailchimp_id, fingerprint, pushed, note
        )

    async def held_back(
        self,
        kind: EntityKind,
        saleor_id: str,
        known: Known,
        label: str | None = None,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        """Nothing is sent, on purpose: the record says what Mailchimp still holds of it. Synced
        when it holds what was last confirmed; else removed, its Mailchimp id kept for whatever
        it may still hold (a replace that failed half-way, a resync's forgotten content).
        `label` only for a record that has none yet; `also`: written in the same transaction."""
        confirmed = known.status is SyncStatus.SYNCED or known.fingerprint.content_hash is not None
        held = known.mailchimp_id is not None and confirmed
        async with self.services.db.transaction() as session:
            record = await LedgerRepository(session).settle(
                self.ctx.installation_id,
                self.ctx.channel,
                kind,
                saleor_id,
                SyncStatus.SYNCED if held else SyncStatus.REMOVED,
                mailchimp_id=known.mailchimp_id,
                fingerprint=known.fingerprint if held else None,
                pushed=False,
            )
            if record.label is None:
                record.label = admin_label(label)
            if also is not None:
                await also(session)

    async def _settle(
        self,
        kind: EntityKind,
        saleor_id: str,
        status: SyncStatus,
        mailchimp_id: str | None,
        fingerprint: Fingerprint | None,
        pushed: bool,
        note: str | None = None,
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        async with self.services.db.transaction() as session:
            await LedgerRepository(session).settle(
                self.ctx.installation_id,
                self.ctx.channel,
                kind,
                saleor_id,
                status,
                mailchimp_id=mailchimp_id,
                fingerprint=fingerprint,
                pushed=pushed,
                note=note,
            )
            if also is not None:
                await also(session)

    async def saleor(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await self.services.saleor.execute(
            self.ctx.api_url, self.ctx.token, document, variables
        )
