"""What Saleor says of a consent: the order, checkout or customer that carries it, read from
Saleor or from a webhook's body (`consent.py`, `checkout_owner.py`), and the `Signup` each
makes: who gave it, to what, where, and whether the address is known to be theirs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from addon.subscriptions.metadata import Consent
from addon.subscriptions.schemas import Source


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
    checkout_id: str | None = Field(default=None, alias="checkoutId")
    events: list[Placed] = Field(default_factory=list)
    # The user its checkout's consent was given by, signed in (`checkout_owner.py`): never
    # read from Saleor's answer, set by the app (`placed_from`).
    _checkout_user: str | None = PrivateAttr(default=None)

    def placed_from(self, checkout_user: str | None) -> OrderRef:
        """This order, its checkout's consent known to be `checkout_user`'s, signed in."""
        order = self.model_copy()
        order._checkout_user = checkout_user
        return order

    def owner(self, email: str | None) -> UserRef | None:
        """The order's user only when they placed it signed in. Saleor gives a guest's
        checkout to the active account holding the e-mail typed (saleor/checkout/
        complete_checkout.py `assign_checkout_user`, as at 3.20.0): the order's `user` is set
        though nobody signed in. Its PLACED event names the user of the request that completed
        it (`order_created` → saleor/order/events.py `order_created_event(user=user)`): the
        signed-in customer, none for a guest. An order from a draft (PLACED_FROM_DRAFT: staff
        placed it) proves nothing of the customer's address. Nor does the PLACED event of one
        an app made from a checkout (`orderCreateFromCheckout` passes the app's request's user,
        none): Saleor records the same for a guest's checkout given to an account. (One
        completed automatically once paid has a PLACED_AUTOMATICALLY_FROM_PAID_CHECKOUT event
        instead, naming the paying request's user at 3.20, nobody at 723cd4e: not read as
        proof.) For those the checkout tells: `assign_checkout_user` gives a checkout to an
        account only when it has no user, so a user on it before it was completed was its
        shopper, signed in (`checkout_owner`: the user its consent was written under)."""
        owner = super().owner(email)
        placed_by = {e.user.id for e in self.events if e.type == "PLACED" and e.user is not None}
        if self._checkout_user is not None:
            placed_by.add(self._checkout_user)
        return owner if owner is not None and owner.id in placed_by else None

    def signup(self) -> Signup:
        """The checkout's consent, given when the order was placed, in the order's language."""
        return replace(super().signup(), language=self.language_code, given_at=self.created)


class OrderCreated(_Payload):
    order: OrderRef | None = None


class CustomerCreated(_Payload):
    user: UserRef | None = None
