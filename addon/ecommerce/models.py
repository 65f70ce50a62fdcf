"""Mailchimp stores created for the installation's channels (account-scoped)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_scoped
from addon.db.base import Base
from addon.db.types import UTCDateTime, utcnow


@account_scoped
class MailchimpStore(Base):
    __tablename__ = "mailchimp_stores"
    __table_args__ = (UniqueConstraint("installation_id", "channel_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    channel_slug: Mapped[str] = mapped_column(String(255))
    store_id: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[str] = mapped_column(String(64))
    currency_code: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
