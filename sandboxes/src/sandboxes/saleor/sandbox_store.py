"""Store operations of ``SaleorSandbox`` that emit events: channels, customers, products,
checkouts and orders changed in the store (``store.py``) with the webhook events Saleor sends for
each, and the builders and generator that send none."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from .checkout_payments import move_transactions, record_transaction, release_funds
from .drafts import complete_draft
from .generator import generate_store
from .models import Address, Channel, Checkout, Customer, Product, ProductVariant, utcnow
from .order_models import (
    Order,
    OrderChargeStatus,
    OrderDiscount,
    OrderEventType,
    OrderLine,
    OrderOrigin,
    OrderStatus,
)
from .sandbox_catalog import SandboxCatalogEvents
from .sandbox_fulfillments import SandboxFulfillments
from .stock_checks import check_checkout_lines
from .stock_moves import allocate_order, out_of_stock_after_allocation, release
from .store_catalog import VariantSpec
from .store_checkouts import LineSpec
from .store_orders import mark_paid


class SandboxStoreEvents(SandboxFulfillments, SandboxCatalogEvents):
    """Store operations that emit the webhook events Saleor emits for them (the customers'
    are `SandboxCustomerEvents`', stock, preorder and product types `SandboxCatalogEvents`',
    staff's edits of an order `SandboxOrderEdits`', its shipments `SandboxFulfillments`')."""

    # -- store operations that emit events --------------------------------------------------------

    async def add_channel(
        self,
        slug: str,
        name: str | None = None,
        currency_code: str = "USD",
        default_country: str = "US",
    ) -> Channel:
        channel = self.store.add_channel(slug, name, currency_code, default_country)
        await self.emit("CHANNEL_CREATED", channel)
        return channel

    async def create_product(
        self, name: str, variants: Sequence[VariantSpec] = (), **fields: Any
    ) -> Product:
        product = self.store.create_product(name, variants, **fields)
        await self.emit("PRODUCT_CREATED", product)
        for variant in product.variants:
            await self.emit("PRODUCT_VARIANT_CREATED", variant)
        return product

    async def update_product(self, product: Product, **changes: Any) -> Product:
        updated = self.store.update_product(product, **changes)
        await self.emit("PRODUCT_UPDATED", updated)
        return updated

    async def publish(self, product: Product, channel: str, **changes: Any) -> Product:
        """`productChannelListingUpdate` of the product's publication in one channel (see
        `SaleorStore.publish`): PRODUCT_UPDATED, as its `post_save_actions` send
        (saleor/graphql/product/mutations/channels.py)."""
        updated = self.store.publish(product, channel, **changes)
        await self.emit("PRODUCT_UPDATED", updated)
        return updated

    async def set_price(
        self, variant: ProductVariant, channel: str, price: Decimal
    ) -> ProductVariant:
        """`productVariantChannelListingUpdate` of the variant's price in a channel: its
        discounted price set to the new price, left for the periodic recalculation
        (saleor/graphql/product/mutations/channels.py `ProductVariantChannelListingUpdate.save`),
        and PRODUCT_VARIANT_UPDATED (`post_save_actions`)."""
        current = self.store.get_variant(variant.id)
        listing = current.listing_for(self.store.channel_by_slug(channel).id)
        if listing is None:
            raise ValueError(f"Variant {current.id} has no price in channel {channel!r}.")
        listing.price = listing.discounted_price = price
        await self.emit("PRODUCT_VARIANT_UPDATED", current)
        return current

    async def delete_product(self, product: Product) -> Product:
        removed = self.store.delete_product(product)
        await self.emit("PRODUCT_DELETED", removed)
        return removed

    async def delete_variant(self, variant: ProductVariant) -> ProductVariant:
        # saleor/graphql/product/mutations/product_variant/product_variant_delete.py
        removed = self.store.delete_variant(variant)
        await self.emit("PRODUCT_VARIANT_DELETED", removed)
        return removed

    async def create_checkout(
        self,
        channel: str | None = None,
        lines: Sequence[LineSpec] = (),
        email: str | None = None,
        customer: Customer | None = None,
        **fields: Any,
    ) -> Checkout:
        """``checkoutCreate``: its lines' quantities checked against the variants' limits and
        stock first (`stock_checks.check_checkout_lines`, nothing made when refused)."""
        chan = self.store.channel_by_slug(channel) if channel else self.store.default_channel()
        asked = [(spec.variant_id, spec.quantity) for spec in lines]
        check_checkout_lines(self.store.get_variant, chan.id, {}, asked)
        checkout = self.store.create_checkout(channel, lines, email, customer, **fields)
        await self.emit("CHECKOUT_CREATED", checkout)
        return checkout

    async def update_checkout(self, checkout: Checkout, **changes: Any) -> Checkout:
        """See :meth:`SaleorStore.update_checkout` (``add_lines``: ``checkoutLinesAdd``,
        ``set_quantities``: ``checkoutLinesUpdate``, fields), the lines' quantities checked as
        Saleor checks them first (`stock_checks.check_checkout_lines`)."""
        current = self.store.get_checkout(checkout.token)
        held = {line.variant_id: line.quantity for line in current.lines}
        add = [(spec.variant_id, spec.quantity) for spec in changes.get("add_lines", ())]
        check_checkout_lines(self.store.get_variant, current.channel_id, held, add)
        now_set = list((changes.get("set_quantities") or {}).items())
        check_checkout_lines(self.store.get_variant, current.channel_id, {}, now_set, replace=True)
        updated = self.store.update_checkout(checkout, **changes)
        await self.emit("CHECKOUT_UPDATED", updated)
        return updated

    async def pay_checkout(
        self,
        checkout: Checkout,
        *,
        charged: Decimal = Decimal("0"),
        authorized: Decimal = Decimal("0"),
    ) -> Checkout:
        """A payment app's ``transactionCreate`` on the checkout (or the
        ``transactionEventReport`` that settles it): CHECKOUT_FULLY_PAID and, since 3.22,
        CHECKOUT_FULLY_AUTHORIZED as Saleor sends them, never CHECKOUT_UPDATED
        (`checkout_payments.record_transaction`). The checkout stays a checkout: only
        ``checkoutComplete`` (or a channel's `automaticallyCompleteFullyPaidCheckouts`) makes
        an order of it."""
        current = self.store.get_checkout(checkout.token)
        total = self.store.checkout_total(current)
        events = record_transaction(
            current, total, self.version, charged=charged, authorized=authorized
        )
        for event in events:
            await self.emit(event, current)
        return current

    def release_checkout_funds(self, checkout: Checkout) -> Checkout:
        """Saleor's release of the funds of a checkout left alone for the channel's
        `checkout_ttl_before_releasing_funds` (`checkout_payments.release_funds`): the
        authorizations cancelled and charges refunded, the checkout kept, no webhook."""
        current = self.store.get_checkout(checkout.token)
        release_funds(current, self.store.checkout_total(current))
        return current

    async def complete_checkout(
        self,
        checkout: Checkout,
        paid: bool = True,
        *,
        legacy_payment: bool = False,
        by_app: bool = False,
    ) -> Order:
        """``checkoutComplete``: create the order (see :meth:`_order_created`).

        ``paid`` on a checkout without transactions: a payment app charges its total first
        (:meth:`pay_checkout`, with the webhooks Saleor sends for it); a checkout with
        transactions is paid by them alone. See ``SaleorStore.complete_checkout``.

        It is completed by the checkout's own user, signed in, or by a guest: the PLACED event
        names that user, none for a guest, even when the order is given to the account holding
        the e-mail typed (saleor/graphql/checkout/mutations/checkout_complete.py passes
        `info.context.user`, the checkout's user only to an impersonating requestor;
        complete_checkout.py `assign_checkout_user` changes `checkout_info.user` alone, and
        `order_created(user=user)` records the requestor; the same at 3.20.0 and 723cd4e).
        ``by_app``: an app's ``orderCreateFromCheckout`` (HANDLE_CHECKOUTS) places it instead,
        the PLACED event naming no user whoever shopped (saleor/graphql/checkout/mutations/
        order_create_from_checkout.py passes `info.context.user`: none for an app's token)."""
        current = self.store.get_checkout(checkout.token)
        total = self.store.checkout_total(current)
        placed_by = None if by_app else current.user_id
        if paid and not legacy_payment and not current.transactions and total > 0:
            await self.pay_checkout(current, charged=total)
        order = self.store.complete_checkout(
            checkout, paid=paid, legacy_payment=legacy_payment, version=self.version
        )
        return await self._order_created(order, placed_by=placed_by)

    async def create_order(
        self, channel: str | None = None, lines: Sequence[OrderLine] = (), **fields: Any
    ) -> Order:
        """An order (``paid`` by a transaction by default; ``legacy_payment=True`` for a legacy
        payment) placed as a checkout's or a completed draft's: it holds its stock
        (`stock_moves.allocate_order`; a draft holds none); see :meth:`_order_created`, placed by
        its own customer signed in (a guest's checkout given to an account:
        :meth:`complete_checkout`). The store's own `create_order` builds one without allocating
        (and sends nothing)."""
        order = self.store.create_order(channel, lines, **fields)
        kept = self.store.checkouts.get(order.checkout_token) if order.checkout_token else None
        if kept is not None and kept.transactions:
            # `orderCreateFromCheckout(removeCheckout: false)`: the checkout stays, its
            # transactions move to the order all the same (saleor/checkout/complete_checkout.py
            # `_create_order_from_checkout`: `payment_transactions.update(order=order,
            # checkout_id=None)`, before `delete_checkout` is looked at; 3.20.119 and 723cd4e).
            total = self.store.checkout_total(kept)
            move_transactions(kept, total, order, self.store.next_id)
        if order.status is not OrderStatus.DRAFT:
            allocate_order(order, self.store.variants.get, utcnow())
        return await self._order_created(order, placed_by=order.user_id)

    async def bulk_create_orders(self, orders: Sequence[dict[str, Any]]) -> list[Order]:
        """`orderBulkCreate`: the orders (each `create_order`'s arguments) of origin BULK_CREATE,
        and one ORDER_BULK_CREATED for them all, nothing per order
        (saleor/graphql/order/bulk_mutations/order_bulk_create.py; none when none was made:
        `if created_orders`)."""
        created = [
            self.store.create_order(**{"origin": OrderOrigin.BULK_CREATE, **fields})
            for fields in orders
        ]
        if created:
            await self.emit("ORDER_BULK_CREATED", created)
        return created

    async def complete_draft_order(self, order: Order) -> Order:
        """``draftOrderComplete``: the draft made an order, its `created` kept, its
        PLACED_FROM_DRAFT event dated now (`drafts.complete_draft`); then the events of
        ``order_created(from_draft=True)`` (:meth:`_order_created`; saleor/graphql/order/
        mutations/draft_order_complete.py, on commit)."""
        placed = complete_draft(self.store, order, utcnow(), self.version)
        return await self._order_created(placed, from_draft=True, placed_by=None)

    async def _order_created(
        self, order: Order, *, placed_by: int | None, from_draft: bool = False
    ) -> Order:
        """ORDER_CREATED; for an order charged in full also ORDER_PAID, ORDER_FULLY_PAID and
        ORDER_UPDATED (``order_charged``); then ORDER_CONFIRMED where the channel confirms new
        orders automatically, whatever the order's status (saleor/order/actions.py
        ``order_created``, the same at tag 3.20.119 and commit 723cd4e: an unpaid order that
        stays UNCONFIRMED gets it too). A draft (`draftOrderCreate`) sends DRAFT_ORDER_CREATED
        alone (saleor/graphql/order/mutations/draft_order_create.py). Its event, dated as the
        order: DRAFT_CREATED (saleor/order/events.py `draft_order_created_event`) or PLACED
        (`order_created_event`, by the user `placed_by`; a completed draft's PLACED_FROM_DRAFT
        is `complete_draft`'s)."""
        if order.status is OrderStatus.DRAFT:
            self.store.record_order_event(order, OrderEventType.DRAFT_CREATED, order.created)
            return await self._emit_all(["DRAFT_ORDER_CREATED"], order)
        if not from_draft:
            self.store.record_order_event(
                order, OrderEventType.PLACED, order.created, user_id=placed_by
            )
        # Its allocation's stock events come first (`allocate_stocks`, then `order_created` on
        # commit): see stock_moves.py.
        await self._stock_events(out=out_of_stock_after_allocation(order, self.store.variants.get))
        events = ["ORDER_CREATED"]
        if order.charge_status in (OrderChargeStatus.FULL, OrderChargeStatus.OVERCHARGED):
            events += ["ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]
        if self.store.channels[order.channel_id].automatically_confirm_all_new_orders:
            events.append("ORDER_CONFIRMED")
        return await self._emit_all(events, order)

    async def mark_order_paid(self, order: Order, *, legacy_payment: bool = False) -> Order:
        """``orderMarkAsPaid``: charge what is due, with a transaction (Saleor's
        TRANSACTION_FLOW) or, with ``legacy_payment``, a manual payment (PAYMENT_FLOW). Either
        sends ORDER_FULLY_PAID and ORDER_UPDATED alone, not the ORDER_PAID of a charge
        (saleor/order/actions.py ``mark_order_as_paid_with_transaction``,
        ``mark_order_as_paid_with_payment``, the same at tag 3.20.119 and commit 723cd4e)."""
        current = self.store.get_order(order.id)
        mark_paid(current, self.store.next_id, legacy_payment=legacy_payment)
        return await self._emit_all(["ORDER_FULLY_PAID", "ORDER_UPDATED"], current)

    async def cancel_order(self, order: Order) -> Order:
        """``orderCancel``: ORDER_CANCELLED and ORDER_UPDATED, the order's stock allocations
        released before them, with their BACK_IN_STOCK (saleor/order/actions.py
        ``cancel_order``; stock_moves.py). Saleor refuses orders with
        fulfilments that are not cancelled, refunded or returned, and cancelled, draft or
        expired orders (``Order.can_cancel``)."""
        current = self.store.get_order(order.id)
        fulfilled = any(line.quantity_fulfilled for line in current.lines)
        final = (OrderStatus.CANCELED, OrderStatus.DRAFT, OrderStatus.EXPIRED)
        if fulfilled or current.status in final:
            raise ValueError("This order can't be canceled.")
        back = release(current, self.store.variants.get)  # (`deallocate_stock_for_orders`)
        # `order_canceled_event` first, dated now: the time it was cancelled, for good.
        self.store.record_order_event(current, OrderEventType.CANCELED)
        updated = self.store.update_order(current, status=OrderStatus.CANCELED)
        await self._stock_events(back=back)
        return await self._emit_all(["ORDER_CANCELLED", "ORDER_UPDATED"], updated)

    async def confirm_order(self, order: Order) -> Order:
        """`orderConfirm` of an unconfirmed order: UNFULFILLED, and ORDER_CONFIRMED alone (no
        ORDER_UPDATED: saleor/graphql/order/mutations/order_confirm.py `perform_mutation`,
        saleor/order/actions.py `order_confirmed`; an authorized legacy payment it would also
        capture is not modelled)."""
        current = self.store.get_order(order.id)
        if current.status is not OrderStatus.UNCONFIRMED:
            raise ValueError("Provided order id belongs to non-unconfirmed order.")
        updated = self.store.update_order(current, status=OrderStatus.UNFULFILLED)
        return await self._emit_all(["ORDER_CONFIRMED"], updated)

    async def expire_order(self, order: Order) -> Order:
        """Saleor's periodic expiry of an unconfirmed order with no transaction and no payment,
        once its channel's `expireOrdersAfter` passed (saleor/order/tasks.py `_expire_orders`):
        EXPIRED, its code's use given back (`_bulk_release_voucher_usage`: `used` less one,
        never below 0, for a voucher with a usage limit, the only one counting uses), its
        stock allocations released (their BACK_IN_STOCK: stock_moves.py), ORDER_EXPIRED and
        ORDER_UPDATED. Its status is set by a
        queryset `update()` (`Order.objects.filter(...).update(status=EXPIRED, expired_at=now)`),
        which leaves `updated_at` (an `auto_now` field) as it was: the order's `updatedAt` stays
        its last edit's, at 3.20.119 as on main."""
        current = self.store.get_order(order.id)
        if (
            current.status is not OrderStatus.UNCONFIRMED
            or current.transactions
            or current.payments
        ):
            raise ValueError("Saleor expires unconfirmed orders without payments only.")
        for voucher in self.store.vouchers.values():
            code = voucher.code_named(current.voucher_code) if current.voucher_code else None
            if code is not None and voucher.usage_limit:
                code.used = max(code.used - 1, 0)
        back = release(current, self.store.variants.get)
        current.status = OrderStatus.EXPIRED
        self.store.record_order_event(current, OrderEventType.EXPIRED)  # `_order_expired_events`
        await self._stock_events(back=back)  # (`deallocate_stock_for_orders` before the events)
        return await self._emit_all(["ORDER_EXPIRED", "ORDER_UPDATED"], current)

    def order_line(
        self, variant: ProductVariant | int, quantity: int = 1, **kwargs: Any
    ) -> OrderLine:
        """Build an order line priced from the variant's channel listing (no event)."""
        return self.store.order_line_for(variant, quantity, **kwargs)

    def discount(self, amount: Decimal, **fields: Any) -> OrderDiscount:
        """Build an order-level discount (no event)."""
        return self.store.new_discount(amount, **fields)

    def address(self, **fields: Any) -> Address:
        """Build an address with a fresh pk (no event)."""
        return self.store.new_address(**fields)

    def generate_store(
        self,
        products: int = 20,
        customers: int = 50,
        orders: int = 100,
        checkouts: int = 0,
        seed: int = 0,
        channels: Sequence[tuple[str, str]] = (("default-channel", "USD"),),
        start: datetime | None = None,
    ) -> None:
        """Fill the store with deterministic fake data (no webhook events are sent)."""
        generate_store(
            self.store,
            products=products,
            customers=customers,
            orders=orders,
            checkouts=checkouts,
            seed=seed,
            channels=channels,
            start=start,
        )
