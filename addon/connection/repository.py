"""Queries on Mailchimp connections and OAuth states."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.models import MailchimpConnection, OAuthState


class ConnectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, installation_id: int) -> MailchimpConnection | None:
        return await self.session.get(MailchimpConnection, installation_id)

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
