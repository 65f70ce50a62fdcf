"""Tables of the abandoned-cart features: each installation's key for cart restore links, and
what Mailchimp last reported about each tracked channel's store (automation, syncing, site
script), which the health panel, the Activity page and the storefront's site script read, and
the checkouts restore links were exchanged for (and the exchanges under way)."""

from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr
from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_scoped
from addon.db.base import Base
from addon.db.owned import InstallationKeyed, InstallationRows
from addon.db.types import EncryptedSecret, UTCDateTime, utcnow


class CartRestoreKey(InstallationKeyed, Base):
    """The installation's key signing cart restore links (encrypted at rest with SECRET_KEY).
    Not account-scoped: links already e-mailed stay valid when another account is connected."""

    __tablename__ = "cart_restore_keys"

    key: Mapped[SecretStr] = mapped_column("key_encrypted", EncryptedSecret)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@account_scoped
class StoreCheck(InstallationRows, Base):
    """What Mailchimp last said about one tracked channel's store."""

    __tablename__ = "mailchimp_store_checks"
    __table_args__ = (UniqueConstraint("installation_id", "channel_slug"),)

    channel_slug: Mapped[str] = mapped_column(String(255))
    store_id: Mapped[str] = mapped_column(String(64))
    is_syncing: Mapped[bool] = mapped_column(Boolean, default=False)
    cart_automation_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    cart_automation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cart_automation_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    site_foreign_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    script_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    script_fragment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When Mailchimp last confirmed the script on the storefront (cleared when the URL changes).
    script_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RestoredCheckout(InstallationRows, Base):
    """The checkout a cart's restore link was exchanged for (one per original checkout: every
    link of one cart restores the same one). The token is a credential: encrypted at rest."""

    __tablename__ = "restored_checkouts"
    __table_args__ = (UniqueConstraint("installation_id", "checkout_id"),)

    checkout_id: Mapped[str] = mapped_column(String(255))  # the original's global id
    restored_token: Mapped[SecretStr] = mapped_column("restored_token_encrypted", EncryptedSecret)
    channel_slug: Mapped[str] = mapped_column(String(255))
    dropped_lines: Mapped[int] = mapped_column(Integer)
    reduced_lines: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The original's voucher code Saleor refused on the copy, and its error code
    # (`restore_voucher.VoucherLeftOut`): named to every exchange while the copy has no code.
    dropped_voucher_code: Mapped[str | None] = mapped_column(String(255), nullable=True)
    dropped_voucher_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RestoreClaim(InstallationRows, Base):
    """A restore link's first exchange under way: it is making the cart's copy, and a second
    exchange meanwhile must not make another (`restore_claims.py`). Deleted once the copy is
    recorded, or the exchange failed; one left by a process that died expires."""

    __tablename__ = "cart_restore_claims"
    __table_args__ = (UniqueConstraint("installation_id", "checkout_id"),)

    checkout_id: Mapped[str] = mapped_column(String(255))  # the original's global id
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
