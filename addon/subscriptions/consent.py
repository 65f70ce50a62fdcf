"""Consent recorded by the storefront in Saleor metadata: at checkout and at registration."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.services import Services
from addon.subscriptions.metadata import Consent
from addon.subscriptions.schemas import Action, Source, normalize_email
from addon.subscriptions.service import SubscriptionService, is_connected

logger = logging.getLogger(__name__)


class _Payload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class MetadataItem(_Payload):
    key: str
    value: str


class UserRef(_Payload):
    id: str
    email: str | None = None
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    metadata: list[MetadataItem] = Field(default_factory=list)


class AddressRef(_Payload):
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")


class OrderRef(_Payload):
    id: str
    user_email: str | None = Field(default=None, alias="userEmail")
    user: UserRef | None = None
    billing_address: AddressRef | None = Field(default=None, alias="billingAddress")
    metadata: list[MetadataItem] = Field(default_factory=list)


class OrderCreated(_Payload):
    order: OrderRef | None = None


class CustomerCreated(_Payload):
    user: UserRef | None = None


async def _subscribe(
    services: Services,
    installation_id: int,
    *,
    email: str | None,
    consent: Consent,
    source: Source,
    first_name: str | None,
    last_name: str | None,
    saleor_user_id: str | None,
) -> None:
    if not consent.subscribe or not email:
        return  # no consent recorded: no subscription
    try:
        address = normalize_email(email)
    except ValueError:
        logger.info("Ignored consent with an invalid e-mail address (%s)", source.value)
        return
    async with services.db.transaction() as session:
        if not await is_connected(session, installation_id):
            return
        service = SubscriptionService(session, services)
        choices = await service.resolve(
            installation_id, consent.audiences, consent.groups, consent.permissions
        )
        await service.request(
            installation_id,
            address,
            choices,
            Action.SUBSCRIBE,
            source=source,
            fresh_consent=True,
            first_name=first_name,
            last_name=last_name,
            saleor_user_id=saleor_user_id,
        )


async def handle_order_created(
    job: ClaimedJob, delivery: WebhookJob[OrderCreated], services: Services
) -> None:
    order = delivery.body.order
    if order is None:
        return
    consent = Consent.from_metadata({m.key: m.value for m in order.metadata})
    billing = order.billing_address
    email = order.user_email or (order.user.email if order.user else None)
    # A checkout's e-mail may be another than its signed-in user's: that address's status
    # belongs to whoever owns the address, never to this user's account.
    user = order.user
    owner = user if user and email and (user.email or "").lower() == email.lower() else None
    await _subscribe(
        services,
        job.installation_id,
        email=email,
        consent=consent,
        source=Source.CHECKOUT,
        first_name=billing.first_name if billing else None,
        last_name=billing.last_name if billing else None,
        saleor_user_id=owner.id if owner else None,
    )


async def handle_customer_created(
    job: ClaimedJob, delivery: WebhookJob[CustomerCreated], services: Services
) -> None:
    user = delivery.body.user
    if user is None:
        return
    await _subscribe(
        services,
        job.installation_id,
        email=user.email,
        consent=Consent.from_metadata({m.key: m.value for m in user.metadata}),
        source=Source.REGISTRATION,
        first_name=user.first_name,
        last_name=user.last_name,
        saleor_user_id=user.id,
    )
