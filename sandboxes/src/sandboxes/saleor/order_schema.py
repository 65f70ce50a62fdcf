"""Resolvers of orders: ``order``, the ``Order`` and ``OrderLine`` types (amounts, payment
status and refunds derived as Saleor derives them, see ``payments``) and the payment types
(``TransactionItem``, ``TransactionEvent``, ``Payment``, ``Transaction``,
``OrderGrantedRefund``)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from .catalog_schema import resolve_thumbnail
from .connections import saleor_error
from .context import Info, api_context
from .fulfillments import resolve_order_fulfillments
from .ids import InvalidGlobalId, checked_global_id
from .metadata_schema import metadata_resolvers
from .models import Address, Customer
from .money import Money, TaxedMoney
from .order_discounts import line_discounts
from .order_models import Order, OrderEvent, OrderLine, OrderOrigin
from .payment_models import TransactionItem
from .payments import (
    granted_refund_total,
    is_paid,
    payment_status,
    total_authorized,
    total_refund_pending,
    total_refunded,
)
from .reading import InChannel, read_field, reads
from .taxes import flat_rate_tax
from .versions import shows_own_email


def _undiscounted_net(line: OrderLine, quantity: int = 1) -> Decimal:
    """The net of a line's undiscounted price of `quantity` units (of its unit price: 1, of its
    total: the line's quantity), rounded half up once (`quantize_price`)."""
    gross = line.undiscounted_unit_price_gross * quantity
    return (gross / (1 + line.tax_rate)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def resolve_order(root: Any, info: Info, id: str | None = None) -> Order | None:
    """saleor/graphql/order/schema.py `resolve_order`: `from_global_id_or_error(id, Order)`
    refuses a malformed id or one whose pk is neither an integer nor a UUID ("Invalid ID: ….
    Expected: Order."); another type's id finds nothing (`raise_error` is off)."""
    context = api_context(info)
    if id:
        try:
            checked_global_id(id, "Order")
        except InvalidGlobalId as exc:
            raise saleor_error(str(exc)) from exc
    order = context.store.order_by_id(id) if id else None
    viewer = context.viewer
    if order is not None and viewer.user is not None and order.user_id == viewer.user.id:
        return order
    viewer.require("MANAGE_ORDERS")
    return order


# Order ------------------------------------------------------------------------------------------


def _obfuscated_email(value: str) -> str:
    """saleor/core/anonymize.py `obfuscate_email`: "jane@x.example" -> "j...@x.example"."""
    if "@" not in value:
        return _obfuscated(value)
    local, domain = value.split("@", 1)
    return f"{local[:1]}...@{domain}"


def _obfuscated(value: str | None, cutoff: int = 1) -> str:
    """`obfuscate_string`: the first character(s) kept, the rest dots."""
    return value[:cutoff] + "." * (len(value) - cutoff) if value else ""


def _hidden(order: Order) -> bool:
    """Saleor's `resolve_user_email` and address resolvers (saleor/graphql/order/types.py):
    an order from before 3.2 (`use_old_id`) without a user is shown obfuscated to everyone; one
    with a user to its owner and holders of MANAGE_ORDERS as it is (which reading it needs)."""
    return order.use_old_id and order.user_id is None


def _address(order: Order, address: Address | None) -> Address | None:
    if address is None or not _hidden(order):
        return address
    return address.model_copy(
        update={
            "first_name": _obfuscated(address.first_name),
            "last_name": _obfuscated(address.last_name),
            "company_name": _obfuscated(address.company_name),
            "street_address_1": _obfuscated(address.street_address_1),
            "street_address_2": _obfuscated(address.street_address_2),
            "phone": _obfuscated(address.phone, 3),
        }
    )


def resolve_event_user(source: OrderEvent, info: Info) -> Customer | None:
    """Who did it, to that user or to holders of MANAGE_USERS or MANAGE_STAFF; null to anyone
    else, not an error (saleor/graphql/order/types.py `OrderEvent.resolve_user`, as at 3.20.0)."""
    context = api_context(info)
    if source.user_id is None:
        return None
    viewer = context.viewer
    own = viewer.user is not None and viewer.user.id == source.user_id
    if not (own or viewer.has_any(("MANAGE_USERS", "MANAGE_STAFF"))):
        return None
    return context.store.customers.get(source.user_id)


def order_resolvers() -> dict[str, Callable[..., Any]]:
    def user(source: Order, info: Info) -> Customer | None:
        context = api_context(info)
        if source.user_id is None:
            return None
        viewer = context.viewer
        if not (viewer.user is not None and viewer.user.id == source.user_id):
            viewer.require("MANAGE_USERS", "MANAGE_ORDERS")
        return context.store.customers.get(source.user_id)

    def user_email(source: Order, info: Info) -> str | None:
        context = api_context(info)
        own = shows_own_email(context.saleor_version)
        if source.user_id is not None and (not own or not source.user_email):
            buyer = context.store.customers.get(source.user_id)
            if buyer is not None:
                # The address its buyer has now (`shows_own_email`); since 3.21.3 only when the
                # order has none (saleor/graphql/order/types.py:2608-2617 at 723cd4e).
                return buyer.email
        if source.user_email and _hidden(source):
            return _obfuscated_email(source.user_email)
        return source.user_email

    def manage_orders(resolve: Callable[[Order], Any]) -> Callable[..., Any]:
        def resolver(source: Order, info: Info) -> Any:
            api_context(info).viewer.require("MANAGE_ORDERS")
            return resolve(source)

        return resolver

    def transactions(source: Order, info: Info) -> list[TransactionItem]:
        # Saleor: `transactions` requires MANAGE_ORDERS or HANDLE_PAYMENTS.
        api_context(info).viewer.require("MANAGE_ORDERS", "HANDLE_PAYMENTS")
        return list(source.transactions)

    def taxed(
        net: Callable[[Order], Decimal], gross: Callable[[Order], Decimal]
    ) -> Callable[..., Any]:
        return reads(lambda source: TaxedMoney.of(net(source), gross(source), source.currency))

    def undiscounted_total(source: Order, info: Info) -> TaxedMoney:
        """The lines' undiscounted totals plus the undiscounted shipping, as each origin has
        it: placed from a checkout, the base as entered, a plain amount added to net and gross
        alike (saleor/checkout/complete_checkout.py `_create_order_from_checkout`); a draft's,
        recalculated, that base taxed at the shipping's rate as the channel enters prices
        (saleor/tax/calculations/order.py `_set_order_totals`); an import's, its shipping price
        (saleor/graphql/order/bulk_mutations/order_bulk_create.py)."""
        lines = source.lines
        net = sum((_undiscounted_net(ln, ln.quantity) for ln in lines), Decimal(0))
        gross = source.undiscounted_subtotal_gross
        base = source.undiscounted_base_shipping_price
        if source.origin is OrderOrigin.BULK_CREATE:
            ship_net, ship_gross = source.shipping_price_net, source.shipping_price_gross
        elif source.origin is OrderOrigin.DRAFT:
            entered_with_tax = api_context(info).store.prices_entered_with_tax(source.channel_id)
            taxed = flat_rate_tax(base, source.shipping_tax_rate * 100, entered_with_tax)
            ship_net, ship_gross = (a.quantize(source.step, ROUND_HALF_UP) for a in taxed)
        else:
            ship_net = ship_gross = base
        return TaxedMoney.of(net + ship_net, gross + ship_gross, source.currency)

    return {
        "number": reads(lambda source: str(source.number)),
        "token": lambda source, info: str(source.token),
        "user": user,
        "userEmail": user_email,
        "billingAddress": lambda source, info: _address(source, source.billing_address),
        "shippingAddress": lambda source, info: _address(source, source.shipping_address),
        "channel": lambda source, info: api_context(info).store.channels[source.channel_id],
        "lines": lambda source, info: [(line, source) for line in source.lines],
        # Derived when read, as Saleor's resolvers do (see payments).
        "isPaid": lambda source, info: is_paid(source),
        "paymentStatus": reads(payment_status),
        "totalRefunded": reads(lambda source: Money.of(total_refunded(source), source.currency)),
        "totalAuthorized": reads(
            lambda source: Money.of(total_authorized(source), source.currency)
        ),
        # These three require MANAGE_ORDERS in Saleor (PermissionsField).
        "totalRefundPending": manage_orders(
            lambda source: Money.of(total_refund_pending(source), source.currency)
        ),
        "totalGrantedRefund": manage_orders(
            lambda source: Money.of(granted_refund_total(source), source.currency)
        ),
        "grantedRefunds": manage_orders(
            lambda source: [(g, source.currency) for g in source.granted_refunds]
        ),
        "transactions": transactions,
        "payments": lambda source, info: list(source.payments),
        "total": taxed(lambda o: o.total_net, lambda o: o.total_gross),
        "subtotal": taxed(lambda o: o.subtotal_net, lambda o: o.subtotal_gross),
        "shippingPrice": taxed(lambda o: o.shipping_price_net, lambda o: o.shipping_price_gross),
        "undiscountedTotal": undiscounted_total,
        "shippingTaxRate": reads(lambda source: float(source.shipping_tax_rate)),
        # saleor/graphql/order/types.py `resolve_undiscounted_shipping_price`: the base price
        # as entered (`undiscounted_base_shipping_price`), net where prices are entered net.
        "undiscountedShippingPrice": reads(
            lambda source: Money.of(source.undiscounted_base_shipping_price, source.currency)
        ),
        "totalCharged": reads(lambda source: Money.of(source.total_charged, source.currency)),
        "discounts": lambda source, info: [(d, source.currency) for d in source.discounts],
        "fulfillments": resolve_order_fulfillments,
        # A PermissionsField of MANAGE_ORDERS (saleor/graphql/order/types.py `Order.events`).
        "events": manage_orders(lambda source: list(source.events)),
        "checkoutId": reads(
            lambda source: (
                base64.b64encode(f"Checkout:{source.checkout_token}".encode()).decode()
                if source.checkout_token
                else None
            )
        ),
    }


def order_line_resolvers() -> dict[str, Callable[..., Any]]:
    def line_money(
        net: Callable[[OrderLine], Decimal], gross: Callable[[OrderLine], Decimal]
    ) -> Callable[..., TaxedMoney]:
        def resolve(source: tuple[OrderLine, Order]) -> TaxedMoney:
            line, order = source
            return TaxedMoney.of(net(line), gross(line), order.currency)

        return reads(resolve)

    def variant(source: tuple[OrderLine, Order], info: Info) -> InChannel | None:
        line, order = source
        store = api_context(info).store
        found = store.variants.get(line.variant_id or -1)
        return InChannel(found, store.channels.get(order.channel_id)) if found else None

    meta = {name: _first_of_pair(fn) for name, fn in metadata_resolvers().items()}
    simple = {
        name: reads(partial(_read_first_of_pair, name=name))
        for name in (
            "productName",
            "variantName",
            "productSku",
            "quantity",
            "quantityFulfilled",
        )
    }
    return {
        **simple,
        **meta,
        "id": reads(lambda source: source[0].global_id),
        "productVariantId": reads(lambda source: source[0].product_variant_id),
        "isShippingRequired": lambda source, info: True,
        "taxRate": lambda source, info: float(source[0].tax_rate),
        "thumbnail": lambda source, info, size=None: resolve_thumbnail(source[0], info, size),
        "unitPrice": reads(
            lambda source: TaxedMoney.of(
                source[0].price_net(source[1].step),
                source[0].price_gross(source[1].step),
                source[1].currency,
            )
        ),
        "undiscountedUnitPrice": line_money(
            _undiscounted_net, lambda ln: ln.undiscounted_unit_price_gross
        ),
        "unitDiscount": reads(
            lambda source: Money.of(
                source[0].unit_discount(
                    source[1].step, placed_from_checkout=source[1].checkout_token is not None
                ),
                source[1].currency,
            )
        ),
        "totalPrice": line_money(lambda ln: ln.total_net, lambda ln: ln.total_gross),
        "undiscountedTotalPrice": line_money(
            lambda ln: _undiscounted_net(ln, ln.quantity),
            lambda ln: ln.undiscounted_unit_price_gross * ln.quantity,
        ),
        "variant": variant,
        "discounts": reads(
            lambda source: [(d, source[1].currency) for d in line_discounts(*source)]
        ),
    }


def order_line_discount_resolvers() -> dict[str, Callable[..., Any]]:
    """`OrderLineDiscount`, paired with its order's currency (order_discounts.line_discounts)."""

    def money(field: str) -> Callable[..., Money]:
        return lambda pair, info: Money.of(getattr(pair[0], field), pair[1])

    return {
        "id": lambda pair, info: pair[0].id,
        "type": lambda pair, info: pair[0].type,
        "name": lambda pair, info: pair[0].name,
        "valueType": lambda pair, info: pair[0].value_type,
        "value": lambda pair, info: pair[0].value,
        "total": money("total"),
        "unit": money("unit"),
    }


def payment_resolvers() -> dict[str, dict[str, Callable[..., Any]]]:
    """TransactionItem, TransactionEvent, Payment, Transaction and OrderGrantedRefund; objects
    without a currency of their own come paired with their owner's."""

    def money(field: str) -> Callable[..., Money]:
        return lambda source, info: Money.of(getattr(source, field), source.currency)

    def paired(field: str) -> Callable[..., Any]:
        return lambda pair, info: getattr(pair[0], field)

    def paired_money(field: str) -> Callable[..., Money]:
        return lambda pair, info: Money.of(getattr(pair[0], field), pair[1])

    amounts = {
        "authorizedAmount": "authorized_value",
        "authorizePendingAmount": "authorize_pending_value",
        "refundedAmount": "refunded_value",
        "refundPendingAmount": "refund_pending_value",
        "canceledAmount": "canceled_value",
        "cancelPendingAmount": "cancel_pending_value",
        "chargedAmount": "charged_value",
        "chargePendingAmount": "charge_pending_value",
    }
    metadata = metadata_resolvers()
    return {
        "TransactionItem": {
            **metadata,
            **{name: money(field) for name, field in amounts.items()},
            "message": lambda item, info: "",
            "events": lambda item, info: [(e, item.currency) for e in item.events],
        },
        "TransactionEvent": {
            "id": lambda pair, info: pair[0].global_id,
            "createdAt": paired("created_at"),
            "pspReference": paired("psp_reference"),
            "message": paired("message"),
            "type": paired("type"),
            "amount": paired_money("amount"),
        },
        "Payment": {
            **metadata,
            "total": money("total"),
            "capturedAmount": money("captured_amount"),
            "transactions": lambda payment, info: [
                (t, payment.currency) for t in payment.transactions
            ],
        },
        "Transaction": {
            "id": lambda pair, info: pair[0].global_id,
            "created": paired("created"),
            "token": lambda pair, info: str(pair[0].id),
            "kind": paired("kind"),
            "isSuccess": paired("is_success"),
            "error": lambda pair, info: None,
            "amount": paired_money("amount"),
        },
        "OrderGrantedRefund": {
            "id": lambda pair, info: pair[0].global_id,
            "createdAt": paired("created_at"),
            "updatedAt": paired("created_at"),
            "reason": paired("reason"),
            "shippingCostsIncluded": lambda pair, info: False,
            "amount": paired_money("amount"),
        },
    }


def _read_first_of_pair(source: tuple[Any, Any], name: str) -> Any:
    return read_field(source[0], name)


def _first_of_pair(fn: Callable[..., Any]) -> Callable[..., Any]:
    def resolve(source: tuple[Any, Any], info: Info, **kwargs: Any) -> Any:
        return fn(source[0], info, **kwargs)

    return resolve
