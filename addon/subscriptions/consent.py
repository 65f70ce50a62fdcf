"""Consent recorded by the storefront in Saleor metadata: at checkout and at registration."""

from __future__ import annotations

import logging
from dataclasses import dataclass

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


class _WithMetadata(_Payload):
    metadata: list[MetadataItem] = Field(default_factory=list)

    @property
    def consent(self) -> Consent:
        return Consent.from_metadata({m.key: m.value for m in self.metadata})


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


class UserRef(_WithMetadata, Named):
    id: str
    email: str | None = None

    def signup(self) -> Signup:
        """Consent given when registering."""
        return Signup(
            email=self.email,
            consent=self.consent,
            source=Source.REGISTRATION,
            name=self,
            saleor_user_id=self.id,
        )


class OrderRef(_WithMetadata):
    id: str
    user_email: str | None = Field(default=None, alias="userEmail")
    user: UserRef | None = None
    billing_address: Named | None = Field(default=None, alias="billingAddress")
    language_code: str | None = Field(default=None, alias="languageCodeEnum")

    def signup(self) -> Signup:
        """Consent given at checkout, for the order's e-mail address."""
        user = self.user
        email = self.user_email or (user.email if user else None)
        # A checkout's e-mail may be another than its signed-in user's: that address's status
        # belongs to whoever owns the address, never to this user's account.
        owner = user if user and email and (user.email or "").lower() == email.lower() else None
        return Signup(
            email=email,
            consent=self.consent,
            source=Source.CHECKOUT,
            name=self.billing_address,
            saleor_user_id=owner.id if owner else None,
            language=self.language_code,
        )


class OrderCreated(_Payload):
    order: OrderRef | None = None


class CustomerCreated(_Payload):
    user: UserRef | None = None


async def _subscribe(services: Services, installation_id: int, signup: Signup) -> None:
    consent, source, email = signup.consent, signup.source, signup.email
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
            first_name=signup.name.first_name if signup.name else None,
            last_name=signup.name.last_name if signup.name else None,
            saleor_user_id=signup.saleor_user_id,
            language=signup.language,
        )


async def handle_order_created(
    job: ClaimedJob, delivery: WebhookJob[OrderCreated], services: Services
) -> None:
    if delivery.body.order is not None:
        await _subscribe(services, job.installation_id, delivery.body.order.signup())


async def handle_customer_created(
    job: ClaimedJob, delivery: WebhookJob[CustomerCreated], services: Services
) -> None:
    if delivery.body.user is not None:
        await _subscribe(services, job.installation_id, delivery.body.user.signup())
