"""Payments of ``SaleorSandbox``: transactions, transaction events, refunds and granted refunds
(the transaction API) and legacy payments, made by ``payment_actions`` and followed by the order
events Saleor sends."""

from __future__ import annotations

from decimal import Decimal

from .order_models import Order, OrderStatus
from .payment_actions import (
    capture_legacy_payment,
    create_transaction,
    grant_refund,
    refund_legacy_payment,
    report_event,
    request_refund,
)
from .payment_models import GrantedRefund, TransactionEvent, TransactionEventType, TransactionItem
from .sandbox_webhooks import SandboxWebhooks


class SandboxPayments(SandboxWebhooks):
    """Payments of orders (see payment_actions), with the events Saleor emits."""

    def _confirm_if_automatic(self, order: Order) -> None:
        """An unconfirmed order of a channel that confirms new orders automatically becomes
        UNFULFILLED once money moves, before the events and with no ORDER_CONFIRMED: a
        transaction processed (saleor/payment/utils.py `process_order_with_transaction`:
        `refresh_order_status`), a legacy payment in full (saleor/order/actions.py
        `handle_fully_paid_order`: `update_order_status`); the same at tag 3.20.119 and commit
        723cd4e. An unconfirmed order has nothing fulfilled, so UNFULFILLED."""
        channel = self.store.channels[order.channel_id]
        if channel.automatically_confirm_all_new_orders and order.status is OrderStatus.UNCONFIRMED:
            order.status = OrderStatus.UNFULFILLED

    # -- payments (see payment_actions) ----------------------------------------------------

    async def create_transaction(
        self,
        order: Order,
        *,
        charged: Decimal = Decimal("0"),
        authorized: Decimal = Decimal("0"),
        refunded: Decimal = Decimal("0"),
    ) -> TransactionItem:
        """``transactionCreate`` on the order: a payment app's charge and/or authorization, or
        a refund staff record by hand (`payment_actions.create_transaction`)."""
        current = self.store.get_order(order.id)
        item, events = create_transaction(
            self.store.next_id, current, charged=charged, authorized=authorized, refunded=refunded
        )
        self._confirm_if_automatic(current)
        await self._emit_all(events, current)
        return item

    async def report_transaction_event(
        self,
        order: Order,
        transaction: TransactionItem,
        event_type: TransactionEventType,
        amount: Decimal,
        psp_reference: str | None = None,
    ) -> TransactionEvent:
        """A payment app's ``transactionEventReport`` (e.g. REFUND_SUCCESS of a pending refund:
        pass the refund request's PSP reference)."""
        current = self.store.get_order(order.id)
        event, events = report_event(
            self.store.next_id, current, transaction, event_type, amount, psp_reference
        )
        self._confirm_if_automatic(current)
        await self._emit_all(events, current)
        return event

    async def refund_transaction(
        self,
        order: Order,
        amount: Decimal | None = None,
        *,
        transaction: TransactionItem | None = None,
        granted_refund: GrantedRefund | None = None,
        settle: bool = True,
    ) -> TransactionEvent:
        """Staff refund through the transaction API (``transactionRequestAction`` REFUND, or
        ``transactionRequestRefundForGrantedRefund``); default: all that was charged. The app
        settles at once unless ``settle=False`` (then the refund is pending). Returns the
        REFUND_REQUEST event."""
        current = self.store.get_order(order.id)
        request, events = request_refund(
            self.store.next_id,
            current,
            amount,
            item=transaction,
            granted_refund=granted_refund,
            settle=settle,
        )
        self._confirm_if_automatic(current)
        await self._emit_all(events, current)
        return request

    async def grant_refund(self, order: Order, amount: Decimal, reason: str = "") -> GrantedRefund:
        """``orderGrantRefundCreate`` (no webhook: no money moved yet)."""
        return grant_refund(self.store.next_id, self.store.get_order(order.id), amount, reason)

    async def capture_payment(
        self, order: Order, amount: Decimal, *, total: Decimal | None = None
    ) -> Order:
        """A legacy payment of ``total`` (default: the order total) capturing ``amount``."""
        current = self.store.get_order(order.id)
        events = capture_legacy_payment(
            self.store.next_id, current, amount, total=total or current.total_gross
        )
        if "ORDER_FULLY_PAID" in events:  # `handle_fully_paid_order`
            self._confirm_if_automatic(current)
        return await self._emit_all(events, current)

    async def refund_payment(self, order: Order, amount: Decimal | None = None) -> Order:
        """Legacy ``paymentRefund`` of the order's last payment (default: all captured)."""
        current = self.store.get_order(order.id)
        return await self._emit_all(
            refund_legacy_payment(self.store.next_id, current, amount), current
        )

    async def order_refund(self, order: Order, amount: Decimal) -> Order:
        """Legacy ``orderRefund``: refunds the last payment and records a REFUNDED fulfilment."""
        current = self.store.get_order(order.id)
        events = refund_legacy_payment(self.store.next_id, current, amount, as_fulfillment=True)
        return await self._emit_all(events, current)
