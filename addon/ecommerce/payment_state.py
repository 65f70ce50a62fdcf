"""What an order's payments say of it for Mailchimp: its `financial_status`, and how much of what
it still has was refunded. Pure functions of the order Saleor shows (`saleor_schemas.SaleorOrder`).
"""

from __future__ import annotations

from decimal import Decimal

from addon.ecommerce.saleor_schemas import SaleorOrder

# Orders that ended without a sale: cancelled, and expired (Saleor expires an unconfirmed order
# never paid after its channel's `expireOrdersAfter`, releasing its stock and voucher usage:
# saleor/order/tasks.py `_expire_orders`, ORDER_EXPIRED and ORDER_UPDATED).
ENDED_UNSOLD = ("CANCELED", "EXPIRED")


def refunded_goods(order: SaleorOrder) -> Decimal:
    """What was refunded of what the order still has: `totalRefunded` less what had been charged
    beyond the order's total. Saleor counts every refund against the total (`totalRefunded`;
    ORDER_FULLY_REFUNDED once the refunds reach it, saleor/order/actions.py `order_refunded`),
    but staff may edit a paid order down while it is UNCONFIRMED (saleor/order/__init__.py
    `ORDER_EDITABLE_STATUS`; its charge stays, `update_order_charge_data` is not called on a
    line edit), and a payment app may charge twice: refunding that overcharge returns no goods.

    What was charged, refunds included: `totalCharged` (net of the refunds a payment app
    reported, saleor/payment/transaction_item_calculations.py `_recalculate_refund_amounts`,
    and of a legacy payment's: `captured_amount`), the refunds requested (already deducted from
    it) and those refunds. Not a refund staff record by hand (the dashboard's manual refund: a
    transaction with `amountRefunded` alone, no CHARGE_SUCCESS event), which leaves
    `totalCharged` as it was (`_handle_events_without_psp_reference`). A chargeback (the
    shopper's bank took the money back: `charged_back`) returns the goods' money as a refund
    does, without `totalRefunded`."""
    refunded = order.total_refunded.amount + charged_back(order)
    by_hand = sum(
        (
            t.refunded_amount.amount
            for t in order.transactions
            if not any(e.type == "CHARGE_SUCCESS" for e in t.events)
        ),
        Decimal(0),
    )
    charged = (
        order.total_charged.amount
        + order.total_refund_pending.amount
        + max(refunded - by_hand, Decimal(0))
    )
    overcharged = max(charged - order.total.gross.amount, Decimal(0))
    return max(refunded - overcharged, Decimal(0))


def charged_back(order: SaleorOrder) -> Decimal:
    """What chargebacks took back of the order's charges: Saleor lowers a transaction's
    `chargedValue` by each CHARGE_BACK event without a PSP reference, and by the last one of
    each reference (saleor/payment/transaction_item_calculations.py, `_recalculate_charge_
    amounts` and `_handle_events_without_psp_reference`), with no refund recorded."""
    total = Decimal(0)
    for transaction in order.transactions:
        last: dict[str, Decimal] = {}
        for event in transaction.events:
            if event.type != "CHARGE_BACK" or event.amount is None:
                continue
            if event.psp_reference:
                last[event.psp_reference] = event.amount.amount
            else:
                total += event.amount.amount
        total += sum(last.values(), Decimal(0))
    return total


def forgiven(order: SaleorOrder) -> Decimal:
    """What refunds staff granted take off what is still to be charged: a grant not yet
    returned (`totalGrantedRefund` beyond the refunds made or requested) on an order not paid
    in full is not owed any more. Saleor charges an order up to its total less its granted
    refunds (saleor/order/utils.py `update_order_charge_status`: FULLY_CHARGED at that amount,
    then ORDER_FULLY_PAID), e.g. a line out of stock granted back before the capture. A grant
    on an order paid in full is money to return: it counts once refunded."""
    returned = order.total_refunded.amount + order.total_refund_pending.amount
    open_grants = max(order.total_granted_refund.amount - returned, Decimal(0))
    # (what a chargeback took back was paid: it counts as returned, `refunded_goods`)
    paid = order.total_charged.amount + order.total_refund_pending.amount + charged_back(order)
    unpaid = max(order.total.gross.amount - paid, Decimal(0))
    return min(open_grants, unpaid)


def financial_status(order: SaleorOrder) -> str:
    """Mailchimp's `financial_status`, from the amounts Saleor exposes, for both payment models.

    Mailchimp sends its order notifications on "pending" (confirmation), "paid" (invoice),
    "refunded" (refund confirmation) and "cancelled"; "partially_refunded" and "partially_paid"
    describe the rest. Saleor (saleor/graphql/order/types.py, `Order.resolve_payment_status`)
    derives `paymentStatus` of an order paid through transactions from the charged amount only
    (a refund lowers `totalCharged` and raises `totalRefunded`; FULLY_CHARGED again once the
    refund was granted first), and shows PARTIALLY_/FULLY_REFUNDED only for legacy payments,
    whose `totalCharged` is also net of refunds (saleor/order/utils.py
    `updates_amounts_for_order`). So refunds are read from `totalRefunded` and `totalCharged`,
    with the legacy statuses as a fallback (a legacy refund can leave `totalRefunded` at 0 once
    its payment is inactive, and `orderRefund` fulfilments make FULLY_REFUNDED on their own).
    A refund staff record by hand (the dashboard's manual refund: a transaction created with
    `amountRefunded` alone) leaves `totalCharged` as it was (events without a PSP reference,
    saleor/payment/transaction_item_calculations.py `_handle_events_without_psp_reference`):
    an order is also refunded once `totalRefunded` reaches its total, as Saleor's own
    ORDER_FULLY_REFUNDED says (saleor/order/actions.py `order_refunded`).

    Only the refunds of what the order still has count (`refunded_goods`): the overcharge of a
    paid order staff edited down, or a duplicate charge, refunded, leaves it paid.
    """
    if order.status in ENDED_UNSOLD:
        return "cancelled"
    total = order.total.gross.amount
    charged = order.total_charged.amount
    refunded = refunded_goods(order)
    # A requested refund is deducted from `totalCharged` before the payment app settles it.
    refunding = order.total_refund_pending.amount
    all_back = refunded > 0 and (charged + refunding <= 0 or refunded >= total)
    if order.payment_status == "FULLY_REFUNDED" or all_back:
        return "refunded"
    # The legacy status only where Saleor's amounts show no refund at all (see above).
    unshown = order.total_refunded.amount == 0 and order.payment_status == "PARTIALLY_REFUNDED"
    if refunded > 0 or unshown:
        return "partially_refunded"
    paid = charged + refunding
    if paid >= total - forgiven(order):
        return "paid"
    if paid > 0:
        return "partially_paid"
    return "pending"
