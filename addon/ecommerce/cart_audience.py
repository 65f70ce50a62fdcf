"""A cart for a shopper not yet in the store's audience (`post_joining`), and its opt-in
(`subscribe_opted_in`).

Current Mailchimp refuses a cart whose customer's address is no contact of the store's
audience, with a message containing "not found in audience": Mailchimp for WooCommerce (commit
79b00d1, 2026-02-09, includes/processes/class-mailchimp-woocommerce-cart-update.php) meets it
for "first time contacts not existing on the audience", puts the member as `transactional` and
posts the cart again. So does the app, once: a guest's first checkout is the abandoned-cart
e-mails' main case. The member is put `transactional` with `status_if_new` alone, which never
changes an existing member's status (an archived contact stays archived: tbar0970/jethro-pmm#708,
the sandbox's `members.py`).

A cart's `opt_in_status` "will never overwrite the opt-in status of a pre-existing Mailchimp list
member, but will apply to list members that are added through the e-commerce API endpoints" (the
spec's `E_commerce_Customer_2`): not to the contact added above, before the cart. So a cart
carrying its shopper's opt-in (`payloads.OptInPolicy`: their recorded consent to this audience,
one that asks no confirmation, an address not erased) subscribes their contact itself where it
is `transactional` (a buyer's contact, no status of its own), as the opt-in did when the
e-commerce API added the contact; any other status stays (`subscribe_opted_in`).

The app's own member writes (`addon.subscriptions.member_write`) send consent changes and add no
contact without a subscription asked, and a capability does not import another's service: the
one Mailchimp client's member PUT is used directly, as the e-commerce customer is.

Never added, and the cart not sent (`CartNotSent`; its record removed with the note): an address
the app erased (a GDPR erasure: nothing of it is processed again, and Mailchimp forgot it), one
Mailchimp forgot, refuses as fake or keeps in a compliance state, and an archived contact. An
address Mailchimp refuses "for now" (too many signups) is raised, retried as any failure.

No batch sends a cart: a burst keeps one push per cart (`burst_plan.py`), and the initial sync
sends none. So the refusal is met here only.
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
    MemberPatch,
    MemberUpsert,
    NotFound,
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
    module) and `post(body)` once more. `erased(address)`: whether the app erased it. A
    refusal left is raised without the address (`failures.without_address`)."""
    email = body.customer.email_address
    try:
        await post(body)
        return
    except BadRequest as exc:
        if not email or not not_in_audience(exc):
            raise
        without_address(exc, email)
    if await erased(email):
        raise CartNotSent(NOT_JOINED_ERASED)
    try:
        member = await client.upsert_member(
            list_id, MemberUpsert(email_address=email, status_if_new="transactional")
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


async def subscribe_opted_in(client: MailchimpClient, list_id: str, body: CartInput) -> None:
    """The contact of a cart that carries its shopper's opt-in, subscribed where it is
    `transactional` (see the module); nothing for a cart without one."""
    email = body.customer.email_address
    if not body.customer.opt_in_status or not email:
        return
    try:
        member = await client.get_member(list_id, email)
    except NotFound:
        return  # no contact: none was added for the cart (Mailchimp refused it)
    if member.status == "transactional":
        await client.update_member(list_id, email, MemberPatch(status="subscribed"))
