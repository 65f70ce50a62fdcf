"""Subscription changes (job payloads) and the storefront and admin APIs' bodies."""

from __future__ import annotations

import contextlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    StrictBool,
    TypeAdapter,
)

from addon.audiences.schemas import ImportedGroup, PermissionInfo
from addon.saleor.schemas import SignedInCustomer


def _as_mailchimp_address(value: str) -> str:
    """After email-validator (through EmailStr: syntax, no control or unsafe characters, a
    real-looking domain): what Mailchimp accepts, in the form the app keys contacts by.

    Mailchimp takes no UTF-8 before the @ (internationalised domains are fine):
    https://mailchimp.com/help/international-characters-in-mailchimp/. The whole address is
    lowercased, as the app has always stored and matched it (Mailchimp's subscriber hash is the
    MD5 of the lowercased address).
    """
    local, _, _ = value.rpartition("@")
    if not local.isascii():
        raise ValueError("Mailchimp does not accept non-ASCII characters before the @")
    # RFC 5321 4.5.3.1: at most 64 octets before the @, 254 in all (email-validator allows more).
    if len(local) > 64 or len(value) > 254:
        raise ValueError("the address is too long")
    return value.lower()


# An address as it enters the app (request bodies, Saleor's consent records).
def _strip(value: object) -> object:
    if not isinstance(value, str):
        return value  # fails as not a string
    if "<" in value:  # EmailStr would take "Ann <ann@example.com>" as ann@example.com
        raise ValueError("give the address alone, without a name")
    return value.strip()


Email = Annotated[EmailStr, BeforeValidator(_strip), AfterValidator(_as_mailchimp_address)]
_EMAIL = TypeAdapter(Email)


def normalize_email(value: str) -> str:
    """The address as the app stores it; ValueError (a ValidationError) when it is not one."""
    return _EMAIL.validate_python(value)


def app_form(value: str) -> str:
    """An address from Saleor in the form the app keys contacts by (`normalize_email`: an
    internationalised domain Saleor holds in its ASCII form becomes the Unicode one); one the
    app would not take, lowercased, matches none."""
    try:
        return normalize_email(value)
    except ValueError:
        return value.lower()


def with_contact_domain(value: str) -> str:
    """An address from Saleor as it goes to Mailchimp outside the contacts the app writes (an
    e-commerce customer's): as Saleor holds it, but an internationalised domain in the form
    `normalize_email` gives the contact (Unicode). Mailchimp's member id hashes the address as
    written, so `bob@xn--bcher-kva.de` and `bob@bücher.de` are two contacts: a customer under
    the one and a subscription under the other were two subscribed contacts of one person,
    sent every campaign twice, their orders on the one not subscribed by the shopper. The rest
    is left as Saleor holds it (a change of case is a change of address to Mailchimp's
    e-commerce API, which refuses it), and so is an address the app would not take."""
    local, at, domain = value.strip().rpartition("@")
    if not at or (domain.isascii() and "xn--" not in domain.lower()):
        return value  # an ASCII domain: no other form
    try:
        unicode_domain = normalize_email(value).rpartition("@")[2]
    except ValueError:
        return value
    return f"{local}@{unicode_domain}"


def address_forms(value: str) -> set[str]:
    """The forms of an address the app may have stored or sent, lowercased: as given, the one
    contacts are keyed by (`app_form`), and an internationalised domain's ASCII (xn--) form."""
    lowered = value.strip().lower()
    forms = {lowered, app_form(lowered)}
    if not lowered.isascii():
        with contextlib.suppress(EmailNotValidError):
            forms.add(validate_email(lowered, check_deliverability=False).ascii_email or lowered)
    return forms


Name = Annotated[str, Field(max_length=100)]
Ids = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)]


class Source(StrEnum):
    CHECKOUT = "checkout"
    REGISTRATION = "registration"
    STOREFRONT = "storefront"
    ACCOUNT_PAGE = "account_page"
    ADMIN = "admin"
    MAILCHIMP = "mailchimp"


class Action(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    SET_GROUPS = "set_groups"


class ContactChange(BaseModel):
    """One store-side change of one contact in one audience (the `subscriptions.apply` job)."""

    email: str
    list_id: str
    action: Action
    # Chosen interests; the audience's other offered interests are turned off. None: unchanged.
    interest_ids: list[str] | None = None
    # The interests offered when the change was asked, of which `interest_ids` is the whole
    # choice: one the admin offers only since was never shown to whoever chose, and stays as
    # it is (`apply`). None: not known (a change queued before this was kept).
    offered_ids: list[str] | None = None
    permission_ids: list[str] = Field(default_factory=list)
    first_name: str | None = None
    last_name: str | None = None
    source: Source
    # The shopper's own consent given just now: only this may re-subscribe an unsubscribed
    # or cleaned contact (as `pending`, i.e. with a confirmation e-mail).
    fresh_consent: bool
    requested_at: datetime
    # When the two sides last agreed, as the store saw it when this change was made.
    base_synced_at: datetime | None = None
    saleor_user_id: str | None = None
    # Saleor's language code of the order or customer (e.g. EN_US), for the member's language.
    language: str | None = None
    # Asked for the customer at this address, and sent to their contact held at `email`
    # (Mailchimp refused this one): if the contact moved before the change runs, it follows.
    held_for: str | None = None
    # Tries so far of a subscription Mailchimp refused "for now" (`for_now.py`).
    attempt: int = 0
    # `permission_ids` is the whole choice (the account page's boxes): the audience's other
    # marketing permissions are withdrawn, as easily as they were given (GDPR art. 7(3)).
    permissions_exact: bool = False
    # False for a customer who has not confirmed the address (`User.isConfirmed`): Saleor
    # creates every user unconfirmed, and sends CUSTOMER_CREATED at once (saleor/graphql/
    # account/mutations/account/account_register.py `save`; staff's customerCreate too,
    # mutations/base.py `BaseCustomerCreate.clean_input`), confirmation by e-mail on or off; and
    # such a user signs in when the store turned confirmation off or allows logging in without
    # it (authentication/create_token.py `get_user`): a registration, the account page, the
    # user's own orders. (The account page's change of a contact the user made is theirs:
    # `storefront.StorefrontService._visible`.)
    address_confirmed: bool = True
    # A withdrawal that found no member, owed until Mailchimp's word of the member's move
    # (`awaiting_move`), waited for from when no member was found (`awaiting_since`), and then
    # sent once more (`move_waited`): no member then, it ends so.
    awaiting_move: bool = False
    awaiting_since: datetime | None = None
    move_waited: bool = False
    # Owed as a withdrawal (of what the contact's record held when it began to wait), not as a
    # sign-up, though a staying save has the shopper's fresh consent too: with no move told it
    # ends not sent, never made at the address left (`awaiting_move.signs_up`). None in one
    # owed by a release before this was kept: those owed only withdrawals.
    owed_withdrawal: bool | None = None

    @property
    def address_proven(self) -> bool:
        """Whether whoever asked is known to hold the address: a signed-in customer who
        confirmed it (the account page, their own order), a registration once confirmed, or
        staff. The public signup form, a guest's checkout and an account not confirmed prove
        nothing: Saleor checks no guest's address, and anyone can type, or register, anyone's."""
        if not self.address_confirmed:
            return False
        unproven = self.source in (Source.STOREFRONT, Source.CHECKOUT)
        return not unproven or self.saleor_user_id is not None


class MailchimpEvent(BaseModel):
    """One audience-webhook delivery from Mailchimp (the `subscriptions.mailchimp_event` job)."""

    type: str
    fired_at: str = ""
    list_id: str
    email: str
    new_email: str | None = None
    reason: str | None = None
    # An `unsubscribe`'s `data[action]`: "unsub" (the contact unsubscribed, or was unsubscribed)
    # or "delete" (an admin archived or deleted the contact: not their refusal).
    action: str | None = None
    received_at: datetime
    base_synced_at: datetime | None = None
    # The body was received before (`redelivery`): Mailchimp's retry, or a change made again
    # within the second of its `fired_at`. The member is read, never the body's word taken.
    seen_before: bool = False


# --- storefront ------------------------------------------------------------------------------


class OfferedAudience(BaseModel):
    list_id: str
    name: str
    is_default: bool
    double_optin: bool
    marketing_permissions: list[PermissionInfo]
    groups: list[ImportedGroup]


class Offer(BaseModel):
    allow_multiple: bool
    audiences: list[OfferedAudience]


class SubscribeRequest(BaseModel):
    email: Email
    first_name: Name | None = None
    last_name: Name | None = None
    audiences: Ids = Field(default_factory=list)
    groups: Ids = Field(default_factory=list)
    permissions: Ids = Field(default_factory=list)


class AudienceOutcome(BaseModel):
    list_id: str
    status: Literal["pending", "subscribed"]


class SubscribeAccepted(BaseModel):
    audiences: list[AudienceOutcome]
    message: str


class MyAudience(BaseModel):
    list_id: str
    name: str
    status: str
    groups: list[str]
    marketing_permissions: list[str]
    contact_email: str | None = Field(
        None,
        description="The contact's address when it is not the customer's: Mailchimp refused "
        "the customer's new address, so the contact stays at the old one, and changes reach it "
        "there.",
    )
    joinable: bool = Field(
        True,
        description="False when the store cannot take a subscription to it now (no longer "
        "offered, or Mailchimp disconnected): the customer can leave it and withdraw its "
        "marketing permissions, not join it nor change its groups or give a permission.",
    )


class AccountHolder(SignedInCustomer):
    """The account page's signed-in customer at their address as Saleor holds it now, not the
    one their token names, and whether Saleor says they confirmed their account
    (`addon.saleor.customers.current_account`): an unconfirmed account proves nothing of the
    address (`ContactChange.address_confirmed`)."""

    confirmed: bool


class MySubscriptions(BaseModel):
    email: str
    audiences: list[MyAudience]


class AudienceChange(BaseModel):
    """A change to a contact's place in one audience, asked by the shopper or by staff."""

    list_id: str = Field(max_length=64)
    # The interests chosen (the audience's other offered interests are turned off); None:
    # the contact's groups are left as they are.
    groups: Ids | None = None


class MyAudienceChange(AudienceChange):
    subscribed: StrictBool


def _each_audience_once(changes: list[MyAudienceChange]) -> list[MyAudienceChange]:
    """One change per audience: each is a Mailchimp write, and a repeated one (or a leave and
    a join of one audience in one save) is no choice the page can show."""
    if len({change.list_id for change in changes}) != len(changes):
        raise ValueError("each audience may appear once")
    return changes


class MySubscriptionsUpdate(BaseModel):
    audiences: Annotated[list[MyAudienceChange], AfterValidator(_each_audience_once)] = Field(
        max_length=50
    )
    # The marketing permissions agreed to: the audience's others are withdrawn. None: they stay
    # as they are.
    permissions: Ids | None = None


class ChangeAccepted(BaseModel):
    queued: int
    message: str


# --- admin -----------------------------------------------------------------------------------


class PermissionState(BaseModel):
    id: str
    text: str
    enabled: bool


class CustomerAudience(BaseModel):
    list_id: str
    name: str
    status: str
    groups: list[str] = Field(description="Interest ids the contact is in.")
    group_names: dict[str, str] = Field(
        default_factory=dict,
        description="For each of `groups` the app knows: 'Category: Interest'.",
    )
    offered_groups: list[ImportedGroup] = Field(
        default_factory=list,
        description="The audience's groups offered to shoppers, with their interests' names: "
        "the choices staff may change (set_groups, or subscribe with groups).",
    )
    can_subscribe: bool = Field(
        True,
        description="False when staff may not subscribe the contact (they unsubscribed or "
        "their address was cleaned): only the shopper's own consent can.",
    )
    subscribe_blocked_reason: str | None = Field(
        None, description="Why `can_subscribe` is false and what can be done, in words."
    )
    tags: list[str]
    marketing_permissions: list[PermissionState]
    last_change_source: str | None
    last_change_at: datetime | None
    last_problem: str | None
    contact_email: str | None = Field(
        None,
        description="The contact's address when it is not the customer's: Mailchimp refused "
        "the customer's new address, so the contact stays at the old one, and changes reach it "
        "there.",
    )


class CustomerSubscriptions(BaseModel):
    customer_id: str
    email: str
    audiences: list[CustomerAudience]
    # When the store erased the customer's address from Mailchimp, if it did (the panel says
    # so; staff cannot subscribe them again: `admin.erased_reason`).
    erased_at: datetime | None = None


class AdminChange(AudienceChange):
    action: Action
