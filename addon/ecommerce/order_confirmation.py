"""A new order already paid goes to Mailchimp in two steps: created `pending`, then `paid`.

Mailchimp sends a store's Order Confirmation for an order created `pending` and its Invoice when
an order becomes `paid`; an order created `paid` gets no confirmation. Mailchimp for
WooCommerce therefore sends a new paid order twice ("we need to double up the post to force the
confirmation + the invoice": class-mailchimp-woocommerce-single-order.php, then `addStoreOrder`
in class-mailchimp-api.php PATCHes it `paid`). So does live sync. A store being filled under
`is_syncing` (a re-created store's history, `resend.py`; the initial sync) takes its orders as
they are: no e-mails are wanted for them. Bursts send theirs as they are too (one batch cannot
order a creation before its update).
"""

from __future__ import annotations

from addon.ecommerce.sale_payloads import TrackedOrderInput, TrackedOrderPatch
from addon.mailchimp import MailchimpClient


def confirms(held_as: str | None, body: TrackedOrderInput, resending: bool) -> bool:
    """Whether the order goes in two steps: new to Mailchimp, paid, and live."""
    return held_as is None and body.financial_status == "paid" and not resending


async def confirm_then_pay(
    client: MailchimpClient, store_id: str, body: TrackedOrderInput
) -> object:
    await client.create_order(store_id, body.model_copy(update={"financial_status": "pending"}))
    return await client.update_order(store_id, body.id, TrackedOrderPatch(financial_status="paid"))
