"""E-commerce carts (`/ecommerce/stores/{store_id}/carts`): lines and customer as an order's
(`orders.py`), and a shopper who must already be a contact of the store's audience.

Current Mailchimp refuses a cart whose customer's address is not in the store's audience, and
an integration adds the contact first. The source is Mailchimp's own integration: Mailchimp for
WooCommerce, since commit 79b00d1 (2026-02-09, "audience flow update for new endpoint"),
catches a cart POST refused with a message containing "not found in audience" ("this error is
for first time contacts not existing on the audience"), puts the member as `transactional`
and posts the cart again (includes/processes/class-mailchimp-woocommerce-cart-update.php).
The refusal's exact body is not published: the sandbox answers 400 "Bad Request" with a detail
containing those words (`customers.check_in_audience`). Only a POST is checked: that plugin
never PATCHes a cart (it deletes it and posts it again), so nothing says a PATCH is refused;
a cart that exists was taken with its contact in the audience.
"""

from __future__ import annotations

from typing import Any

from .bodies import BodyIn
from .currencies import check_currency
from .customers import CustomerRef, check_in_audience, render_customer
from .ecommerce import STORE, already_exists, now, store_data
from .errors import not_found
from .models import Cart
from .order_checks import Link, check_campaign
from .orders import LineIn, _lines, _order_customer, _patched, held_customer
from .routing import ApiRequest, Router, paginate
from .state import StoreData

router = Router()

_CUSTOMER = {"customer"}  # rendered from the store's customer (`render_cart`)


class CartIn(BodyIn):
    id: str
    customer: CustomerRef
    campaign_id: str = ""
    checkout_url: Link = ""
    currency_code: str
    order_total: float
    tax_total: float = 0.0
    lines: list[LineIn]


def render_cart(data: StoreData, cart: Cart) -> dict[str, Any]:
    doc = cart.model_dump(mode="json", exclude=_CUSTOMER)  # as `render_order`
    customer = held_customer(data, cart)
    return {"id": doc["id"], "customer": render_customer(data, customer), **doc, "_links": []}


def _cart(request: ApiRequest) -> tuple[StoreData, Cart]:
    data = store_data(request)
    found = data.carts.get(request.params["cart_id"])
    if found is None:
        raise not_found()
    return data, found


def _build_cart(
    request: ApiRequest, data: StoreData, payload: CartIn, created: str, *, new: bool
) -> Cart:
    """The cart a body makes (`new`: a POST's, whose shopper must be in the audience)."""
    check_currency(payload.currency_code)
    check_campaign(request, data, payload.campaign_id)
    lines = _lines(data, payload.lines)
    if new:
        check_in_audience(request, data, payload.customer)
    customer = _order_customer(request, data, payload.customer)
    return Cart(
        **payload.model_dump(exclude={"customer", "lines"}),
        customer=customer,
        lines=lines,
        created_at=created,
        updated_at=now(request),
    )


@router.route("POST", f"{STORE}/carts")
def post_cart(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    payload = request.parse(CartIn)
    if payload.id in data.carts:
        raise already_exists("cart")
    cart = _build_cart(request, data, payload, now(request), new=True)
    data.carts[cart.id] = cart
    return render_cart(data, cart)


@router.route("GET", f"{STORE}/carts")
def get_carts(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    items = [render_cart(data, c) for c in data.carts.values()]
    return {**paginate(request, "carts", items), "store_id": data.info.id}


@router.route("GET", f"{STORE}/carts/{{cart_id}}")
def get_cart(request: ApiRequest) -> dict[str, Any]:
    return render_cart(*_cart(request))


@router.route("PATCH", f"{STORE}/carts/{{cart_id}}")
def patch_cart(request: ApiRequest) -> dict[str, Any]:
    data, found = _cart(request)
    merged = _patched(request, found.model_dump(), held_customer(data, found), found.lines)
    cart = _build_cart(request, data, request.parse(CartIn, merged), found.created_at, new=False)
    data.carts[cart.id] = cart
    return render_cart(data, cart)


@router.route("DELETE", f"{STORE}/carts/{{cart_id}}")
def delete_cart(request: ApiRequest) -> None:
    data, found = _cart(request)
    del data.carts[found.id]
