"""Queries on contact states."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.subscriptions.models import ContactState


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, installation_id: int, list_id: str, email: str) -> ContactState | None:
        statement = ContactState.of_installation(installation_id).where(
            ContactState.list_id == list_id, ContactState.email == email.lower()
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_or_create(self, installation_id: int, list_id: str, email: str) -> ContactState:
        state = await self.get(installation_id, list_id, email)
        if state is None:
            state = ContactState(
                installation_id=installation_id,
                list_id=list_id,
                email=email.lower(),
                status="none",
                interests=[],
                tags=[],
                marketing_permissions=[],
            )
            self.session.add(state)
            await self.session.flush()
        return state

    async def for_email(self, installation_id: int, email: str) -> list[ContactState]:
        statement = (
            ContactState.of_installation(installation_id)
            .where(ContactState.email == email.lower())
            .order_by(ContactState.id)
        )
        return list(await self.session.scalars(statement))
