"""`draftOrderComplete` in the sandbox store: a draft becomes an order as Saleor makes it one
(saleor/graphql/order/mutations/draft_order_complete.py `DraftOrderComplete.perform_mutation`,
the same at commit 723cd4e as at tag 3.20.119 as far as modelled here). Its webhooks are
`SandboxStoreEvents.complete_draft_order`'s.

What is modelled: the checks of `validate_order` and `validate_draft_order`
(saleor/graphql/order/utils.py) the sandbox can make, each refused with Saleor's message and
nothing changed; the buyer settled (`update_user_fields`); the status (UNFULFILLED where the
channel confirms new orders automatically, else UNCONFIRMED) saved with `updated_at` and nothing
else of the order: `created` stays the draft's (`order.save(update_fields=[status, search_vector,
display_gross_prices, updated_at, ...])`); its stock allocated (`allocate_stocks`,
`allocate_preorders`); and its PLACED_FROM_DRAFT event, dated when it is recorded
(saleor/order/actions.py `order_created(from_draft=True)`, saleor/order/events.py
`order_created_event`; `OrderEvent.date` defaults to now); since 3.23.0 (3.22.28, 3.21.44) its
single-use voucher code deactivated (`handle_order_voucher` → `deactivate_single_use_voucher_
codes`, draft_order_complete.py:87-115 at 723cd4e, called after the save; not at 3.20.119,
versions.py `draft_complete_deactivates_code`). Not modelled: the once-per-customer usage under
the channel's `include_draft_order_in_voucher_usage` (default off), tax recalculation, the
addresses copied to the customer's book.
"""

from __future__ import annotations

from datetime import datetime

from .order_models import Order, OrderEventType, OrderStatus
from .stock_checks import InsufficientStock, check_allocation
from .stock_moves import allocate_order
from .store import SaleorStore
from .versions import CURRENT_VERSION, draft_complete_deactivates_code


class DraftCompleteRefused(ValueError):
    """`draftOrderComplete` answers an error (an `OrderError`) and changes nothing."""


def _refusal(store: SaleorStore, order: Order) -> str | None:
    """The first of `validate_draft_order`'s errors the sandbox can tell, or None."""
    if order.billing_address is None:  # `validate_billing_address`
        return "Can't finalize draft with no billing address."
    # Every sandbox line needs shipping (`OrderLine.isShippingRequired` is true here).
    if order.lines and order.shipping_address is None:  # `validate_shipping_address`
        return "Can't finalize draft with no shipping address."
    if order.lines and order.shipping_method_name is None:  # `validate_shipping_method`
        return "Shipping method is required."
    if sum(line.quantity for line in order.lines) == 0:  # `validate_total_quantity`
        return "Could not create order without any products."
    if any(store.variants.get(line.variant_id or -1) is None for line in order.lines):
        return "Could not create orders with non-existing products."  # `validate_order_lines`
    if not store.channels[order.channel_id].is_active:  # `validate_channel_is_active`
        return "Cannot complete draft order with inactive channel."
    return None


def complete_draft(
    store: SaleorStore, order: Order, now: datetime, version: str = CURRENT_VERSION
) -> Order:
    """Make the draft `order` an order at `now` on a Saleor of `version`; raises
    `DraftCompleteRefused` with nothing changed."""
    current = store.get_order(order.id)
    if current.status is not OrderStatus.DRAFT:  # `validate_order`
        raise DraftCompleteRefused("The order is not draft.")
    refusal = _refusal(store, current)
    if refusal is not None:
        raise DraftCompleteRefused(refusal)
    # `allocate_stocks` for the lines that track inventory or are on preorder, before
    # anything is kept (`traced_atomic_transaction`), its failure answered as
    # `prepare_insufficient_stock_order_validation_errors` words it.
    allocated = [
        (variant, line.quantity)
        for line in current.lines
        if (variant := store.variants.get(line.variant_id or -1)) is not None
        and (variant.track_inventory or variant.is_preorder_active(now))
    ]
    try:
        check_allocation(allocated, current.channel_id, now)
    except InsufficientStock as exc:
        raise DraftCompleteRefused("Insufficient product stock.") from exc
    changes: dict[str, object] = {}
    user = store.customers.get(current.user_id) if current.user_id is not None else None
    if user is not None:  # `update_user_fields`: the user's address, or the address's user
        changes["user_email"] = user.email
    elif current.user_email:
        found = store.find_customer_by_email(current.user_email)
        # `User.objects.get(email=order.user_email)`: that address exactly.
        changes["user_id"] = found.id if found and found.email == current.user_email else None
    confirms = store.channels[current.channel_id].automatically_confirm_all_new_orders
    changes["status"] = OrderStatus.UNFULFILLED if confirms else OrderStatus.UNCONFIRMED
    store.update_order(current, **changes)  # `updated_at` with it; `created` kept
    if draft_complete_deactivates_code(version):
        _spend_single_use_code(store, current)
    allocate_order(current, store.variants.get, now)
    store.record_order_event(current, OrderEventType.PLACED_FROM_DRAFT, now)
    return current


def _spend_single_use_code(store: SaleorStore, order: Order) -> None:
    """`deactivate_single_use_voucher_codes`: the order's voucher single-use, its code
    (`VoucherCode.objects.filter(code=order.voucher_code)`) active: no longer."""
    voucher = store.vouchers.get(order.voucher_id) if order.voucher_id is not None else None
    if voucher is None or not voucher.single_use or not order.voucher_code:
        return
    code = voucher.code_named(order.voucher_code)
    if code is not None and code.is_active:
        code.is_active = False
