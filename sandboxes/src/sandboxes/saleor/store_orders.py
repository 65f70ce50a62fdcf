"""Orders of ``SaleorStore``: order lines priced from a variant's listing, orders created
(paid with ``mark_paid``), updated and deleted, and the index that lists them by channel, user
and creation time."""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .cursors import Ordering
from .ids import InvalidGlobalId, from_global_id, to_global_id
from .models import Address, CreationWrites, Customer, ProductVariant, SortWrites, utcnow
from .money import currency_step
from .order_discounts import spread_order_discounts
from .order_models import (
    Order,
    OrderDiscount,
    OrderEvent,
    OrderEventType,
    OrderLine,
    OrderOrigin,
    OrderStatus,
)
from .payment_actions import IdSource, capture_legacy_payment, create_transaction
from .store_base import CREATED_KEY, NotFound, OrderIndex
from .store_catalog import StoreCatalog
from .taxes import flat_rate_tax


class StoreOrders(StoreCatalog):
    """Orders and their lines, listed by channel, user and creation time."""

    # -- orders ---------------------------------------------------------------------------------

    def _order_line(
        self,
        variant: ProductVariant,
        quantity: int,
        unit_price: Decimal,
        undiscounted_unit_price: Decimal,
        tax_rate: Decimal = Decimal("0"),
    ) -> OrderLine:
        product = self.products.get(variant.product_id)
        net = (unit_price / (1 + tax_rate)).quantize(Decimal("0.01"))
        return OrderLine(
            id=self.next_id(),
            variant_id=variant.id,
            product_variant_id=variant.global_id,
            product_id=variant.product_id,
            product_name=product.name if product else "",
            variant_name=variant.name,
            product_sku=variant.sku,
            quantity=quantity,
            unit_price_net=net,
            unit_price_gross=unit_price,
            undiscounted_unit_price_gross=undiscounted_unit_price,
            tax_rate=tax_rate,
        )

    def order_line_for(
        self,
        variant: ProductVariant | int,
        quantity: int = 1,
        channel: str | None = None,
        *,
        unit_price: Decimal | None = None,
        discount: Decimal = Decimal("0"),
        tax_rate: Decimal = Decimal("0"),
    ) -> OrderLine:
        """Build an order line for ``variant`` priced from its channel listing (gross prices)."""
        var = self.get_variant(variant) if isinstance(variant, int) else variant
        chan = self.channel_by_slug(channel) if channel else self.default_channel()
        listing = var.listing_for(chan.id)
        base = unit_price if unit_price is not None else (listing.price if listing else Decimal(0))
        return self._order_line(var, quantity, base - discount, base, tax_rate)

    def create_order(
        self,
        channel: str | None = None,
        lines: Sequence[OrderLine] = (),
        *,
        user: Customer | None = None,
        email: str | None = None,
        shipping_price: Decimal = Decimal("0"),
        shipping_tax_rate: Decimal = Decimal("0"),
        shipping_method_name: str | None = "Standard",
        discounts: Sequence[OrderDiscount] = (),
        voucher_code: str | None = None,
        status: OrderStatus = OrderStatus.UNFULFILLED,
        paid: bool = True,
        legacy_payment: bool = False,
        checkout_token: uuid.UUID | None = None,
        shipping_address: Address | None = None,
        billing_address: Address | None = None,
        customer_note: str = "",
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> Order:
        chan = self.channel_by_slug(channel) if channel else self.default_channel()
        # `shipping_price` as entered, after shipping vouchers (`discounts` in the prices with a
        # `shipping_part`): taxed at `shipping_tax_rate` as the channel enters prices
        # (saleor/tax/calculations/__init__.py `calculate_flat_rate_tax`).
        net, gross = flat_rate_tax(
            shipping_price, shipping_tax_rate * 100, self.prices_entered_with_tax(chan.id)
        )
        voucher_shipping = sum((d.shipping_part for d in discounts if d.in_prices), Decimal(0))
        # `quantize_price`: to the currency's places, half up (the `prices` library's default).
        step = currency_step(chan.currency_code)
        net, gross = (a.quantize(step, ROUND_HALF_UP) for a in (net, gross))
        # The sandbox's own key is the number (unique in a Saleor, as the UUID Saleor keys it
        # by): an order is found in Mailchimp under it (the app's order ids), as in Saleor.
        number = next(self._order_numbers)
        # A draft is staff's (`draftOrderCreate` sets `origin=DRAFT`, saleor/graphql/order/
        # mutations/draft_order_create.py; completing it keeps it); otherwise a checkout's
        # (saleor/checkout/complete_checkout.py `origin=OrderOrigin.CHECKOUT`), unless given.
        default = OrderOrigin.DRAFT if status is OrderStatus.DRAFT else OrderOrigin.CHECKOUT
        origin = fields.pop("origin", default)
        # `orderBulkCreate` stores the shipping's net as its base, whatever the entry
        # (saleor/graphql/order/bulk_mutations/order_bulk_create.py).
        base = net if origin is OrderOrigin.BULK_CREATE else shipping_price + voucher_shipping
        order = Order(
            id=number,
            number=number,
            channel_id=chan.id,
            user_id=user.id if user else None,
            user_email=email or (user.email if user else None),
            lines=list(lines),
            currency=chan.currency_code,
            shipping_price_gross=gross,
            shipping_price_net=net,
            shipping_tax_rate=shipping_tax_rate,
            undiscounted_base_shipping_price=base,
            shipping_method_name=shipping_method_name,
            discounts=list(discounts),
            voucher_code=voucher_code,
            voucher_id=next(
                (v.id for v in self.vouchers.values() if v.code_named(voucher_code)), None
            )
            if voucher_code
            else None,
            status=status,
            origin=origin,
            checkout_token=checkout_token,
            shipping_address=shipping_address,
            billing_address=billing_address,
            customer_note=customer_note,
            metadata=dict(metadata or {}),
            **fields,
        )
        spread_order_discounts(order)
        if paid:
            mark_paid(order, self.next_id, legacy_payment=legacy_payment)
        self.orders[order.id] = order
        self.order_tokens[order.token] = order.id
        self._order_index = None
        return order

    def new_discount(self, amount: Decimal, **fields: Any) -> OrderDiscount:
        return OrderDiscount(
            id=self.next_id(), value=fields.pop("value", amount), amount=amount, **fields
        )

    def order_pk(self, token: str) -> int | None:
        """The pk of the order whose UUID is `token` (what its global id names), or None."""
        try:
            found = self.order_by_id(to_global_id("Order", str(uuid.UUID(token))))
        except ValueError:
            return None
        return found.id if found is not None else None

    def order_by_id(self, global_id: str) -> Order | None:
        """The order an `Order:<uuid>` global id names (Saleor's ids since 3.2), or None."""
        try:
            type_name, pk = from_global_id(global_id)
            token = uuid.UUID(pk)
        except (InvalidGlobalId, ValueError):
            return None
        if type_name != "Order":
            return None
        found = self.orders.get(self.order_tokens.get(token, -1))
        if found is None or found.token != token:  # a token set after creation (the generator)
            self.order_tokens = {o.token: o.id for o in self.orders.values()}
            found = self.orders.get(self.order_tokens.get(token, -1))
        return found

    def get_order(self, pk: int) -> Order:
        try:
            return self.orders[pk]
        except KeyError:
            raise NotFound(f"Order {pk} does not exist") from None

    def update_order(self, order: Order | int, **changes: Any) -> Order:
        """Save the order with `changes`: `updated_at` with them (Django's `auto_now`, set by
        every `save()` naming it). Whether an operation saves at all, and what, is its own
        (`orderUpdate` saves a change only: `order_update.py`)."""
        current = self.get_order(order if isinstance(order, int) else order.id)
        for key, value in changes.items():
            setattr(current, key, value)
        current.updated_at = utcnow()
        if changes.keys() & {"channel_id", "user_id"}:
            self._order_index = None
        return current

    def record_order_event(
        self,
        order: Order,
        event_type: OrderEventType,
        at: datetime | None = None,
        message: str | None = None,
        user_id: int | None = None,
    ) -> OrderEvent:
        """Add an event to the order's (`OrderEvent.objects.create`, dated now unless `at`, by
        the user `user_id`); the order is not saved: its `updated_at` stays."""
        event = OrderEvent(
            id=self.next_id(),
            type=event_type,
            date=at or utcnow(),
            message=message,
            user_id=user_id,
        )
        order.events.append(event)
        return event

    def forget_order_index(self) -> None:
        """After orders changed channel or user behind `update_order`'s back (a bulk move)."""
        self._order_index = None

    def delete_order(self, order: Order | int) -> Order:
        self._order_index = None
        return self.orders.pop(order if isinstance(order, int) else order.id)

    def _orders_indexed(self) -> OrderIndex:
        if self._order_index is None or self._order_index.creation_writes != CreationWrites.count:
            index = OrderIndex(creation_writes=CreationWrites.count)
            for order in self.orders.values():  # pk order, kept in each list
                index.by_channel.setdefault(order.channel_id, []).append(order)
                if order.user_id is not None:
                    index.by_user.setdefault(order.user_id, []).append(order)
            self._order_index = index
        return self._order_index

    def orders_in_channel(self, channel_id: int) -> list[Order]:
        """The channel's orders by pk (a copy: callers filter it further)."""
        return list(self._orders_indexed().by_channel.get(channel_id, ()))

    def orders_listed(
        self, channel_id: int | None, order: Ordering[Order], low: datetime, high: datetime
    ) -> list[Order]:
        """The orders (of the channel, or all) created in `[low, high)`, sorted ascending by
        `order`'s values: the index's own list, not to be changed (a page reads it, it is not
        copied per page). Found by bisecting the orders sorted by creation time, so each page of
        a slice of a 100 k-order store looks at its slice only, not at every order; kept until
        an order is made, deleted, backdated, moved or changes a field it is sorted by."""
        index = self._orders_indexed()

        def listed() -> list[Order]:
            dated = index.by_created.get(channel_id)
            if dated is None:
                source = (
                    self.orders.values()
                    if channel_id is None
                    else index.by_channel.get(channel_id, ())
                )
                dated = index.by_created[channel_id] = sorted(source, key=_created_then_pk)
            start = bisect_left(dated, low, key=CREATED_KEY)
            stop = bisect_left(dated, high, lo=start, key=CREATED_KEY)
            return sorted(dated[start:stop], key=order.key)

        return index.views.get(SortWrites.count, (channel_id, order.name, low, high), listed)

    def orders_of(self, user_id: int) -> list[Order]:
        """The user's orders by pk."""
        return list(self._orders_indexed().by_user.get(user_id, ()))

    def has_orders(self, user_id: int) -> bool:
        return user_id in self._orders_indexed().by_user


def _created_then_pk(order: Order) -> tuple[datetime, int]:
    return order.created, order.id


def mark_paid(order: Order, ids: IdSource, *, legacy_payment: bool = False) -> list[str]:
    """Charge ``order``'s total at once (``checkoutComplete`` of a paid checkout,
    ``orderMarkAsPaid``): a payment app's transaction or, with ``legacy_payment``, a legacy
    payment. Refused, as ``clean_mark_order_as_paid`` does (saleor/order/actions.py), once the
    order has payments or transactions. Returns the order webhooks Saleor fires for it."""
    if order.payments:
        raise ValueError("Orders with payments can not be manually marked as paid.")
    if order.transactions:
        raise ValueError("Orders with transactions can not be manually marked as paid.")
    if order.total_gross <= 0:
        return []
    if legacy_payment:
        return capture_legacy_payment(ids, order, order.total_gross)
    return create_transaction(ids, order, charged=order.total_gross)[1]
