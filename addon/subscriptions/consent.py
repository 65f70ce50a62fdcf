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
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.installations.repository import InstallationRepository
from addon.jobs.schemas import ClaimedJob, RetryLater, WebhookJob
from addon.saleor.global_ids import global_id_type
from addon.services import Services
from addon.subscriptions.address_changed import queue_after_order
from addon.subscriptions.checkout_consent import CheckoutConsent, release_checkout_consent
from addon.subscriptions.checkout_owner import (
    READ_WAIT_SECONDS,
    CheckoutEvent,
    checkout_user,
    read_under_way,
    remember,
    remembered,
)
from addon.subscriptions.consent_payloads import (
    CheckoutRef,
    CustomerCreated,
    OrderCreated,
    OrderRef,
    Signup,
    UserRef,
)
from addon.subscriptions.customer_addresses import record_first_address
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
) -> _Read | None:
    """The order, checkout or customer as Saleor holds it now (None: it is gone, or the app
    uninstalled); Saleor failing to answer fails the job (retried)."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None:
        return None
    data = await services.saleor.execute(
        installation.saleor_api_url, installation.app_token, document, {"id": id_}
    )
    found = data.get(field)
    return as_.model_validate(found) if found else None


async def _subscribe_user(
    services: Services, installation_id: int, user_id: str, *, in_part: bool = True
) -> None:
    """Subscribe as the customer's registration, as Saleor holds it now, says (`_read`)."""
    user = await _read(
        services, installation_id, "subscriptions_signup_user", "user", user_id, UserRef
    )
    if user is not None:
        await _subscribe(services, installation_id, user.signup(), in_part=in_part)


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
        placed = await _read(
            services, job.installation_id, "subscriptions_signup_order", "order", order.id,
            OrderRef,
        )  # fmt: skip
        if placed is None:
            return
        checkout_id = placed.checkout_id
        async with services.db.session() as session:
            if checkout_id and await read_under_way(
                session, job.installation_id, checkout_id, job.id
            ):
                raise RetryLater("waits for its checkout's consent, being read", READ_WAIT_SECONDS)
            # Who gave its checkout's consent signed in, for an order whose PLACED event names
            # nobody though its shopper was (`checkout_owner.py`).
            user = await checkout_user(session, job.installation_id, checkout_id)
        await _subscribe(services, job.installation_id, placed.placed_from(user).signup())


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
        await _subscribe_user(services, job.installation_id, delivery.body.user.id)


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
        await _subscribe_user(services, job.installation_id, user.id, in_part=False)


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
    checkout = await _read(
        services, job.installation_id, "subscriptions_signup_checkout", "checkout",
        payload.checkout_id, CheckoutRef,
    )  # fmt: skip
    if checkout is None:
        return
    signup = checkout.signup()
    if not signup.consent.subscribe or app_form(signup.email or "") != app_form(payload.email):
        async with services.db.transaction() as session:
            await release_checkout_consent(session, job.id)
        return
    await _subscribe(services, job.installation_id, signup)


async def handle_checkout_owner(
    job: ClaimedJob, delivery: WebhookJob[CheckoutEvent], services: Services
) -> None:
    """CHECKOUT_CREATED / CHECKOUT_METADATA_UPDATED (webhooks/subscriptions_checkout_owner): who
    gave the checkout's consent, signed in, remembered for its order (`checkout_owner.py`). The
    body only says which checkout, and whether to look: Saleor is read for one whose body holds
    a consent, or one remembered already (its consent may have been taken back). Gone (its
    order placed, or deleted): what was remembered stays, for the order."""
    body = delivery.body.checkout
    if body is None or global_id_type(body.id) != "Checkout":
        return  # not a checkout's delivery (no read for whatever else a body names)
    if not body.consent.subscribe:
        async with services.db.session() as session:
            if not await remembered(session, job.installation_id, body.id):
                return
    read_at = utcnow()  # before the read: a read that starts later sees a later checkout
    checkout = await _read(
        services, job.installation_id, "subscriptions_signup_checkout", "checkout", body.id,
        CheckoutRef,
    )  # fmt: skip
    if checkout is None:
        return
    owner = checkout.owner(checkout.email) if checkout.consent.subscribe else None
    async with services.db.transaction() as session:
        await remember(
            session, job.installation_id, checkout.id, owner.id if owner else None, read_at
        )
