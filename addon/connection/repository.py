"""Queries on Mailchimp connections and OAuth states."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from addon.connection.models import (
    AttemptStatus,
    ConnectionStatus,
    MailchimpConnection,
    OAuthAttempt,
    OAuthState,
)
from addon.db.repository import Repository

# Finished attempts are kept a day, so a page that polls late still learns the outcome.
ATTEMPT_RETENTION = timedelta(days=1)


def lifetime_text(lifetime: timedelta) -> str:
    """A log-in's or a sign-up's lifetime as the admin is told it: "10 minutes", "2 hours"."""
    minutes = round(lifetime.total_seconds() / 60)
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


class ConnectionRepository(Repository):
    async def get(
        self, installation_id: int, *, for_update: bool = False
    ) -> MailchimpConnection | None:
        """The installation's connection; `for_update` locks its row (PostgreSQL) until the
        transaction ends, for a write decided on what was read, and reads it afresh (what
        another transaction committed while this one waited for the lock, not what this
        session loaded before)."""
        return await self.session.get(
            MailchimpConnection,
            installation_id,
            with_for_update=for_update or None,
            populate_existing=for_update,
        )

    async def get_locked_or_insert(self, installation_id: int) -> MailchimpConnection:
        """The installation's connection row, locked until the transaction ends; made on
        first use as a disconnected row of no account (what a brand new connection starts
        from). Two saves at once (an API key and an OAuth callback, a form sent twice) take
        turns: the second waits for the first's row, then reads it committed."""
        return await self.get_or_insert(
            MailchimpConnection,
            lambda: self.get(installation_id, for_update=True),
            {"installation_id": installation_id, "status": ConnectionStatus.DISCONNECTED},
        )

    async def add_state(self, state: OAuthState) -> None:
        self.session.add(state)
        await self.session.flush()

    async def get_state(self, state_hash: str) -> OAuthState | None:
        return await self.session.get(OAuthState, state_hash)

    async def consume_state(self, state_hash: str, now: datetime) -> bool:
        """Mark a state used; False when it was used already (a replay)."""
        result = await self.session.execute(
            update(OAuthState)
            .where(OAuthState.state_hash == state_hash, OAuthState.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def prune_states(self, before: datetime) -> None:
        await self.session.execute(delete(OAuthState).where(OAuthState.expires_at < before))
        await self.session.execute(
            delete(OAuthAttempt).where(OAuthAttempt.expires_at < before - ATTEMPT_RETENTION)
        )

    async def add_attempt(self, attempt: OAuthAttempt) -> None:
        self.session.add(attempt)
        await self.session.flush()

    async def attempt_of_state(self, state_hash: str) -> OAuthAttempt | None:
        return await self.session.scalar(
            select(OAuthAttempt).where(OAuthAttempt.state_hash == state_hash)
        )

    async def get_attempt(self, installation_id: int, attempt_id: str) -> OAuthAttempt | None:
        attempt = await self.session.get(OAuthAttempt, attempt_id)
        return attempt if attempt and attempt.installation_id == installation_id else None

    async def expire_attempt(self, attempt: OAuthAttempt, now: datetime) -> None:
        """A pending attempt past its state's lifetime can no longer succeed. That lifetime
        (`oauth_flow.state_ttl`: a sign-up's is longer) is the attempt's own: it was given
        its state's expiry when it began."""
        if attempt.status is AttemptStatus.PENDING and attempt.expires_at < now:
            lifetime = lifetime_text(attempt.expires_at - attempt.created_at)
            attempt.status = AttemptStatus.EXPIRED
            attempt.code = "OAUTH_STATE_EXPIRED"
            attempt.message = f"The Mailchimp log-in took longer than {lifetime} and expired."
            attempt.finished_at = now
            await self.session.flush()
