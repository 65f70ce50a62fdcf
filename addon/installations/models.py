"""The installation record, keyed by the exact Saleor API URL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.types import EncryptedSecret, UTCDateTime, utcnow


class Installation(Base):
    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    saleor_api_url: Mapped[str] = mapped_column(String(512), unique=True)
    saleor_domain: Mapped[str] = mapped_column(String(255))
    app_id: Mapped[str] = mapped_column(String(255))
    app_token: Mapped[SecretStr] = mapped_column(EncryptedSecret)
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwks_fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last refetch of the keys (successful or not): refetches are throttled from it.
    jwks_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # `issuedAt` of the newest APP_STATUS_CHANGED applied: older deliveries are ignored.
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
