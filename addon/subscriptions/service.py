"""Store-side subscription changes: accepted at once, applied to Mailchimp by the worker
(`apply.py`): every change becomes a `subscriptions.apply` job per audience, in the contact's
lane."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import (
    Audience,
    AudienceGroup,
    DoubleOptIn,
    NewsletterSettings,
    visible_interests,
)
from addon.audiences.repository import AudienceRepository
from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.db.types import utcnow
from addon.jobs.repository import JobRepository
from addon.services import Services
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import Action, ContactChange, Source
from addon.subscriptions.writeback import contact_lane

logger = logging.getLogger(__name__)

APPLY_JOB = "subscriptions.apply"
COMPLIANCE_STATES = ("unsubscribed", "cleaned")


def offered_groups(groups: list[AudienceGroup], list_id: str) -> list[AudienceGroup]:
    """The groups of an audience shoppers may pick: offered, and still in Mailchimp."""
    return [g for g in groups if g.list_id == list_id and g.offered and g.removed_at is None]


def offered_interests(groups: list[AudienceGroup], list_id: str) -> list[str]:
    return [str(i["id"]) for group in offered_groups(groups, list_id) for i in group.interests]


def hidden_interests(groups: list[AudienceGroup], list_id: str) -> frozenset[str]:
    """The offered interests of Mailchimp's `hidden` groups: for the store to set, never shown
    to shoppers (docs/storefront-api.md), so a shopper's whole choice does not name them."""
    return frozenset(
        str(i["id"])
        for group in offered_groups(groups, list_id)
        if group.type == "hidden"
        for i in group.interests
    )


def shown_interests(groups: list[AudienceGroup], list_id: str, held: list[str]) -> list[str]:
    """The interests of `held` a contact's own page shows (`audiences.models.visible_interests`: no
    hidden group's, no deleted one's)."""
    visible = visible_interests(groups, list_id)
    return [i for i in held if i in visible]


@dataclass(frozen=True)
class Choice:
    """A shopper's or admin's choice, resolved against what the store offers."""

    list_id: str
    interest_ids: list[str] | None
    permission_ids: list[str]
    # The interests offered when it was made (`ContactChange.offered_ids`).
    offered_ids: list[str] | None = None


def double_optin_applies(settings: NewsletterSettings | None, audience: Audience) -> bool:
    if settings is not None and settings.double_optin is DoubleOptIn.ALWAYS:
        return True
    return audience.double_optin


async def is_connected(session: AsyncSession, installation_id: int) -> bool:
    connection = await ConnectionRepository(session).get(installation_id)
    return connection is not None and connection.status is ConnectionStatus.CONNECTED


class SubscriptionService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.audiences = AudienceRepository(session)
        self.contacts = ContactRepository(session)

    async def known_audiences(self, installation_id: int) -> list[Audience]:
        """The audiences the app knows, offered or not, but still in Mailchimp (a change of a
        gone one is dropped: `apply`)."""
        return [a for a in await self.audiences.audiences(installation_id) if not a.removed_at]

    async def resolve(
        self,
        installation_id: int,
        list_ids: list[str],
        interest_ids: list[str] | None,
        permission_ids: list[str],
        *,
        leaving: bool = False,
    ) -> list[Choice]:
        """Keep only what the store offers: active audiences (the default one when none is
        named; just one unless several are allowed), offered groups, known permissions.

        `leaving`: an unsubscribe, taken for every audience the app knows (one no longer
        offered too, and as many as named): only joining needs an audience offered, and a
        withdrawal of consent is always possible (GDPR art. 7(3))."""
        settings = await self.audiences.settings(installation_id)
        candidates = (
            await self.known_audiences(installation_id)
            if leaving
            else await self.audiences.active_audiences(installation_id)
        )
        active = {a.list_id: a for a in candidates}
        chosen = [i for i in dict.fromkeys(list_ids) if i in active]
        if not list_ids and settings.default_list_id in active:
            chosen = [settings.default_list_id] if settings.default_list_id else []
        if not settings.allow_multiple and not leaving:
            chosen = chosen[:1]
        groups = await self.audiences.groups(installation_id)
        choices = []
        for list_id in chosen:
            offered = offered_interests(groups, list_id)
            interests = (
                None
                if interest_ids is None or not offered
                else [i for i in interest_ids if i in offered]
            )
            known = {str(p["id"]) for p in active[list_id].marketing_permissions}
            permissions = [p for p in permission_ids if p in known]
            shown = None if interests is None else offered
            choices.append(Choice(list_id, interests, permissions, shown))
        return choices

    async def request(
        self,
        installation_id: int,
        email: str,
        choices: list[Choice],
        action: Action,
        *,
        source: Source,
        fresh_consent: bool,
        first_name: str | None = None,
        last_name: str | None = None,
        saleor_user_id: str | None = None,
        language: str | None = None,
        customer: bool = False,
        permissions_exact: bool = False,
        address_confirmed: bool = True,
    ) -> int:
        """Record the store-side change and queue it; returns how many audiences it touches.

        `customer`: `email` is a customer's own (the panel, the account page), so a contact held
        at their old address (Mailchimp refused this one) takes the change.
        `permissions_exact`, `address_confirmed`: see `ContactChange`."""
        now = utcnow()
        jobs = JobRepository(self.session)
        for choice in choices:
            found = (
                await self.contacts.of_customer(
                    installation_id, choice.list_id, email, saleor_user_id
                )
                if customer
                else None
            )
            address = found.email if found is not None else email.lower()
            state = found or await self.contacts.get_or_create(
                installation_id, choice.list_id, address
            )
            change = ContactChange(
                email=address,
                list_id=choice.list_id,
                action=action,
                interest_ids=choice.interest_ids,
                offered_ids=choice.offered_ids,
                permission_ids=choice.permission_ids,
                first_name=first_name or None,
                last_name=last_name or None,
                source=source,
                fresh_consent=fresh_consent,
                requested_at=now,
                base_synced_at=state.synced_at,
                saleor_user_id=saleor_user_id,
                language=language or None,
                held_for=email.lower() if address != email.lower() else None,
                permissions_exact=permissions_exact,
                address_confirmed=address_confirmed,
            )
            state.store_changed_at = now
            # A held contact stays its customer's; an unproven change links only the contact
            # it makes (`apply`), never one of whoever holds the address.
            if saleor_user_id and state.held_for is None and change.address_proven:
                state.saleor_user_id = saleor_user_id
            await jobs.enqueue(
                installation_id,
                APPLY_JOB,
                change.model_dump(mode="json"),
                lane=contact_lane(address),
            )
        await self.session.flush()
        return len(choices)
