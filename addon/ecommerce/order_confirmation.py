"""Which of Mailchimp's order notifications an order's push sends: a new purchase its own, a
purchase long past none.

A new order already paid goes to Mailchimp in two steps: created `pending`, then `paid`.
Mailchimp sends a store's Order Confirmation for an order created `pending` and its Invoice when
an order becomes `paid`; an order created `paid` gets no confirmation. Mailchimp for
WooCommerce therefore sends a new paid order twice ("we need to double up the post to force the
confirmation + the invoice": class-mailchimp-woocommerce-single-order.php, then `addStoreOrder`
in class-mailchimp-api.php PATCHes it `paid`). So does live sync. A store being filled under
`is_syncing` (a re-created store's history, `resend.py`; the initial sync) takes its orders as
they are: no e-mails are wanted for them. A burst's batch creates such an order `pending`, and
once Mailchimp confirmed it, a push of its own makes it `paid` (one batch cannot order a
creation before its update: `burst_orders.py`, `burst_apply.py`).

An order new to Mailchimp but no new purchase (`historical`: imported with `orderBulkCreate`,
or placed more than a day before, in a channel tracked without an initial sync, say) cannot
shelter under `is_syncing`, which silences the whole store while live orders go on. Any status
it were created with would send its e-mail about a purchase long past (each status sends one:
`paid` an Invoice, `shipped` a Shipping Confirmation, `refunded` a Refund, `cancelled` a
Cancellation; Mailchimp's rules, mailchimp/mc-woocommerce#79). So it is created without the
statuses it has (`as_told`: revenue and segments count it all the same, its totals net of
refunds and zero when cancelled), unless the store's automations are paused all the same
(`automations_paused`: an initial sync's or a re-send's `is_syncing`), and they are kept in its
ledger record (`QUIET`): a later push leaves out a status still as it was, and sends one that
changed, whose e-mail is news (a refund today), and tells it from then on (`_still_quiet`). A
shipment of the last day is news too: sent. Mailchimp for WooCommerce avoids the same e-mails by
sending no order it lacks from a mere status change
(class-mailchimp-woocommerce-single-order.php), which would leave such orders out altogether.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.channel_state import SYNC_HOLDS_STORE
from addon.ecommerce.context import Context
from addon.ecommerce.models import QUIET, WAITED, Fingerprint
from addon.ecommerce.sale_payloads import TrackedOrderInput, TrackedOrderPatch
from addon.ecommerce.saleor_schemas import SaleorOrder
from addon.mailchimp import MailchimpClient
from addon.services import Services

# An order older than this, new to Mailchimp all the same (a channel tracked without an initial
# sync, a re-send's leftovers), is no new purchase: no e-mail for it (`historical`); nor is a
# shipment older than this news.
RECENT = timedelta(days=1)

# The statuses of a new order that go in two steps (`confirms`).
PAID = ("paid", "partially_paid")

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


def waited(note: str | None, children: Mapping[str, str]) -> bool:
    """Whether the app held the order back until it was confirmed or paid: its record says so
    (`WAITED`, or, recorded before that part was, its note)."""
    return bool(children.get(WAITED)) or held_back(note)


WAITING = Fingerprint(None, {WAITED: "1"})  # what a held-back order's record keeps saying


def confirms(
    held_as: str | None,
    body: TrackedOrderInput,
    resending: bool,
    placed: datetime,
    held: bool,
) -> bool:
    """Whether the order goes in two steps: new to Mailchimp, paid (in full or in part: each
    sends the Invoice, neither the Order Confirmation; Mailchimp's rules, mc-woocommerce#79),
    live, and placed lately (`placed`: `SaleorOrder.placed`) or held back until now (`held`:
    `waited`)."""
    return (
        held_as is None
        and body.financial_status in PAID
        and not resending
        and (held or utcnow() - placed < RECENT)
    )


async def confirm_then_pay(
    client: MailchimpClient, store_id: str, body: TrackedOrderInput
) -> object:
    """Created `pending` (the Order Confirmation), then made paid as it is (the Invoice)."""
    await client.create_order(store_id, body.model_copy(update={"financial_status": "pending"}))
    patch = TrackedOrderPatch(financial_status=body.financial_status)
    return await client.update_order(store_id, body.id, patch)


def historical(order: SaleorOrder, now: datetime) -> bool:
    """Whether an order is no new purchase, wherever it comes from: imported (`orderBulkCreate`,
    Saleor's origin BULK_CREATE: placed elsewhere, whose shopper had that place's e-mails), or
    placed more than `RECENT` before (`placed`: a draft completed today was placed today,
    however long ago staff began it)."""
    return order.origin == "BULK_CREATE" or now - order.placed >= RECENT


def as_told(
    order: SaleorOrder,
    body: TrackedOrderInput,
    known: Mapping[str, str],
    held_as: str | None,
    *,
    paused: bool,
    held: bool,
) -> tuple[TrackedOrderInput, str | None]:
    """The order's body as Mailchimp is told it, and the statuses it is not told (`QUIET`, for
    its fingerprint: `keeping_quiet`; None: all are told). Live pushes and bursts alike.

    Decided when Mailchimp does not hold it yet (`known`: its record's fingerprint parts, kept
    from then on): a historical order's, unless the store's automations are paused (`paused`:
    `automations_paused`, where all is told and nothing sends an e-mail) or it was held back
    until now (`held`: `waited`; confirmed or paid now, a new purchase); its shipment of the last
    day is news, told (not an import's: those came with it, `orderBulkCreate`'s
    `fulfillments`)."""
    now = utcnow()
    if held_as is not None:
        quiet = _still_quiet(known.get(QUIET) or None, body)
    elif paused or held or not historical(order, now):
        quiet = None
    else:
        shipped_lately = order.origin != "BULK_CREATE" and any(
            f.status == "FULFILLED" and now - f.created < RECENT for f in order.fulfillments
        )
        fulfillment = "" if shipped_lately else (body.fulfillment_status or "")
        quiet = f"{body.financial_status or ''}/{fulfillment}"
    return _quieted(body, quiet), quiet


async def automations_paused(services: Services, session: AsyncSession, ctx: Context) -> bool:
    """Whether the channel's store has its automations paused (`is_syncing`): a re-send
    (`resend.py`), or an initial sync of the channel holding it (which hands live sync the
    orders its batches cannot carry, and whose batches a live push may meet)."""
    holds = services.ports[SYNC_HOLDS_STORE]
    return ctx.resending or await holds(session, ctx.installation_id, ctx.channel)


def _still_quiet(quiet: str | None, body: TrackedOrderInput) -> str | None:
    """The statuses Mailchimp is still not told: a status once told (it changed) is told from
    then on, or its return to the kept value would leave Mailchimp with the changed one (a
    refund undone back to `paid`). None: all are told."""
    if quiet is None:
        return None
    financial, _, fulfillment = quiet.partition("/")
    financial = financial if body.financial_status == financial else ""
    fulfillment = fulfillment if body.fulfillment_status == fulfillment else ""
    return f"{financial}/{fulfillment}" if financial or fulfillment else None


def _quieted(body: TrackedOrderInput, quiet: str | None) -> TrackedOrderInput:
    """The order's body without the statuses still as Mailchimp was not told them (`quiet`):
    a PATCH leaves out a field it does not name, so Mailchimp keeps none for them; one that
    changed since is sent (its e-mail is news). A cancellation's date goes with its status
    (it cancels the order it comes with: the spec's `E_commerce_Order_1.cancelled_at_foreign`)."""
    if quiet is None:
        return body
    financial, _, fulfillment = quiet.partition("/")
    update: dict[str, object] = {}
    if financial and body.financial_status == financial:
        update |= {"financial_status": None, "cancelled_at_foreign": None}
    if fulfillment and body.fulfillment_status == fulfillment:
        update["fulfillment_status"] = None
    return body.model_copy(update=update) if update else body


def keeping_quiet(pushing: Fingerprint, quiet: str | None) -> Fingerprint:
    """The fingerprint the ledger records, with the statuses Mailchimp was not told."""
    if quiet is None:
        return pushing
    return Fingerprint(pushing.content_hash, {**pushing.children, QUIET: quiet})
