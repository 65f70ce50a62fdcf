"""A cart for a shopper not yet in the store's audience (`post_joining`).

Current Mailchimp refuses a cart whose customer's address is no contact of the store's
audience, with a message containing "not found in audience": Mailchimp for WooCommerce (commit
79b00d1, 2026-02-09, includes/processes/class-mailchimp-woocommerce-cart-update.php) meets it
for "first time contacts not existing on the audience", puts the member as `transactional` and
posts the cart again. So does the app, once: a guest's first checkout is the abandoned-cart
e-mails' main case. The member is put with `status_if_new` alone, which never changes an
existing member's status (an archived contact stays archived: tbar0970/jethro-pmm#708, the
sandbox's `members.py`).

A cart's `opt_in_status` "will never overwrite the opt-in status of a pre-existing Mailchimp list
member, but will apply to list members that are added through the e-commerce API endpoints" (the
spec's `E_commerce_Customer_2`). The contact added here stands for one the e-commerce API would
have added: it is `subscribed` if new and the cart carries its shopper's opt-in
(`payloads.OptInPolicy`), else `transactional`, and nothing else is written to a member. Consent
given to a contact that exists already is the subscriptions capability's (its rules, its contact
record).

Never added, and the cart not sent (`CartNotSent`; its record removed with the note): an address
the app erased (a GDPR erasure: nothing of it is processed again, so it is checked before the
first POST), one Mailchimp forgot, refuses as fake or keeps in a compliance state, and an
archived contact. An address Mailchimp refuses "for now" (too many signups) is raised, retried
as any failure.

No batch sends a cart: a burst keeps one push per cart (`burst_plan.py`), and the initial sync
sends none. So the refusal is met here, and at a cart's PATCH (`sale_sender._send_cart`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from addon.ecommerce.failures import without_address
from addon.mailchimp import (
    AddressRefused,
    BadRequest,
    CartInput,
    ForgottenEmailNotSubscribed,
    MailchimpClient,
    MemberInComplianceState,
    MemberUpsert,
)

# What Mailchimp's refusal says (its exact wording is not published: these are the words
# Mailchimp for WooCommerce looks for).
NOT_IN_AUDIENCE = "not found in audience"

_WHY = "Mailchimp takes an abandoned cart only from a contact of the store's audience"
NOT_JOINED_ERASED = (
    f"Not sent: its shopper's address was erased (a GDPR erasure), and {_WHY}; the app never "
    "adds an erased address back."
)
NOT_JOINED_ARCHIVED = (
    f"Not sent: its shopper is archived in Mailchimp, and {_WHY}; the app does not bring an "
    "archived contact back (unarchive it in Mailchimp for its carts to go)."
)
NOT_JOINED_FORGOTTEN = (
    f"Not sent: Mailchimp permanently deleted its shopper's address, and {_WHY}, which that "
    "address cannot become through the API again."
)
NOT_JOINED_REFUSED = f"Not sent: Mailchimp refused its shopper's address as a contact, and {_WHY}."
NOT_JOINED_COMPLIANCE = (
    f"Not sent: Mailchimp keeps its shopper's contact out of the audience (a compliance "
    f"state), and {_WHY}."
)


class CartNotSent(Exception):
    """The cart's shopper is not in the audience and is not added: `note` says why."""

    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def not_in_audience(exc: BadRequest) -> bool:
    return NOT_IN_AUDIENCE in f"{exc.title} {exc.detail}".lower()


async def post_joining(
    client: MailchimpClient,
    list_id: str,
    body: CartInput,
    post: Callable[[CartInput], Awaitable[object]],
    erased: Callable[[str], Awaitable[bool]],
) -> None:
    """`post(body)`; refused for a shopper not in the audience, the shopper added (see the
    module) and `post(body)` once more. `erased(address)`: whether the app erased it, asked
    before any POST. A refusal left is raised without the address (`failures.without_address`)."""
    email = body.customer.email_address
    if email and await erased(email):
        raise CartNotSent(NOT_JOINED_ERASED)
    try:
        await post(body)
        return
    except BadRequest as exc:
        if not email or not not_in_audience(exc):
            raise
        without_address(exc, email)
    status = "subscribed" if body.customer.opt_in_status else "transactional"
    try:
        member = await client.upsert_member(
            list_id, MemberUpsert(email_address=email, status_if_new=status)
        )
    except ForgottenEmailNotSubscribed as exc:
        raise CartNotSent(NOT_JOINED_FORGOTTEN) from without_address(exc, email)
    except AddressRefused as exc:
        if exc.too_many_signups:
            raise without_address(exc, email) from None
        raise CartNotSent(NOT_JOINED_REFUSED) from without_address(exc, email)
    except MemberInComplianceState as exc:
        raise CartNotSent(NOT_JOINED_COMPLIANCE) from without_address(exc, email)
    if member.status == "archived":
        raise CartNotSent(NOT_JOINED_ARCHIVED)
    try:
        await post(body)
    except BadRequest as exc:
        raise without_address(exc, email) from None
