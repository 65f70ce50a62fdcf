"""The Mailchimp connection of an installation, and pending OAuth authorisations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import SecretStr
from sqlalchemy import Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.owned import InstallationKeyed
from addon.db.types import EncryptedSecret, StrEnumType, UTCDateTime, utcnow


class ConnectionMethod(StrEnum):
    API_KEY = "api_key"
    OAUTH_LOGIN = "oauth_login"
    OAUTH_SIGNUP = "oauth_signup"


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    # Mailchimp answered 401 (or 403 "User Disabled"): the admin must reconnect
    REVOKED = "revoked"
    DISCONNECTED = "disconnected"  # reset by the admin; account data kept for a reconnect


class MailchimpConnection(InstallationKeyed, Base):
    __tablename__ = "mailchimp_connections"

    status: Mapped[ConnectionStatus] = mapped_column(StrEnumType(ConnectionStatus))
    method: Mapped[ConnectionMethod | None] = mapped_column(
        StrEnumType(ConnectionMethod), nullable=True
    )
    # An API key or an OAuth access token; None once reset.
    credential: Mapped[SecretStr | None] = mapped_column(EncryptedSecret, nullable=True)
    dc: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The account whose data (audiences, stores, sync state) this installation holds; it
    # survives a reset so that reconnecting to the same account resumes.
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When another account was last connected in place of the one before (None: never). Work
    # asked before then was owed to that one: it never runs against this account
    # (`addon.connection.reconnect.asked_of_another_account`).
    account_switched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The account whose data a reset forgot (`account_id` is None then): work still owed to it
    # runs if it is connected again, and connecting another one is a switch. Cleared by the
    # next connection.
    forgotten_account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When a reset last forgot the account's data (None: never): an erasure asked before then
    # waits for the audiences to be read again (`reconnect.asked_before_forgetting`).
    account_forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    account_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    login_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str | None] = mapped_column(String(50), nullable=True)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_check_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OAuthState(Base):
    """A pending OAuth authorisation: single-use, expires, bound to one installation and to the
    browser it was started in (`browser_key_hash`, see `addon/connection/oauth_flow.py`).

    Only SHA-256s of the state and the key are stored, so the table holds nothing an attacker
    could replay.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[ConnectionMethod] = mapped_column(StrEnumType(ConnectionMethod))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    browser_key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The admin confirmed connecting another account although work owed to the connected one
    # still waits (`Linking.save`): asked at the start, the account is known at the callback.
    drop_owed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AttemptStatus(StrEnum):
    PENDING = "pending"  # the Mailchimp window is open (or nothing came back yet)
    ALLOWED = "allowed"  # connected
    DENIED = "denied"  # the admin refused access at Mailchimp (error=access_denied)
    ERROR = "error"  # Mailchimp or the exchange failed; the message says why
    ABANDONED = "abandoned"  # the page saw the window closed before an answer
    EXPIRED = "expired"  # no answer within the state's lifetime


class OAuthAttempt(Base):
    """The outcome of one OAuth log-in, which the dashboard page polls by its public id.

    Linked to its `OAuthState` by the state's hash: the state is a secret for the callback,
    the attempt id is what the page (already authenticated) may know.
    """

    __tablename__ = "oauth_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    installation_id: Mapped[int] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[AttemptStatus] = mapped_column(
        StrEnumType(AttemptStatus), default=AttemptStatus.PENDING
    )
    # The outcome's enumerated code (CONNECTED, OAUTH_DENIED, OAUTH_EXCHANGE_FAILED, …).
    code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    continuity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
