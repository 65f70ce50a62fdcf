"""A new order already paid goes to Mailchimp in two steps: created `pending`, then `paid`.

Mailchimp sends a store's Order Confirmation for an order created `pending` and its Invoice when
an order becomes `paid`; an order created `paid` gets no confirmation. Mailchimp for
WooCommerce therefore sends a new paid order twice ("we need to double up the post to force the
confirmation + the invoice": class-mailchimp-woocommerce-single-order.php, then `addStoreOrder`
in class-mailchimp-api.php PATCHes it `paid`). So does live sync. A store being filled under
`is_syncing` (a re-created store's history, `resend.py`; the initial sync) takes its orders as
they are: no e-mails are wanted for them; so is an order placed more than a day before (no
new purchase). A burst's batch creates such an order `pending`, and once Mailchimp confirmed
it, a push of its own makes it `paid` (one batch cannot order a creation before its update:
`burst_orders.py`, `burst_apply.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from addon.db.types import utcnow
from addon.ecommerce.sale_payloads import TrackedOrderInput, TrackedOrderPatch
from addon.mailchimp import MailchimpClient

# An order older than this, new to Mailchimp all the same (a channel tracked without an initial
# sync, a re-send's leftovers), is no new purchase: no confirmation for it.
RECENT = timedelta(days=1)
# Why an order was not sent (the ledger record's note, for the admin): nobody has confirmed or
# paid it yet (`sale_payloads.tentative`). Confirmed or paid later, however much later, it is a
# new purchase to its shopper: it gets its Order Confirmation.
# Stored in ledger records: recognised by its opening words, so a rewording of the rest keeps
# the records already held back recognised.
HELD_BACK_MARK = "Not sent yet: nobody has confirmed or paid this order."
HELD_BACK = (
    f"{HELD_BACK_MARK} It goes to Mailchimp once it is confirmed or paid, and never if it "
    "expires or is cancelled first."
)


def held_back(note: str | None) -> bool:
    """Whether a record's note says its order was held back (`HELD_BACK`)."""
    return note is not None and note.startswith(HELD_BACK_MARK)


def confirms(
    held_as: str | None,
    body: TrackedOrderInput,
    resending: bool,
    placed: datetime,
    note: str | None,
) -> bool:
    """Whether the order goes in two steps: new to Mailchimp, paid, live, and placed lately or
    held back until now (`note`: its record's, `HELD_BACK`)."""
    return (
        held_as is None
        and body.financial_status == "paid"
        and not resending
        and (held_back(note) or utcnow() - placed < RECENT)
    )


async def confirm_then_pay(
    client: MailchimpClient, store_id: str, body: TrackedOrderInput
) -> object:
    await client.create_order(store_id, body.model_copy(update={"financial_status": "pending"}))
    return await client.update_order(store_id, body.id, TrackedOrderPatch(financial_status="paid"))
