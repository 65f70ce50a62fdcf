"""The public storefront API's logic: the offer, subscribing, the signed-in customer's page."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import Audience
from addon.audiences.repository import AudienceRepository
from addon.audiences.schemas import ImportedGroup, PermissionInfo
from addon.errors import Conflict, ErrorCode, Unprocessable
from addon.installations.models import Installation
from addon.services import Services
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import (
    AccountHolder,
    Action,
    AudienceOutcome,
    ChangeAccepted,
    ContactChange,
    MyAudience,
    MyAudienceChange,
    MySubscriptions,
    MySubscriptionsUpdate,
    Offer,
    OfferedAudience,
    Source,
    SubscribeAccepted,
    SubscribeRequest,
)
from addon.subscriptions.service import (
    APPLY_JOB,
    Choice,
    SubscriptionService,
    double_optin_applies,
    is_connected,
    offered_groups,
    shown_interests,
)
from addon.subscriptions.writeback import waiting_in_lane


class NewsletterUnavailable(Conflict):
    code = ErrorCode.NEWSLETTER_UNAVAILABLE


# The statuses of a contact in its audience (not one who left or was never in it).
STAYING = ("subscribed", "pending")
SAVED = "Your newsletter choices were saved."
ONLY_LEAVING = (
    "This newsletter is not offered right now: you can leave it or withdraw its marketing "
    "permissions, but not join it, change its groups or give a permission."
)
GIVE_WITH_AUDIENCE = (
    "A marketing permission is given with the newsletter it belongs to: name it in "
    "`audiences` (subscribed: true). Without `audiences`, `permissions` can only withdraw."
)


class StorefrontService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.audiences = AudienceRepository(session)
        self.subscriptions = SubscriptionService(session, services)

    async def _active(self, installation: Installation) -> list[Audience]:
        if not await is_connected(self.session, installation.id):
            return []
        return await self.audiences.active_audiences(installation.id)

    async def offer(self, installation: Installation) -> Offer:
        settings = await self.audiences.settings(installation.id)
        groups = await self.audiences.groups(installation.id)
        return Offer(
            allow_multiple=settings.allow_multiple,
            audiences=[
                OfferedAudience(
                    list_id=a.list_id,
                    name=a.name,
                    is_default=a.list_id == settings.default_list_id,
                    double_optin=double_optin_applies(settings, a),
                    marketing_permissions=[
                        PermissionInfo.model_validate(p) for p in a.marketing_permissions
                    ],
                    groups=[
                        ImportedGroup.model_validate(g) for g in offered_groups(groups, a.list_id)
                    ],
                )
                for a in await self._active(installation)
            ],
        )

    async def _choices(
        self,
        installation: Installation,
        list_ids: list[str],
        groups: list[str] | None,
        permissions: list[str],
        *,
        leaving: bool = False,
    ) -> list[Choice]:
        """`leaving`: an unsubscribe, taken while Mailchimp is disconnected too (it waits for
        the reconnection, `apply`), for every audience the app knows, offered or not."""
        if not leaving and not await self._active(installation):
            raise NewsletterUnavailable("This store does not offer a newsletter right now.")
        choices = await self.subscriptions.resolve(
            installation.id, list_ids, groups, permissions, leaving=leaving
        )
        if not choices:
            raise NewsletterUnavailable("None of the chosen newsletters is offered by this store.")
        return choices

    async def _unavailable(self, installation: Installation) -> NewsletterUnavailable:
        if not await self._active(installation):
            return NewsletterUnavailable("This store does not offer a newsletter right now.")
        return NewsletterUnavailable("None of the chosen newsletters is offered by this store.")

    async def subscribe(
        self, installation: Installation, body: SubscribeRequest
    ) -> SubscribeAccepted:
        choices = await self._choices(installation, body.audiences, body.groups, body.permissions)
        await self.subscriptions.request(
            installation.id,
            body.email,
            choices,
            Action.SUBSCRIBE,
            source=Source.STOREFRONT,
            fresh_consent=True,
            first_name=body.first_name,
            last_name=body.last_name,
        )
        return SubscribeAccepted(
            audiences=await self._outcomes(installation, choices),
            message="Thank you! If confirmation is needed, we have sent you an e-mail.",
        )

    async def _outcomes(
        self, installation: Installation, choices: list[Choice]
    ) -> list[AudienceOutcome]:
        # Decided by the settings alone, never by what is known of the address.
        settings = await self.audiences.settings(installation.id)
        outcomes = []
        for choice in choices:
            audience = await self.audiences.audience(installation.id, choice.list_id)
            assert audience is not None
            pending = double_optin_applies(settings, audience)
            outcomes.append(
                AudienceOutcome(
                    list_id=choice.list_id, status="pending" if pending else "subscribed"
                )
            )
        return outcomes

    async def _visible(
        self, installation_id: int, list_id: str, customer: AccountHolder
    ) -> ContactState | None:
        """The customer's contact in the audience, as the account page shows and changes it.
        An account whose owner has not confirmed the address proves nothing of it (anyone can
        register anyone's: `ContactChange.address_confirmed`): it sees only a contact linked to
        it (one its own change made, `apply`), and another's is answered as no contact."""
        state = await ContactRepository(self.session).of_customer(
            installation_id, list_id, customer.email, customer.user_id
        )
        if state is None or customer.confirmed:
            return state
        theirs = customer.user_id is not None and state.saleor_user_id == customer.user_id
        return state if theirs else None

    async def mine(self, installation: Installation, customer: AccountHolder) -> MySubscriptions:
        """Every offered audience, and one no longer offered while the customer is in it; also
        while Mailchimp is disconnected, from the app's own records: leaving and withdrawing a
        consent are always possible (GDPR art. 7(3)), and `joinable` says joining is not."""
        email = customer.email
        joinable = {a.list_id for a in await self._active(installation)}
        groups = await self.audiences.groups(installation.id)
        audiences = []
        for audience in await self.subscriptions.known_audiences(installation.id):
            state = await self._visible(installation.id, audience.list_id, customer)
            if not audience.active and (state is None or state.status not in STAYING):
                continue
            audiences.append(
                MyAudience(
                    list_id=audience.list_id,
                    name=audience.name,
                    status=state.status if state else "none",
                    groups=shown_interests(groups, audience.list_id, state.interests)
                    if state
                    else [],
                    marketing_permissions=state.enabled_permissions if state else [],
                    contact_email=state.email if state and state.email != email else None,
                    joinable=audience.list_id in joinable,
                )
            )
        return MySubscriptions(email=email, audiences=audiences)

    async def adds_anything(
        self, installation: Installation, customer: AccountHolder, body: MySubscriptionsUpdate
    ) -> bool:
        """Whether the save subscribes, or gives a group or a permission, that the customer's
        contact has not: the saves the account page's limit counts. Leaving, withdrawing and
        saving the same again never are (GDPR art. 7(3): as easy as giving)."""
        offered = {a.list_id: a for a in await self._active(installation)}
        for item in body.audiences:
            audience = offered.get(item.list_id)
            if not item.subscribed or audience is None:
                continue  # (an audience not offered changes nothing: `resolve`)
            state = await self._visible(installation.id, item.list_id, customer)
            if state is None or state.status not in ("subscribed", "pending"):
                return True
            if await self._leaving_waits(installation.id, state.email, item.list_id):
                return True  # coming back after a leaving still on its way
            if set(item.groups or []) - set(state.interests or []):
                return True
            enabled = set(state.enabled_permissions)
            if (set(body.permissions or []) & audience.permission_ids) - enabled:
                return True
        return False

    async def _leaving_waits(self, installation_id: int, address: str, list_id: str) -> bool:
        """An unsubscribe of the contact in this audience asked and not applied yet (its
        `apply` job waits in the contact's lane)."""
        waiting = await waiting_in_lane(self.session, installation_id, address, APPLY_JOB)
        changes = [ContactChange.model_validate(payload) for payload in waiting]
        return any(c.list_id == list_id and c.action is Action.UNSUBSCRIBE for c in changes)

    async def change_mine(
        self, installation: Installation, customer: AccountHolder, body: MySubscriptionsUpdate
    ) -> ChangeAccepted:
        if not body.audiences and body.permissions is not None:
            queued = await self._permissions_only(installation, customer, body.permissions)
            return ChangeAccepted(queued=queued, message=SAVED)
        joinable = {a.list_id for a in await self._active(installation)}
        queued = 0
        for item in body.audiences:
            if item.subscribed and item.list_id not in joinable:
                queued += await self._staying(installation, customer, item, body.permissions)
                continue
            choices = await self._choices(
                installation,
                [item.list_id],
                item.groups,
                body.permissions or [],
                leaving=not item.subscribed,
            )
            # Unconfirmed, only the contact the account made is theirs to change at will;
            # another's takes what an unproven change may do (`member_write`).
            mine = customer.confirmed or (
                await self._visible(installation.id, item.list_id, customer) is not None
            )
            queued += await self.subscriptions.request(
                installation.id,
                customer.email,
                choices,
                Action.SUBSCRIBE if item.subscribed else Action.UNSUBSCRIBE,
                source=Source.ACCOUNT_PAGE,
                fresh_consent=item.subscribed,
                saleor_user_id=customer.user_id,
                customer=True,
                permissions_exact=body.permissions is not None,
                address_confirmed=mine,
            )
        return ChangeAccepted(queued=queued, message=SAVED)

    async def _staying(
        self,
        installation: Installation,
        customer: AccountHolder,
        item: MyAudienceChange,
        permissions: list[str] | None,
    ) -> int:
        """`subscribed: true` for an audience the store cannot take a subscription to now (no
        longer offered, or Mailchimp disconnected). The page sends every audience it lists, so
        a customer in it stays as they are (their leaving of another in the same save must
        go), and may withdraw its permissions; joining or adding anything is refused."""
        audience = await self.audiences.audience(installation.id, item.list_id)
        state = None
        if audience is not None and audience.removed_at is None:
            state = await self._visible(installation.id, item.list_id, customer)
        if audience is None or state is None or state.status not in STAYING:
            raise await self._unavailable(installation)
        if item.groups is not None:
            # What the page shows (`mine`: no hidden or deleted group) is kept as it is; one
            # it does not show, left out or named as held, stays.
            held = list(state.interests or [])
            groups = await self.audiences.groups(installation.id)
            shown = set(shown_interests(groups, item.list_id, held))
            if set(item.groups) - set(held) or shown - set(item.groups):
                raise NewsletterUnavailable(ONLY_LEAVING)
        if permissions is None:
            return 0
        named, known = set(permissions), audience.permission_ids
        enabled = set(state.enabled_permissions)
        if (named & known) - enabled:
            raise NewsletterUnavailable(ONLY_LEAVING)
        if not (enabled & known) - named:
            return 0
        return await self._withdraw(installation, customer, audience, state, permissions)

    async def _permissions_only(
        self, installation: Installation, customer: AccountHolder, permissions: list[str]
    ) -> int:
        """`permissions` without `audiences`: the whole choice of the customer's marketing
        permissions, withdrawing those left out from each of their contacts holding one, in
        every audience the app knows (offered or not; it waits for a disconnected Mailchimp,
        `apply`). Giving one needs its audience named, so it is refused, never "saved"."""
        named = set(permissions)
        withdrawals: list[tuple[Audience, ContactState]] = []
        for audience in await self.subscriptions.known_audiences(installation.id):
            state = await self._visible(installation.id, audience.list_id, customer)
            known = audience.permission_ids
            enabled = set(state.enabled_permissions) if state else set()
            if (named & known) - enabled:
                raise Unprocessable(GIVE_WITH_AUDIENCE)
            # A cleaned contact cannot be edited (Mailchimp's rule); a buyer's or a removed
            # one is not in the audience to withdraw from (`member_write._unsubscribe`).
            withdrawable = state is not None and state.status in (*STAYING, "unsubscribed")
            if state is not None and withdrawable and (enabled & known) - named:
                withdrawals.append((audience, state))
        queued = 0
        for audience, state in withdrawals:
            queued += await self._withdraw(installation, customer, audience, state, permissions)
        return queued

    async def _withdraw(
        self,
        installation: Installation,
        customer: AccountHolder,
        audience: Audience,
        state: ContactState,
        permissions: list[str],
    ) -> int:
        """The change the page's own save makes with this choice of permissions: a contact in
        the audience stays in it (`subscribed: true`), one who left is unsubscribed again,
        either withdrawing the permissions it holds outside `permissions` (`permissions_exact`,
        `member_write`). Only a contact the customer sees (`_visible`) comes here. No fresh
        consent: a withdrawal never subscribes again a contact that left in Mailchimp before
        the app heard of it (`member_write`), and is never lost to a change made there
        (`apply`, `owed_withdrawals.withdraws`)."""
        staying = state.status in STAYING
        known = audience.permission_ids
        choice = Choice(audience.list_id, None, [p for p in permissions if p in known])
        return await self.subscriptions.request(
            installation.id,
            customer.email,
            [choice],
            Action.SUBSCRIBE if staying else Action.UNSUBSCRIBE,
            source=Source.ACCOUNT_PAGE,
            fresh_consent=False,
            saleor_user_id=customer.user_id,
            customer=True,
            permissions_exact=True,
        )
