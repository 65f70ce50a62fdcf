"""The admin's view and edits of one customer's subscriptions (the dashboard customer panel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import AudienceGroup
from addon.audiences.repository import AudienceRepository
from addon.audiences.schemas import ImportedGroup
from addon.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    Unprocessable,
)
from addon.installations.models import Installation
from addon.privacy.erased import erased_among
from addon.saleor.customers import customer_email
from addon.services import Services
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import (
    Action,
    AdminChange,
    ChangeAccepted,
    CustomerAudience,
    CustomerSubscriptions,
    PermissionState,
    Source,
    address_forms,
    normalize_email,
)
from addon.subscriptions.service import COMPLIANCE_STATES, SubscriptionService, offered_groups

_ONLY_THE_SHOPPER = (
    "only the customer can subscribe again, with their own consent, for example through the "
    "storefront's newsletter form, at checkout or on their account page (Mailchimp then asks "
    "them to confirm)."
)


def subscribe_blocked_reason(status: str, audience_name: str) -> str | None:
    """Why staff may not subscribe a contact in this status, or None when they may."""
    if status not in COMPLIANCE_STATES:
        return None
    if status == "unsubscribed":
        return (
            f"This customer unsubscribed from {audience_name}, so staff cannot subscribe them "
            f"again: {_ONLY_THE_SHOPPER}"
        )
    return (
        f"Mailchimp stopped sending to this address in {audience_name} because it bounced, "
        f"so staff cannot subscribe it again: {_ONLY_THE_SHOPPER}"
    )


def erased_reason(erased_at: datetime) -> str:
    """Why staff may not subscribe a customer the store erased: the erasure's point is that
    nothing of them is processed any more, and Mailchimp forgot the address for good (it
    refuses it as "Forgotten Email Not Subscribed" where it was erased)."""
    return (
        f"This customer was erased from Mailchimp on {erased_at:%d %b %Y}, so staff cannot "
        "subscribe them again: only the customer can come back, by signing up through one of "
        "Mailchimp's own signup forms (Mailchimp refuses the address from anywhere else)."
    )


def set_groups_blocked_reason(status: str, audience_name: str) -> str | None:
    """Why staff may not change the groups of a contact in this status, or None when they may:
    Mailchimp lets no one edit a cleaned contact (`member_write`)."""
    if status != "cleaned":
        return None
    return (
        f"Mailchimp stopped sending to this address in {audience_name} because it bounced, and "
        f"lets no one edit such a contact, so staff cannot change its groups: {_ONLY_THE_SHOPPER}"
    )


class ConsentRequired(Conflict):
    code = ErrorCode.CONSENT_REQUIRED


def _live(group: AudienceGroup) -> bool:
    return group.removed_at is None


class AdminSubscriptionService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services

    async def _customer_email(self, installation: Installation, customer_id: str) -> str:
        address = await customer_email(
            self.services.saleor, installation.saleor_api_url, installation.app_token, customer_id
        )
        try:
            return normalize_email(address)
        except ValueError as exc:  # Saleor's rules for addresses differ from email-validator's
            raise Unprocessable(
                "This customer's e-mail address cannot be used with Mailchimp.",
                code=ErrorCode.INVALID_EMAIL,
            ) from exc

    async def read(self, installation: Installation, customer_id: str) -> CustomerSubscriptions:
        email = await self._customer_email(installation, customer_id)
        erased_at = await self._erased_at(installation, email)
        contacts = ContactRepository(self.session)
        repository = AudienceRepository(self.session)
        all_groups = [g for g in await repository.groups(installation.id) if _live(g)]
        audiences = []
        for audience in await repository.active_audiences(installation.id):
            state = await contacts.of_customer(
                installation.id, audience.list_id, email, customer_id
            )
            status = state.status if state else "none"
            groups = list(state.interests) if state else []
            mine = [g for g in all_groups if g.list_id == audience.list_id]
            names = {
                str(i["id"]): f"{g.title}: {i['name']}"
                for g in mine
                for i in g.interests
                if str(i["id"]) in groups
            }
            blocked = subscribe_blocked_reason(status, audience.name)
            if erased_at is not None and status == "none":
                blocked = erased_reason(erased_at)
            enabled = set(state.enabled_permissions) if state else set()
            audiences.append(
                CustomerAudience(
                    list_id=audience.list_id,
                    name=audience.name,
                    status=status,
                    groups=groups,
                    group_names=names,
                    offered_groups=[
                        ImportedGroup.model_validate(g)
                        for g in offered_groups(all_groups, audience.list_id)
                    ],
                    can_subscribe=blocked is None,
                    subscribe_blocked_reason=blocked,
                    tags=list(state.tags) if state else [],
                    marketing_permissions=[
                        PermissionState(
                            id=str(p["id"]), text=str(p["text"]), enabled=str(p["id"]) in enabled
                        )
                        for p in audience.marketing_permissions
                    ],
                    last_change_source=state.last_change_source if state else None,
                    last_change_at=state.last_change_at if state else None,
                    last_problem=state.last_problem if state else None,
                    contact_email=state.email if state and state.email != email else None,
                )
            )
        return CustomerSubscriptions(
            customer_id=customer_id, email=email, audiences=audiences, erased_at=erased_at
        )

    async def _erased_at(self, installation: Installation, email: str) -> datetime | None:
        """When the store erased the address (any of its forms), if it did."""
        erased = await erased_among(self.session, installation.id, address_forms(email))
        return max(erased.values(), default=None)

    async def change(
        self, installation: Installation, customer_id: str, body: AdminChange
    ) -> ChangeAccepted:
        email = await self._customer_email(installation, customer_id)
        service = SubscriptionService(self.session, self.services)
        choices = await service.resolve(installation.id, [body.list_id], body.groups, [])
        if not choices or choices[0].list_id != body.list_id:
            raise BadRequest(
                "This audience is not active in the store.", code=ErrorCode.UNKNOWN_AUDIENCE
            )
        if body.action is Action.SET_GROUPS and body.groups is None:
            raise BadRequest(
                "Say which groups the customer should be in.", code=ErrorCode.NO_GROUPS
            )
        blocked_reason = {
            Action.SUBSCRIBE: subscribe_blocked_reason,
            Action.SET_GROUPS: set_groups_blocked_reason,
        }.get(body.action)
        if blocked_reason is not None:
            # An admin's action is not the shopper's consent, and a cleaned contact cannot be
            # edited: say so rather than accept a change that would do nothing.
            contacts = ContactRepository(self.session)
            state = await contacts.of_customer(installation.id, body.list_id, email, customer_id)
            audience = await AudienceRepository(self.session).audience(
                installation.id, body.list_id
            )
            status = state.status if state else "none"
            blocked = blocked_reason(status, audience.name if audience else body.list_id)
            if body.action is Action.SUBSCRIBE and status == "none" and blocked is None:
                erased_at = await self._erased_at(installation, email)
                blocked = erased_reason(erased_at) if erased_at is not None else None
            if blocked is not None:
                raise ConsentRequired(blocked)
        queued = await service.request(
            installation.id,
            email,
            choices,
            body.action,
            source=Source.ADMIN,
            # An admin's action is not the shopper's consent: it never re-subscribes a contact
            # who unsubscribed or bounced.
            fresh_consent=False,
            saleor_user_id=customer_id,
            customer=True,
        )
        return ChangeAccepted(queued=queued, message="The change will reach Mailchimp shortly.")
