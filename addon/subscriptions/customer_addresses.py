"""The address each Saleor customer had when the app last heard of them, so an e-mail change is
told apart from a Mailchimp-side one: after Mailchimp changed a contact's address (`upemail`,
two-way sync) the contact and the Saleor customer keep different addresses on purpose, and only
a change of the customer's address in Saleor moves the contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.owned import InstallationRows
from addon.db.types import UTCDateTime, utcnow


class CustomerAddress(InstallationRows, Base):
    __tablename__ = "customer_addresses"
    __table_args__ = (UniqueConstraint("installation_id", "saleor_user_id"),)

    saleor_user_id: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
