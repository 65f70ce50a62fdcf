"""E-commerce tables: per-installation settings, one Mailchimp store per tracked channel, and
the sync ledger (both account-scoped: they describe what one Mailchimp account holds)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_scoped
from addon.db.base import Base
from addon.db.owned import InstallationKeyed, InstallationRows
from addon.db.types import StrEnumType, UTCDateTime, utcnow
from addon.jobs.models import BigId, Job


class EcommerceSettings(InstallationKeyed, Base):
    """The admin's e-commerce choices; they do not depend on the connected account."""

    __tablename__ = "ecommerce_settings"

    tracking_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    abandoned_carts_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    product_url_template: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    checkout_url_template: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    order_url_template: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    store_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The fields marketers segment on (`marketing_settings.py`): what becomes a product's vendor
    # and type ({"source", "key"}), the carrier and link per shipping method, and a store's
    # language and time zone when its channel gives none.
    product_vendor: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=lambda: {"source": "metadata", "key": "vendor"}
    )
    product_type: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=lambda: {"source": "product_type", "key": None}
    )
    tracking_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    default_locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    default_timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# What the app sends of a product: raised when that changes (`catalog_revision.py`).
CATALOG_REVISION = 4


@account_scoped
class MailchimpStore(InstallationRows, Base):
    """The Mailchimp store of one Saleor channel (a row exists once the channel was tracked)."""

    __tablename__ = "mailchimp_stores"
    __table_args__ = (UniqueConstraint("installation_id", "channel_slug"),)

    channel_slug: Mapped[str] = mapped_column(String(255))
    store_id: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[str] = mapped_column(String(64))
    currency_code: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Untracking keeps the row (and so the store id) for when the channel is tracked again.
    tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    # Set when Mailchimp answered 404 for the store (deleted there): pushes wait for the
    # admin's one-click re-create instead of silently creating it again.
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The channel's Saleor id (None: tracked before the app kept it, until the page or a push
    # reads the channel), to find the channel under a new slug; and since when Saleor has no
    # channel of this slug (deleted, or its slug changed): pushes wait (`channel_presence.py`).
    channel_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    channel_missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Since when Saleor's channel list shows the channel deactivated (None: active, or not read
    # since): a change either way re-pushes its products (`channel_presence.note_activity`).
    channel_inactive_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A re-created store being sent the channel's records again, under Mailchimp's
    # `is_syncing` (`resend.py`): since when, and the last ledger record that was to go.
    resend_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resend_up_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Orders placed before this may be in the Mailchimp store under their Saleor UUID (an
    # earlier version's id, or a previous installation's): they keep it, later orders go by
    # their number (`sale_payloads.order_id`). None: the store holds none such.
    uuid_orders_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the app sends of a product, as of the version that last sent them all
    # (`catalog_revision.py`); a new store's products are sent as this version does.
    catalog_revision: Mapped[int] = mapped_column(Integer, default=CATALOG_REVISION)
    # What its products' prices depend on of Saleor's tax settings, as the daily product sweep
    # last read them (`tax_settings.py`; None: not read yet): a change re-prices the channel.
    tax_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


class EntityKind(StrEnum):
    STORE = "store"
    PRODUCT = "product"
    CUSTOMER = "customer"
    ORDER = "order"
    CART = "cart"
    PROMO_RULE = "promo_rule"  # a voucher, with its codes (`promo_sync.py`)


# How a placeholder product's Mailchimp id starts (`orphans.py`): the ledger prefers the product
# a deleted variant was pushed in to its placeholder.
PLACEHOLDER_PREFIX = "deleted_"


class SyncStatus(StrEnum):
    PENDING = "pending"  # a push is queued (or waiting to be retried)
    SYNCED = "synced"  # Mailchimp holds the content whose hash is recorded
    QUARANTINED = "quarantined"  # gave up after repeated failures; Retry re-queues it
    REMOVED = "removed"  # deliberately not in Mailchimp (deleted, converted, not eligible)


# What a push records without `pushed_at`: its `updated_at` says when.
VERDICTS = (SyncStatus.REMOVED, SyncStatus.QUARANTINED)


# Percent of each ledger page filled by inserts (PostgreSQL's storage parameter).
LEDGER_FILLFACTOR = 50


@account_scoped
class SyncRecord(Base):
    """One Saleor entity as pushed to one channel's Mailchimp store."""

    __tablename__ = "ecommerce_sync_records"
    __table_args__ = (
        UniqueConstraint(
            "installation_id", "channel_slug", "kind", "saleor_id", name="uq_ecommerce_sync_entity"
        ),
        # Half of each page left free on PostgreSQL: a record is updated at every push (three
        # times for each change a burst carries), and its new version then fits on its own
        # page, so no index entry is written for it (a HOT update; no column an update
        # changes is indexed) and the table does not grow between vacuums (migration 0021).
        {"postgresql_with": {"fillfactor": LEDGER_FILLFACTOR}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    channel_slug: Mapped[str] = mapped_column(String(255))
    kind: Mapped[EntityKind] = mapped_column(StrEnumType(EntityKind))
    saleor_id: Mapped[str] = mapped_column(String(255))
    # A short label an admin recognises (product title, customer e-mail, order number,
    # checkout e-mail), recorded when a push builds the payload; None until then.
    label: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Set while Mailchimp holds the resource: decides create (POST) versus update (PATCH).
    mailchimp_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What the last push contained below the resource (variant id → title, line ids), so
    # removed variants can be hidden and removed lines deleted.
    children: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[SyncStatus] = mapped_column(StrEnumType(SyncStatus), default=SyncStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def fingerprint(self) -> Fingerprint:
        """What the last push sent, as `addon.ecommerce.fingerprints.fingerprint` computes it."""
        return Fingerprint(self.content_hash, dict(self.children or {}))


@dataclass(frozen=True)
class Fingerprint:
    """The hashes the ledger keeps for one record: its top-level fields and its children
    (variant id → hash for a product, {"lines": hash} for an order or cart, none otherwise)."""

    content_hash: str | None
    children: dict[str, str] = field(default_factory=dict)

    @classmethod
    def unknown(cls, children: Iterable[str] = ()) -> Fingerprint:
        """Mailchimp holds the record with unknown content (e.g. it answered "already
        exists"): the next push sends all of it, and still knows which children to hide. An
        order's statuses Mailchimp was never told (`QUIET`, given `children` as a mapping) are
        no content: kept (`told_parts`), or its next push would tell them."""
        kept = told_parts(children) if isinstance(children, Mapping) else {}
        return cls(None, {**dict.fromkeys(children, ""), **kept})


# A product's variant Mailchimp holds hidden (no longer sold: deleted, or off the channel), kept
# among the product's children under this mark instead of a hash: hidden, never deleted, so the
# orders that bought it still find its product (`VariantLedger.orphan_products`) and keep its
# line; it is not hidden again, and shown (sent whole) if it is sold again. A hash is hex: no
# hash is this mark, and none is `Fingerprint.unknown`'s "".
HIDDEN_VARIANT = "hidden"


# The part of an order's fingerprint naming the statuses Mailchimp was not told at its creation,
# as "financial/fulfillment" (`order_confirmation.as_told`). No hash: a hash is hex, and none
# has a slash.
QUIET = "quiet"
# The part of an order's fingerprint saying the app held it back until it was confirmed or paid
# (`order_confirmation.HELD_BACK`): a new purchase then, however late. Kept in the children, which
# a failure's note does not overwrite nor an admin's Retry clear.
WAITED = "waited"


def told_parts(children: Mapping[str, str]) -> dict[str, str]:
    """The parts of an order's children that say what Mailchimp was told rather than hash what
    it holds (`QUIET`, `WAITED`): kept where the content is forgotten, or its next push would
    tell a purchase long past as new, and Mailchimp e-mail its shopper."""
    return {part: children[part] for part in (QUIET, WAITED) if children.get(part)}


def hidden_variants(children: Mapping[str, str]) -> set[str]:
    """The variants a product's record says Mailchimp holds hidden (`HIDDEN_VARIANT`)."""
    return {variant for variant, digest in children.items() if digest == HIDDEN_VARIANT}


class BurstStatus(StrEnum):
    READING = "reading"  # taken over by a push job, being read from Saleor and submitted
    SUBMITTED = "submitted"  # at Mailchimp; its poll job applies the results


@account_scoped
class BurstBatch(Base):
    """Records of one channel and kind pushed as one Mailchimp batch during a burst
    (`burst.py`); deleted once its results are in the ledger."""

    __tablename__ = "ecommerce_burst_batches"
    __table_args__ = (Index("ix_ecommerce_burst_batches_status", "installation_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    channel_slug: Mapped[str] = mapped_column(String(255))
    kind: Mapped[EntityKind] = mapped_column(StrEnumType(EntityKind))
    status: Mapped[BurstStatus] = mapped_column(StrEnumType(BurstStatus))
    # The push job that took the records over: a rerun of it (crash, lost lease) hands the
    # records of a batch it never submitted back to one push each.
    leader_job_id: Mapped[int] = mapped_column(BigId)
    mailchimp_batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Saleor id → what its success means for the ledger (Mailchimp id, hashes, operations).
    records: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    polls: Mapped[int] = mapped_column(Integer, default=0)


# The job that pushes one ledger record (`push_queue.py`).
PUSH_JOB = "ecommerce.push"
# The due pushes of an installation in the order they are taken (`burst_queue.take_over`, a
# burst's take-over of a group of them): an index of this package's own on the jobs table,
# so that a take-over reads its installation's pushes only. Through the jobs' due index
# (every installation's due jobs, in that order) it read, on a server several stores share,
# each older due job of the others first. Only pending pushes are in it (migration 0022).
_PUSHES_DUE = text(f"status = 'pending' AND kind = '{PUSH_JOB}'")
Index(
    "ix_jobs_pushes_due",
    Job.installation_id,
    Job.run_after,
    Job.id,
    sqlite_where=_PUSHES_DUE,
    postgresql_where=_PUSHES_DUE,
)


class ProductTypeName(InstallationRows, Base):
    """A Saleor product type's name and tax class as the daily product sweep last read them: a
    rename, or another tax class, sends products no event, and is found by comparing
    (`product_type_names.py`). Saleor's data, not the Mailchimp account's."""

    __tablename__ = "product_type_names"
    __table_args__ = (UniqueConstraint("installation_id", "type_id"),)

    type_id: Mapped[str] = mapped_column(String(255))  # Saleor's global id
    name: Mapped[str] = mapped_column(String(250))  # Saleor's ProductType.name max_length
    # Its tax class's global id ("": none; None: not read yet, before 0061).
    tax_class_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
