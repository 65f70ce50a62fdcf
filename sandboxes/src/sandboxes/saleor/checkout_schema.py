"""Resolvers of checkouts: ``checkout(id:|token:)``, the ``Checkout`` type (its buyer guarded as
Saleor guards it) and ``CheckoutLine``, priced from the checkout's channel."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .checkout_payments import authorize_status, charge_status
from .checkout_vouchers import PromoCodeRefused, add_promo_code, checkout_prices
from .connections import saleor_error
from .context import Info, api_context
from .ids import InvalidGlobalId, checked_global_id
from .metadata_schema import metadata_resolvers
from .models import Checkout, CheckoutLine, Customer
from .money import Money, TaxedMoney, currency_step
from .reading import InChannel
from .store import SaleorStore
from .store_base import NotFound
from .versions import shows_own_email


def resolve_checkout(
    root: Any, info: Info, id: str | None = None, token: Any = None
) -> Checkout | None:
    """``checkout(id:|token:)`` (saleor/graphql/checkout/resolvers.py ``resolve_checkout``, the
    same at tag 3.20.119 and commit 723cd4e): a checkout of an active channel is returned to
    anyone who knows its token, signed in or not, its owner or not (the owner rule of earlier
    Saleors was dropped by saleor/saleor#16010, commit 1d4a088, in tag 3.20.0 and every later
    one); one of an inactive channel
    only to a caller with MANAGE_CHECKOUTS, IMPERSONATE_USER or HANDLE_PAYMENTS, anyone else
    gets PermissionDenied. Who owns it is guarded field by field (``Checkout.user``)."""
    context = api_context(info)
    store = context.store
    if id is not None:
        # `from_global_id_or_error(id, only_type="Checkout", raise_error=True)`, then
        # `UUID(token)`: a malformed id, another type's or a pk that is no UUID is an error,
        # not a checkout that does not exist.
        try:
            type_name, pk = checked_global_id(id, "Checkout")
        except InvalidGlobalId as exc:
            raise saleor_error(str(exc)) from exc
        if type_name != "Checkout":
            raise saleor_error(f"Invalid ID: {id}. Expected: Checkout, received: {type_name}.")
        try:
            token = str(uuid.UUID(pk))
        except ValueError as exc:
            raise saleor_error(str(exc)) from exc
    if token is None:
        raise saleor_error("At least one of arguments is required: 'id', 'token'.")
    try:
        checkout = store.get_checkout(str(token))
    except NotFound:
        return None
    if not store.channels[checkout.channel_id].is_active:
        context.viewer.require("MANAGE_CHECKOUTS", "IMPERSONATE_USER", "HANDLE_PAYMENTS")
    return checkout


# Checkout ---------------------------------------------------------------------------------------


def _checkout_currency(info: Info, checkout: Checkout) -> str:
    return api_context(info).store.channels[checkout.channel_id].currency_code


@dataclass(frozen=True)
class CheckoutLineView:
    """A checkout line with the checkout it belongs to (needed for pricing)."""

    line: CheckoutLine
    checkout: Checkout


def resolve_checkout_lines(source: Checkout, info: Info) -> list[CheckoutLineView]:
    return [CheckoutLineView(line, source) for line in source.lines]


def _line_total(info: Info, view: CheckoutLineView) -> Decimal:
    """The line's total with the checkout's voucher (`checkout_vouchers.checkout_prices`)."""
    store = api_context(info).store
    prices = checkout_prices(store, view.checkout)
    return prices.lines.get(view.line.id, store.checkout_line_total(view.checkout, view.line))


def _line_price(info: Info, view: CheckoutLineView) -> Decimal:
    """`calculate_base_line_unit_price`: the line's total over its quantity, rounded."""
    total = _line_total(info, view)
    step = currency_step(_checkout_currency(info, view.checkout))
    return (total / max(view.line.quantity, 1)).quantize(step, ROUND_HALF_UP)


def checkout_line_resolvers() -> dict[str, Callable[..., Any]]:
    def variant(view: CheckoutLineView, info: Info) -> InChannel:
        store = api_context(info).store
        return InChannel(
            store.get_variant(view.line.variant_id), store.channels[view.checkout.channel_id]
        )

    def unit_price(view: CheckoutLineView, info: Info) -> TaxedMoney:
        return TaxedMoney.untaxed(_line_price(info, view), _checkout_currency(info, view.checkout))

    def total_price(view: CheckoutLineView, info: Info) -> TaxedMoney:
        amount = _line_total(info, view)
        return TaxedMoney.untaxed(amount, _checkout_currency(info, view.checkout))

    def _undiscounted(view: CheckoutLineView, info: Info) -> Decimal:
        store = api_context(info).store
        return store.checkout_line_undiscounted_price(view.checkout, view.line)

    # `undiscountedUnitPrice` / `undiscountedTotalPrice`: the line's `undiscounted_unit_price`
    # (the variant's price before catalogue promotions), times the quantity for the total
    # (saleor/graphql/checkout/types.py `CheckoutLine.resolve_undiscounted_unit_price`,
    # `resolve_undiscounted_total_price`).
    def undiscounted_unit(view: CheckoutLineView, info: Info) -> Money:
        return Money.of(_undiscounted(view, info), _checkout_currency(info, view.checkout))

    def undiscounted_total(view: CheckoutLineView, info: Info) -> Money:
        amount = _undiscounted(view, info) * view.line.quantity
        return Money.of(amount, _checkout_currency(info, view.checkout))

    meta = {name: _through_line(fn) for name, fn in metadata_resolvers().items()}
    return {
        "id": lambda view, info: view.line.global_id,
        "variant": variant,
        "quantity": lambda view, info: view.line.quantity,
        "unitPrice": unit_price,
        "totalPrice": total_price,
        "undiscountedUnitPrice": undiscounted_unit,
        "undiscountedTotalPrice": undiscounted_total,
        "requiresShipping": lambda view, info: True,
        **meta,
    }


def _through_line(fn: Callable[..., Any]) -> Callable[..., Any]:
    def resolve(view: CheckoutLineView, info: Info, **kwargs: Any) -> Any:
        return fn(view.line, info, **kwargs)

    return resolve


def checkout_resolvers() -> dict[str, Callable[..., Any]]:
    def money(fn: Callable[[SaleorStore, Checkout], Decimal]) -> Callable[..., TaxedMoney]:
        def resolve(source: Checkout, info: Info) -> TaxedMoney:
            amount = fn(api_context(info).store, source)
            return TaxedMoney.untaxed(amount, _checkout_currency(info, source))

        return resolve

    def user(source: Checkout, info: Info) -> Customer | None:
        context = api_context(info)
        if source.user_id is None:
            return None
        viewer = context.viewer
        if not (viewer.user is not None and viewer.user.id == source.user_id):
            # The owner, or one of these: MANAGE_CHECKOUTS alone does not show the buyer
            # (saleor/graphql/checkout/types.py, `Checkout.resolve_user`, 3.20.119 and 3.24).
            viewer.require("MANAGE_USERS", "HANDLE_PAYMENTS", "HANDLE_TAXES")
        return context.store.customers.get(source.user_id)

    def email(source: Checkout, info: Info) -> str | None:
        context = api_context(info)
        own = shows_own_email(context.saleor_version)
        if source.user_id is not None and (not own or not source.email):
            buyer = context.store.customers.get(source.user_id)
            if buyer is not None:
                # `get_customer_email()` (`shows_own_email`): since 3.21.3 the user's only when
                # the checkout has none (saleor/checkout/models.py:368-373 at 723cd4e).
                return buyer.email
        return source.email

    def voucher_code(source: Checkout, info: Info) -> str | None:
        # The stored field (`Checkout.voucher_code`): only a price recalculation drops a voucher
        # that stopped applying (`checkout_vouchers.checkout_voucher`), not reading the code.
        return source.voucher_code

    def discount(source: Checkout, info: Info) -> Money:
        amount = checkout_prices(api_context(info).store, source).discount
        return Money.of(amount, _checkout_currency(info, source))

    def discount_name(source: Checkout, info: Info) -> str | None:
        voucher = checkout_prices(api_context(info).store, source).voucher
        return voucher.name if voucher is not None else None

    return {
        "id": lambda source, info: source.global_id,
        "token": lambda source, info: str(source.token),
        "email": email,
        # `last_change`, as the checkouts' `updatedAt` filter compares it
        # (saleor/graphql/checkout/types.py `Checkout.resolve_updated_at`).
        "updatedAt": lambda source, info: source.last_change,
        "channel": lambda source, info: api_context(info).store.channels[source.channel_id],
        "user": user,
        "lines": resolve_checkout_lines,
        "quantity": lambda source, info: sum(line.quantity for line in source.lines),
        "isShippingRequired": lambda source, info: True,
        "subtotalPrice": money(lambda store, c: store.checkout_subtotal(c)),
        "totalPrice": money(lambda store, c: store.checkout_total(c)),
        "shippingPrice": money(lambda store, c: checkout_prices(store, c).shipping),
        # `Checkout.voucher_code`, `discount` (the voucher's alone) and `discount_name`.
        "voucherCode": voucher_code,
        "discount": discount,
        "discountName": discount_name,
        "chargeStatus": lambda source, info: charge_status(
            source, api_context(info).store.checkout_total(source)
        ),
        "authorizeStatus": lambda source, info: authorize_status(
            source, api_context(info).store.checkout_total(source)
        ),
    }


def resolve_checkout_add_promo_code(
    root: Any,
    info: Info,
    promoCode: str,
    id: str | None = None,
    checkoutId: str | None = None,
    token: Any = None,
) -> dict[str, Any]:
    """``checkoutAddPromoCode`` (saleor/graphql/checkout/mutations/checkout_add_promo_code.py;
    `checkout_vouchers.add_promo_code`): no permission, the checkout by `id` (or the deprecated
    `checkoutId`, `token`); accepted, CHECKOUT_UPDATED (`call_checkout_info_event`)."""
    context = api_context(info)
    given = [value for value in (id, checkoutId, token) if value is not None]
    if len(given) != 1:  # `validate_one_of_args_is_in_mutation`
        raise saleor_error("Argument 'checkout_id', 'token' or 'id' must be provided.")
    checkout = resolve_checkout(root, info, id=id or checkoutId, token=token)
    if checkout is None:
        error = {
            "field": "id" if token is None else "token",
            "message": f"Couldn't resolve to a node: {given[0]}",
            "code": "NOT_FOUND",
            "variants": None,
            "lines": None,
        }
        return {"errors": [error], "checkoutErrors": [error], "checkout": None}
    try:
        add_promo_code(context.store, checkout, promoCode)
    except PromoCodeRefused as exc:
        return {"errors": [exc.error], "checkoutErrors": [exc.error], "checkout": None}
    context.store.update_checkout(checkout)  # `last_change` (saved with the voucher)
    context.pending_events.append(("CHECKOUT_UPDATED", checkout))
    return {"errors": [], "checkoutErrors": [], "checkout": checkout}
