"""Consent recorded by the storefront in Saleor metadata: at checkout and at registration.

A delivery (ORDER_CREATED, CUSTOMER_CREATED, ACCOUNT_CONFIRMED, CUSTOMER_UPDATED, or one the
catch-up replays) says only which order or customer: the consent, the address and when it was
given (the order placed, the customer registered) are read from Saleor. The signature covers
the body alone, and the consent keys stay on the customer for good, so another delivery's body
posted here would carry them, and could name any time. A consent given before the contact last
left an audience (unsubscribed, cleaned, archived) is not given again: only a newer one
subscribes them. A registration's is applied in part while the account is unconfirmed, in full
once it is confirmed, once (`registration_consents.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.repository import InstallationRepository
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.services import Services
from addon.subscriptions.address_changed import queue_after_order
from addon.subscriptions.checkout_consent import CheckoutConsent, release_checkout_consent
from addon.subscriptions.customer_addresses import record_first_address
from addon.subscriptions.metadata import Consent
from addon.subscriptions.models import WITHDRAWN_STATUSES, ContactState
from addon.subscriptions.profile_sync import (
    CustomerChanged,
    handle_customer_changed,
    queue_member_updates,
)
from addon.subscriptions.registration_consents import (
    awaits_confirmation,
    claim_in_full,
    record_in_part,
)
from addon.subscriptions.schemas import Action, Source, app_form, normalize_email
from addon.subscriptions.service import SubscriptionService, is_connected

logger = logging.getLogger(__name__)


class _Payload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class MetadataItem(_Payload):
    key: str
    value: str


class _WithMetadata(_Payload):
    metadata: list[MetadataItem] = Field(default_factory=list)

    @property
    def consent(self) -> Consent:
        return Consent.from_metadata({m.key: m.value for m in self.metadata})


class _Id(_Payload):
    id: str


class Named(_Payload):
    """A customer's or a billing address's name."""

    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")


@dataclass(frozen=True)
class Signup:
    """Who gave consent, to what, and where; `saleor_user_id` only when the address is theirs."""

    email: str | None
    consent: Consent
    source: Source
    name: Named | None
    saleor_user_id: str | None
    # Saleor's language code of the order (the customer's own is read when sending).
    language: str | None = None
    # When it was given: the order placed, the customer registered.
    given_at: datetime | None = None
    # The user's address confirmed in Saleor, of a registration or of a signed-in user's own
    # order (`ContactChange.address_confirmed`).
    confirmed: bool = True


class UserRef(_WithMetadata, Named):
    id: str
    email: str | None = None
    date_joined: datetime | None = Field(default=None, alias="dateJoined")
    is_confirmed: bool = Field(default=True, alias="isConfirmed")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    def signup(self) -> Signup:
        """Consent given when registering."""
        return Signup(
            email=self.email,
            consent=self.consent,
            source=Source.REGISTRATION,
            name=self,
            saleor_user_id=self.id,
            given_at=self.date_joined,
            confirmed=self.is_confirmed,
        )


class CheckoutRef(_WithMetadata):
    """A checkout, as Saleor holds it (`subscriptions_signup_checkout`), or its order."""

    id: str
    email: str | None = None
    user: UserRef | None = None
    billing_address: Named | None = Field(default=None, alias="billingAddress")

    def owner(self, email: str | None) -> UserRef | None:
        """The account `email` is known to be of: a checkout's signed-in user's own address. A
        checkout's e-mail may be another than its user's: that address's status belongs to
        whoever owns the address, never to this user's account."""
        user = self.user
        return user if user and email and (user.email or "").lower() == email.lower() else None

    def signup(self) -> Signup:
        """Consent given at checkout, for its e-mail address; when is not known."""
        user = self.user
        email = self.email or (user.email if user else None)
        owner = self.owner(email)
        return Signup(
            email=email,
            consent=self.consent,
            source=Source.CHECKOUT,
            name=self.billing_address,
            saleor_user_id=owner.id if owner else None,
            confirmed=owner.is_confirmed if owner else True,
        )


class Placed(_Payload):
    """An order's event, as far as it says who placed it (`OrderRef.owner`)."""

    type: str | None = None
    user: _Id | None = None


class OrderRef(CheckoutRef):
    """The order placed from a checkout: Saleor copies the checkout's metadata to it. Its
    `events` are read with the consent (`subscriptions_signup_order`); a delivery's body has
    none (it is only a trigger: `handle_order_created` reads the order again)."""

    email: str | None = Field(default=None, alias="userEmail")
    language_code: str | None = Field(default=None, alias="languageCodeEnum")
    created: datetime | None = None
    events: list[Placed] = Field(default_factory=list)

    def owner(self, email: str | None) -> UserRef | None:
        """The order's user only when they placed it signed in. Saleor gives a guest's
        checkout to the active account holding the e-mail typed (saleor/checkout/
        complete_checkout.py `assign_checkout_user`, as at 3.20.0): the order's `user` is set
        though nobody signed in. Its PLACED event names the user of the request that completed
        it (`order_created` → saleor/order/events.py `order_created_event(user=user)`): the
        signed-in customer, none for a guest. An order from a draft (PLACED_FROM_DRAFT: staff
        placed it) proves nothing of the customer's address. Nor, though their shopper may have
        been signed in, does one an app made from a checkout (`orderCreateFromCheckout`: PLACED
        names no user) or one completed automatically once paid
        (PLACED_AUTOMATICALLY_FROM_PAID_CHECKOUT, no user): Saleor records the same for a
        guest's checkout given to an account (docs/storefront-api.md)."""
        owner = super().owner(email)
        placed_by = {e.user.id for e in self.events if e.type == "PLACED" and e.user is not None}
        return owner if owner is not None and owner.id in placed_by else None

    def signup(self) -> Signup:
        """The checkout's consent, given when the order was placed, in the order's language."""
        return replace(super().signup(), language=self.language_code, given_at=self.created)


class OrderCreated(_Payload):
    order: OrderRef | None = None


class CustomerCreated(_Payload):
    user: UserRef | None = None


async def _withdrawn_since(
    session: AsyncSession, installation_id: int, email: str, lists: list[str], signup: Signup
) -> list[str]:
    """The audiences the contact left (`ContactState.withdrawn_at`) after the consent was given
    (or when: one given at an unknown time, or a leaving not dated, counts as before it)."""
    states = await session.scalars(
        select(ContactState).where(
            ContactState.installation_id == installation_id,
            ContactState.email == email,
            ContactState.list_id.in_(lists),
            ContactState.status.in_(WITHDRAWN_STATUSES),
        )
    )
    given = signup.given_at
    return [
        state.list_id
        for state in states
        if given is None or state.withdrawn_at is None or state.withdrawn_at >= given
    ]


async def _subscribe(
    services: Services, installation_id: int, signup: Signup, *, in_part: bool = True
) -> None:
    """`in_part`: an unconfirmed account's registration is applied in part (at its creation),
    or not at all (an update of it: nothing new)."""
    consent, source, email = signup.consent, signup.source, signup.email
    if not consent.subscribe or not email:
        return  # no consent recorded: no subscription
    try:
        address = normalize_email(email)
    except ValueError:
        logger.info("Ignored consent with an invalid e-mail address (%s)", source.value)
        return
    user_id = signup.saleor_user_id if source is Source.REGISTRATION else None
    async with services.db.transaction() as session:
        if user_id is not None and not signup.confirmed:
            if not in_part:
                return
            # Recorded even when not connected: the confirmation then applies it in full.
            await record_in_part(session, installation_id, user_id, consent)
        if not await is_connected(session, installation_id):
            return
        if (
            user_id is not None
            and signup.confirmed
            and not await claim_in_full(session, installation_id, user_id, consent)
        ):
            return  # applied in full already: a retry, a duplicate, the confirmation's other event
        service = SubscriptionService(session, services)
        choices = await service.resolve(
            installation_id, consent.audiences, consent.groups, consent.permissions
        )
        left = await _withdrawn_since(
            session, installation_id, address, [c.list_id for c in choices], signup
        )
        if left:
            logger.info(
                "Ignored %s consent given before the contact left %d audience(s)",
                source.value,
                len(left),
            )
        choices = [c for c in choices if c.list_id not in left]
        if not choices:
            return
        await service.request(
            installation_id,
            address,
            choices,
            Action.SUBSCRIBE,
            source=source,
            fresh_consent=True,
            first_name=signup.name.first_name if signup.name else None,
            last_name=signup.name.last_name if signup.name else None,
            saleor_user_id=signup.saleor_user_id,
            language=signup.language,
            address_confirmed=signup.confirmed,
        )


_Read = TypeVar("_Read", UserRef, OrderRef, CheckoutRef)


async def _read(
    services: Services,
    installation_id: int,
    document: str,
    field: str,
    id_: str,
    as_: type[_Read],
) -> Signup | None:
    """The consent of the order, checkout or customer as Saleor holds it now (None: it is gone,
    or the app uninstalled); Saleor failing to answer fails the job (retried)."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None:
        return None
    data = await services.saleor.execute(
        installation.saleor_api_url, installation.app_token, document, {"id": id_}
    )
    found = data.get(field)
    return as_.model_validate(found).signup() if found else None


async def _subscribe_read(
    services: Services,
    installation_id: int,
    document: str,
    field: str,
    id_: str,
    as_: type[_Read],
    *,
    in_part: bool = True,
) -> None:
    """Subscribe as the order, checkout or customer Saleor holds now says (`_read`)."""
    signup = await _read(services, installation_id, document, field, id_, as_)
    if signup is not None:
        await _subscribe(services, installation_id, signup, in_part=in_part)


# How long before its order a checkout's completion may save its customer: in the payment flow
# the addresses are stored before the payment gateway is called, the order made after it
# (saleor/checkout/complete_checkout.py `complete_checkout_pre_payment_part`, then
# `complete_checkout_post_payment_part`).
_DEFAULTS_SAVED_BEFORE = timedelta(minutes=2)


def _set_defaults(order: OrderRef) -> bool:
    """Whether placing the order may have made its customer's default addresses. Saleor makes
    an order's address a default only where the customer has none, saving the user's
    `updated_at` then and only then (saleor/account/utils.py `store_user_address` →
    `set_user_default_billing_address`); a customer not saved around the order's placement
    already had both defaults, which the order left as they were: no profile update (one per
    order was a job and a Saleor read for every order of a registered subscriber). A payload
    without the times (a subscription registered before they were asked) may have."""
    user = order.user
    if user is None or user.updated_at is None or order.created is None:
        return True
    return user.updated_at >= order.created - _DEFAULTS_SAVED_BEFORE


async def handle_order_created(
    job: ClaimedJob, delivery: WebhookJob[OrderCreated], services: Services
) -> None:
    order = delivery.body.order
    if order is not None and order.user is not None and order.user.email and _set_defaults(order):
        # The order may have set the customer's default addresses, with no event of their own.
        await queue_after_order(services, job.installation_id, order.user.id, order.user.email)
    # Saleor is asked only when the delivery says the shopper consented (most orders do not):
    # a body that says otherwise subscribes nobody, whatever it is.
    if order is not None and order.consent.subscribe:
        await _subscribe_read(
            services, job.installation_id, "subscriptions_signup_order", "order", order.id,
            OrderRef,
        )  # fmt: skip


async def handle_customer_created(
    job: ClaimedJob, delivery: WebhookJob[CustomerCreated], services: Services
) -> None:
    user = delivery.body.user
    if user is not None and user.email:
        # Their address, for their e-mail changes (`customer_addresses.record_first_address`);
        # a contact already at it (a newsletter sign-up before the account) takes their
        # profile (`profile_sync`: only once the account is confirmed, or the contact theirs).
        async with services.db.transaction() as session:
            await record_first_address(session, job.installation_id, user.id, user.email)
            await queue_member_updates(session, job.installation_id, user.id, user.email)
    if delivery.body.user is not None and delivery.body.user.consent.subscribe:
        await _subscribe_read(
            services, job.installation_id, "subscriptions_signup_user", "user",
            delivery.body.user.id, UserRef,
        )  # fmt: skip


async def handle_customer_updated(
    job: ClaimedJob, delivery: WebhookJob[CustomerChanged], services: Services
) -> None:
    """CUSTOMER_UPDATED / CUSTOMER_METADATA_UPDATED (webhooks/subscriptions_customer_updated):
    the profile follows (`profile_sync`), and a registration's consent awaiting its confirmation
    is applied in full once Saleor shows the account confirmed: staff confirming it send this
    event alone (saleor/graphql/account/mutations/staff/customer_update.py `generate_events`),
    and the catch-up replays a confirmation it missed as an update."""
    await handle_customer_changed(job, delivery, services)
    user = delivery.body.user
    if user is None:
        return
    async with services.db.session() as session:
        awaiting = await awaits_confirmation(session, job.installation_id, user.id)
    if awaiting:  # Saleor is read only for these: most updates are of no such customer
        await _subscribe_read(
            services, job.installation_id, "subscriptions_signup_user", "user", user.id,
            UserRef, in_part=False,
        )  # fmt: skip


async def handle_checkout_consent(
    job: ClaimedJob, payload: CheckoutConsent, services: Services
) -> None:
    """A consent recorded on a checkout whose cart was sent (`checkout_consent.py`), applied as
    Saleor holds the checkout now, as an order's is (`CheckoutRef.signup`): its whole consent,
    a signed-in owner's confirmed address proven. Nothing for a checkout gone (completed: its
    order brings the consent; or deleted). Nothing either for one whose consent is off now, or
    whose e-mail is another (its push queued the consent for that address): the job's key is
    let go, so the consent given again later is queued again (`release_checkout_consent`).
    When it was given is not known (the checkout says only that it holds it): so a contact who
    ever left the audience is not subscribed by it (`_withdrawn_since`), however often run."""
    signup = await _read(
        services, job.installation_id, "subscriptions_signup_checkout", "checkout",
        payload.checkout_id, CheckoutRef,
    )  # fmt: skip
    if signup is None:
        return
    if not signup.consent.subscribe or app_form(signup.email or "") != app_form(payload.email):
        async with services.db.transaction() as session:
            await release_checkout_consent(session, job.id)
        return
    await _subscribe(services, job.installation_id, signup)
