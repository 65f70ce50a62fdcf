"""The admin's erasure choice (one row per installation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.owned import InstallationKeyed
from addon.db.types import UTCDateTime, utcnow


class ErasureSettings(InstallationKeyed, Base):
    __tablename__ = "erasure_settings"

    # Orders stay in Mailchimp by default (the store's revenue history); with this set an
    # erasure deletes the customer's orders too.
    delete_orders: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
