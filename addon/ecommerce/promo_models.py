"""Tables of promo codes (issue 17): which Saleor vouchers the admin offers to Mailchimp, and
the orders counted for each code's `usage_count`.

Saleor counts a code's `used` only for a voucher with a usage limit (saleor/discount/utils/
voucher.py `increase_voucher_usage`) and fires no voucher webhook for it, so the app counts the
orders it pushed with each code itself (one row per order: a redelivered webhook counts once).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_scoped
from addon.db.base import Base
from addon.db.owned import InstallationKeyed, InstallationRows
from addon.db.types import StrEnumType, UTCDateTime, utcnow


class PromoOffer(StrEnum):
    NONE = "none"  # no voucher reaches Mailchimp (the default: not every code is for e-mails)
    ALL = "all"  # every voucher of a tracked channel
    FLAGGED = "flagged"  # vouchers whose public metadata key `flag_key` is "true"


DEFAULT_FLAG_KEY = "mailchimp_promo"


class PromoSettings(InstallationKeyed, Base):
    """The admin's choice of vouchers for Mailchimp, and where a code is redeemed."""

    __tablename__ = "ecommerce_promo_settings"

    offer: Mapped[PromoOffer] = mapped_column(StrEnumType(PromoOffer), default=PromoOffer.NONE)
    flag_key: Mapped[str] = mapped_column(String(255), default=DEFAULT_FLAG_KEY)
    # e.g. https://shop.example.com/cart?promo={code} (placeholders: {code}, {channel})
    redemption_url_template: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@account_scoped
class PromoUsage(InstallationRows, Base):
    """An order pushed to a channel's store with a voucher code."""

    __tablename__ = "ecommerce_promo_usages"
    __table_args__ = (UniqueConstraint("installation_id", "channel_slug", "code", "order_id"),)

    channel_slug: Mapped[str] = mapped_column(String(255))
    code: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
