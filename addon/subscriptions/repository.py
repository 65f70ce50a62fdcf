"""Queries on contact states."""

from __future__ import annotations

from addon.db.repository import Repository
from addon.subscriptions.models import ContactState


class ContactRepository(Repository):
    async def get(
        self, installation_id: int, list_id: str, email: str, *, for_update: bool = False
    ) -> ContactState | None:
        """`for_update`: locked until the transaction ends (`FOR NO KEY UPDATE`: rows keyed to
        it may still be inserted) and read afresh."""
        statement = ContactState.of_installation(installation_id).where(
            ContactState.list_id == list_id, ContactState.email == email.lower()
        )
        if for_update:
            statement = statement.with_for_update(key_share=True).execution_options(
                populate_existing=True
            )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_or_create(self, installation_id: int, list_id: str, email: str) -> ContactState:
        new = {
            "installation_id": installation_id,
            "list_id": list_id,
            "email": email.lower(),
            "status": "none",
            "interests": [],
            "tags": [],
            "marketing_permissions": [],
        }
        return await self.get_or_insert(
            ContactState,
            lambda: self.get(installation_id, list_id, email),
            new,
            key=("installation_id", "list_id", "email"),
        )

    async def for_email(self, installation_id: int, email: str) -> list[ContactState]:
        statement = (
            ContactState.of_installation(installation_id)
            .where(ContactState.email == email.lower())
            .order_by(ContactState.id)
        )
        return list(await self.session.scalars(statement))

    async def held(
        self, installation_id: int, list_id: str, email: str, user_id: str | None = None
    ) -> ContactState | None:
        """The contact held at an old address because Mailchimp refused `email` (its customer's)
        as its new one; with `user_id`, only that customer's."""
        statement = (
            ContactState.of_installation(installation_id)
            .where(ContactState.list_id == list_id, ContactState.held_for == email.lower())
            .order_by(ContactState.id.desc())
            .limit(1)
        )
        if user_id is not None:
            statement = statement.where(ContactState.saleor_user_id == user_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def of_customer(
        self, installation_id: int, list_id: str, email: str, user_id: str | None
    ) -> ContactState | None:
        """The customer's contact in an audience: at their address, else (while none there
        reached Mailchimp) the one held at their old address (`held_for`), or the one linked
        to them at the address its member gave in Mailchimp (`upemail`: their Saleor address
        stays as it was). Those count for a customer known by id only (the panel's, a
        signed-in shopper's)."""
        state = await self.get(installation_id, list_id, email)
        if (state is not None and state.status != "none") or user_id is None:
            return state
        held = await self.held(installation_id, list_id, email, user_id)
        return held or await self.of_user(installation_id, list_id, user_id) or state

    async def of_user(
        self, installation_id: int, list_id: str, user_id: str
    ) -> ContactState | None:
        """The customer's contact in an audience that reached Mailchimp, wherever it is now."""
        statement = (
            ContactState.of_installation(installation_id)
            .where(
                ContactState.list_id == list_id,
                ContactState.saleor_user_id == user_id,
                ContactState.status != "none",
            )
            .order_by(ContactState.id.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
