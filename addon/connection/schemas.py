"""The connection API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from addon.connection.models import AttemptStatus, ConnectionMethod, ConnectionStatus
from addon.db.read import RowRead


class ConnectionRead(RowRead):
    status: ConnectionStatus
    method: ConnectionMethod | None = None
    dc: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    login_email: str | None = None
    role: str | None = None
    connected_at: datetime | None = None
    last_checked_at: datetime | None = None
    last_check_ok: bool | None = None
    last_check_message: str | None = None
    oauth_available: bool
    oauth_unavailable_reason: str | None = None
    signup_url: str


# The admin's confirmation to connect another account although erasures or unsubscribes still
# wait for the connected one (else `409 OWED_TO_PREVIOUS_ACCOUNT`): they end not done.
DROP_OWED_DESCRIPTION = (
    "Connect another Mailchimp account although erasures or unsubscribes still wait for the one "
    "connected before (else 409 OWED_TO_PREVIOUS_ACCOUNT, whose message counts them): they end "
    "not done, and Activity says so."
)


class ApiKeyConnect(BaseModel):
    api_key: str = Field(min_length=1, max_length=200)
    drop_owed_to_previous_account: StrictBool = Field(False, description=DROP_OWED_DESCRIPTION)


class Continuity(StrEnum):
    NEW = "new"  # first connection of this installation
    RESUMED = "resumed"  # same account as before: its data was kept
    STARTED_CLEAN = "started_clean"  # another account: the old account's data was dropped


class ConnectResult(BaseModel):
    connection: ConnectionRead
    continuity: Continuity
    message: str


class CheckResult(BaseModel):
    ok: bool
    health_status: str | None
    message: str
    checked_at: datetime
    connection: ConnectionRead


class ResetRequest(BaseModel):
    forget_account_data: StrictBool = False


class ResetResult(BaseModel):
    connection: ConnectionRead
    message: str


class OAuthStart(BaseModel):
    flow: Literal["login", "signup"]
    authorize_url: str
    signup_url: str | None = None
    expires_at: datetime
    # Poll `status_url` while the Mailchimp window is open (see AttemptRead).
    attempt_id: str
    status_url: str
    # The page hands these to its Mailchimp window only (never in a URL), which keeps the key
    # in the cookie named so: the callback connects only in the browser the log-in started in.
    browser_cookie: str
    browser_key: str


class AttemptRead(RowRead):
    """One OAuth log-in attempt's outcome; final once `status` is not pending."""

    id: str
    status: AttemptStatus
    code: str | None = Field(
        None,
        description="CONNECTED, OAUTH_DENIED, OAUTH_ERROR, OAUTH_EXCHANGE_FAILED, "
        "OAUTH_ABANDONED, OAUTH_STATE_EXPIRED, MAILCHIMP_REJECTED_CREDENTIALS, "
        "OWED_TO_PREVIOUS_ACCOUNT (start again with drop_owed_to_previous_account to go on), …",
    )
    message: str | None = None
    continuity: Continuity | None = None
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None = None
