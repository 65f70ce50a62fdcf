"""OAuth log-in attempts: what became of each Mailchimp window the dashboard opened.

The page polls an attempt by its id while the window is open, and marks it abandoned when it
sees the window closed; the callback records allowed, denied or error. Outcomes are written
with conditional UPDATEs, so a close racing the callback cannot hide what happened in Mailchimp.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.models import AttemptStatus, OAuthAttempt
from addon.connection.repository import ConnectionRepository
from addon.connection.schemas import AttemptRead
from addon.db.types import utcnow
from addon.errors import ErrorCode, NotFound

# A callback may still finish an attempt the page gave up on: it is what the admin did.
_OPEN = (AttemptStatus.PENDING, AttemptStatus.ABANDONED)

DENIED_MESSAGE = "You did not allow access in Mailchimp, so nothing was connected."
# The page of a callback reached again (the window reloaded) while the first is still finishing.
FINISHING = "OAUTH_FINISHING"
FINISHING_MESSAGE = (
    "Mailchimp already sent this sign-in back, and the app is finishing it. The Connection page "
    "in the dashboard shows the outcome in a moment; close this window then."
)


@dataclass(frozen=True)
class Outcome:
    status: AttemptStatus
    code: str
    message: str
    continuity: str | None = None


def callback_error(error: str, description: str) -> Outcome:
    """Mailchimp sent the admin back with an OAuth error (RFC 6749 §4.1.2.1)."""
    if error == "access_denied":
        return Outcome(AttemptStatus.DENIED, "OAUTH_DENIED", DENIED_MESSAGE)
    return Outcome(
        AttemptStatus.ERROR, "OAUTH_ERROR", f"Mailchimp reported an error: {description or error}."
    )


def failure(code: str, message: str) -> Outcome:
    if code == "OAUTH_STATE_EXPIRED":
        return Outcome(AttemptStatus.EXPIRED, code, message)
    return Outcome(AttemptStatus.ERROR, code, message)


def new_attempt_id() -> str:
    return secrets.token_urlsafe(18)  # 24 characters


class AttemptService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = ConnectionRepository(session)

    async def begin(
        self, installation_id: int, state_hash: str, now: datetime, expires_at: datetime
    ) -> OAuthAttempt:
        attempt = OAuthAttempt(
            id=new_attempt_id(),
            installation_id=installation_id,
            state_hash=state_hash,
            status=AttemptStatus.PENDING,
            created_at=now,
            expires_at=expires_at,
        )
        await self.repository.add_attempt(attempt)
        return attempt

    async def finish(self, state_hash: str, outcome: Outcome) -> None:
        """Record the callback's outcome on the attempt of this state (if it has one)."""
        await self.session.execute(
            update(OAuthAttempt)
            .where(OAuthAttempt.state_hash == state_hash, OAuthAttempt.status.in_(_OPEN))
            .values(
                status=outcome.status,
                code=outcome.code,
                message=outcome.message,
                continuity=outcome.continuity,
                finished_at=utcnow(),
            )
        )

    async def _get(self, installation_id: int, attempt_id: str) -> OAuthAttempt:
        attempt = await self.repository.get_attempt(installation_id, attempt_id)
        if attempt is None:
            raise NotFound(
                "This Mailchimp log-in is unknown (it may be older than a day). Start again.",
                code=ErrorCode.OAUTH_ATTEMPT_NOT_FOUND,
            )
        return attempt

    async def read(self, installation_id: int, attempt_id: str) -> AttemptRead:
        attempt = await self._get(installation_id, attempt_id)
        await self.repository.expire_attempt(attempt, utcnow())
        return AttemptRead.of(attempt)

    async def abandon(self, installation_id: int, attempt_id: str) -> AttemptRead:
        """The page saw the window closed: a pending attempt ends; a finished one is kept."""
        attempt = await self._get(installation_id, attempt_id)
        now = utcnow()
        await self.repository.expire_attempt(attempt, now)
        await self.session.execute(
            update(OAuthAttempt)
            .where(OAuthAttempt.id == attempt.id, OAuthAttempt.status == AttemptStatus.PENDING)
            .values(
                status=AttemptStatus.ABANDONED,
                code=ErrorCode.OAUTH_ABANDONED,
                message="The Mailchimp window was closed before access was allowed, "
                "so nothing was connected.",
                finished_at=now,
            )
        )
        await self.session.refresh(attempt)
        return AttemptRead.of(attempt)
