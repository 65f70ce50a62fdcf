"""The installation record, keyed by the exact Saleor API URL."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import SecretStr
from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.types import EncryptedSecret, StrEnumType, UTCDateTime, utcnow


class LifecycleSignal(StrEnum):
    """How a deactivation, reactivation or uninstall was noticed."""

    WEBHOOK = "webhook"  # APP_STATUS_CHANGED / APP_DELETED (Saleor 3.23.5+)
    PERIODIC_CHECK = "periodic_check"  # the per-installation check (INSTALLATION_CHECK_*)
    SALEOR_CALL = "saleor_call"  # a Saleor call the app made was refused; a check followed
    DASHBOARD = "dashboard"  # a dashboard load read `app { isActive }`
    # An APP_DELETED may have been lost while paused by APP_STATUS_CHANGED (a web outage, or
    # one Saleor could not be asked to confirm): the refused token is no longer the
    # deactivation's alone (`lost_lifecycle`).
    WEBHOOK_LOST = "webhook_lost"


class MailchimpCleanup(StrEnum):
    """What an uninstall removed from Mailchimp before the erasure (`uninstall.py`)."""

    DONE = "done"  # every store's carts and the audiences' webhooks deleted
    NOT_CONNECTED = "not_connected"  # no Mailchimp credentials to do it with
    REVOKED = "revoked"  # Mailchimp refused the credentials
    GAVE_UP = "gave_up"  # Mailchimp failed until the deadline (`FAREWELL_HOURS`)
    REINSTALLED = "reinstalled"  # installed again first: the new installation took over


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
    # How the latest pause or resume was noticed (None: never paused).
    status_noticed_by: Mapped[LifecycleSignal | None] = mapped_column(
        StrEnumType(LifecycleSignal), nullable=True
    )
    # Saleor's full version (`shop { version }`), read at installation and by every check.
    saleor_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The last lifecycle check Saleor answered (token accepted or refused).
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last time the app knew Saleor delivered its webhooks: a check accepted the token, or
    # processing resumed. A pause noticed without the webhook dates the missed deliveries from it.
    token_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # While paused: since when Saleor may have sent nothing (it delivers no webhook to an
    # inactive app), replayed when processing resumes (`missed.py`). None while active.
    missed_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The creations delivered from then until the pause, [event, entity id] (`missed_queue`).
    missed_creations: Mapped[list[list[str]] | None] = mapped_column(JSON, nullable=True)
    # Since when Saleor refuses the app token (deactivated or uninstalled); None: accepted.
    token_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    token_refused_noticed_by: Mapped[LifecycleSignal | None] = mapped_column(
        StrEnumType(LifecycleSignal), nullable=True
    )
    # When the app last read its webhooks in this Saleor (`webhook_upkeep`, at every lifecycle
    # check), and the slugs of those a staff member paused there (their events reach nobody).
    webhooks_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    webhooks_paused: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # `webhooks_digest` of the documents and APP_URL its last upkeep brought them to: another
    # at a process's start (the app upgraded or moved) queues the upkeep at once.
    webhooks_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The key Saleor sends with the lifecycle webhooks' deliveries (a custom header the webhook
    # upkeep sets: `delivery_key`), and when a reading of the webhooks last showed it in place
    # (None: not yet, and no delivery is asked for it).
    webhook_key: Mapped[SecretStr | None] = mapped_column(EncryptedSecret, nullable=True)
    webhook_key_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The lifecycle webhooks the key cannot be added to (slug: why, `key_refusal`), as the upkeep
    # last read them: the Activity page says so. A list of slugs: a record from before the
    # reasons were kept, of webhooks with no room (`blocked_reasons`).
    webhooks_key_blocked: Mapped[dict[str, str] | list[str] | None] = mapped_column(
        JSON, nullable=True
    )
    # The last time a dashboard call read the app's state in Saleor (at most once a minute).
    dashboard_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Uninstalled, erased once Mailchimp is cleaned up (`uninstall.py`): how it was noticed.
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    uninstall_noticed_by: Mapped[LifecycleSignal | None] = mapped_column(
        StrEnumType(LifecycleSignal), nullable=True
    )
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InstallationErasure(Base):
    """What is kept of an erased installation: that it was erased, when and why (no data of
    the store, no secrets), so an uninstall is accounted for."""

    __tablename__ = "installation_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    saleor_api_url: Mapped[str] = mapped_column(String(512), index=True)
    app_id: Mapped[str] = mapped_column(String(255))
    noticed_by: Mapped[LifecycleSignal] = mapped_column(StrEnumType(LifecycleSignal))
    # For an uninstall noticed without the webhook: since when the token had been refused.
    token_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What was removed from Mailchimp first (None: erased before migration 0034).
    mailchimp_cleanup: Mapped[MailchimpCleanup | None] = mapped_column(
        StrEnumType(MailchimpCleanup), nullable=True
    )
    carts_deleted: Mapped[int | None] = mapped_column(Integer, nullable=True)
    webhooks_deleted: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ReceiverHeartbeat(Base):
    """The web processes' heartbeat (one row): when one last knew deliveries could be received
    (`outage.py`)."""

    __tablename__ = "webhook_receiver"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alive_at: Mapped[datetime] = mapped_column(UTCDateTime)
