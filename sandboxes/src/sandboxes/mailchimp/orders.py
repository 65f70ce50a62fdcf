"""E-commerce orders and carts, and what they share: lines, customer and campaign checks.

Order and cart lines must reference an existing product *and* variant; an order's
``campaign_id`` must be a known campaign.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .customers import CustomerRef, render_customer, save_customer
from .ecommerce import STORE, already_exists, now, store_data
from .errors import bad_request, field_invalid, not_found
from .models import Cart, Customer, Line, Order, Product, Variant
from .routing import ApiRequest, BodyIn, Router, paginate
from .state import StoreData

router = Router()


class LineIn(BodyIn):
    id: str
    product_id: str
    product_variant_id: str
    quantity: int
    price: float
    discount: float = 0.0


class PromoIn(BodyIn):
    """An order's promo (OpenAPI `Promos_inner_1`): all three required, `type` an enum."""

    code: str
    amount_discounted: float
    type: Literal["fixed", "percentage"]


class OrderIn(BodyIn):
    id: str
    customer: CustomerRef
    campaign_id: str = ""
    landing_site: str = ""
    financial_status: str = ""
    fulfillment_status: str = ""
    currency_code: str
    order_total: float
    order_url: str = ""
    discount_total: float = 0.0
    tax_total: float = 0.0
    shipping_total: float = 0.0
    tracking_code: str = ""
    processed_at_foreign: str = ""
    cancelled_at_foreign: str = ""
    updated_at_foreign: str = ""
    shipping_address: dict[str, Any] = Field(default_factory=dict)
    billing_address: dict[str, Any] = Field(default_factory=dict)
    promos: list[PromoIn] = Field(default_factory=list)
    lines: list[LineIn]
    tracking_number: str = ""
    tracking_carrier: str = ""
    tracking_url: str = ""


class CartIn(BodyIn):
    id: str
    customer: CustomerRef
    campaign_id: str = ""
    checkout_url: str = ""
    currency_code: str
    order_total: float
    tax_total: float = 0.0
    lines: list[LineIn]


_CUSTOMER = {"customer"}  # never changed


def _variant_of(product: Product, variant_id: str) -> Variant | None:
    # A loop rather than next() over a generator: no object made per line of every order.
    for variant in product.variants:
        if variant.id == variant_id:
            return variant
    return None


def _lines(data: StoreData, lines: list[LineIn]) -> list[Line]:
    """The lines of an order or a cart, each of a product and variant the store holds. Mailchimp
    refuses the first that is not with 400 "Bad Request" and one detail, no field error
    (ibericode/mailchimp-for-wordpress#754 and #571 quote both bodies)."""
    out: list[Line] = []
    for line in lines:
        product = data.products.get(line.product_id)
        if product is None:
            raise bad_request(
                "A product with the provided ID does not exist in the account for this list."
            )
        variant = _variant_of(product, line.product_variant_id)
        if variant is None:
            raise bad_request(
                "A product with the provided variant ID does not exist in the account for this "
                "list."
            )
        out.append(
            Line(
                **line.__dict__,  # its fields as validated (a dump would copy them first)
                product_title=product.title,
                product_variant_title=variant.title,
                image_url=variant.image_url or product.image_url,
            )
        )
    return out


def _order_customer(request: ApiRequest, data: StoreData, ref: CustomerRef) -> Customer:
    # `ref.model_dump(exclude_none=True)` without the copy: `save_customer` validates anew.
    fields = {name: value for name, value in ref.__dict__.items() if value is not None}
    if ref.id not in data.customers:
        if not ref.email_address:
            raise field_invalid(
                "customer.email_address", "An email address is required for a new customer."
            )
        fields.setdefault("opt_in_status", False)
    return save_customer(request, data, fields)


def _check_campaign(request: ApiRequest, data: StoreData, campaign_id: str) -> None:
    """An order's or a cart's campaign must be one sent to the store's audience. Mailchimp
    refuses any other with 400 and "A campaign with the provided ID does not exist in the
    account for this list." as its `detail`, no field error (mailchimp/mc-magento#879: a
    campaign of another audience refused; mailchimp/mc-woocommerce#348; ibericode's MC4WP
    reads the detail to retry without the campaign)."""
    if campaign_id and request.account.campaigns.get(campaign_id) != data.info.list_id:
        raise bad_request(
            "A campaign with the provided ID does not exist in the account for this list."
        )


def _free_shipping(rule: dict[str, Any]) -> bool:
    """A free-shipping promo rule: the spec's `E_commerce_Promo_Rule_1.type` says "For free
    shipping set type to fixed", so a `shipping` rule of a fixed 0 is free shipping."""
    return bool(
        rule.get("target") == "shipping" and rule.get("type") == "fixed" and not rule.get("amount")
    )


def _check_promos(data: StoreData, promos: list[PromoIn]) -> None:
    """An order's promo with a code of a free-shipping rule of the store: the spec's
    `Promos_inner_1` says "For free shipping set amount_discounted to 0" and "For free shipping
    set type to fixed". Not documented as a refusal, chosen as the stricter side (a code the
    store does not hold cannot be told apart, so it is not checked)."""
    free = {
        code.get("code")
        for held in data.promo_rules.values()
        if _free_shipping(held.rule)
        for code in held.codes.values()
    }
    for index, promo in enumerate(promos):
        if promo.code not in free:
            continue
        if promo.amount_discounted != 0:
            raise field_invalid(
                f"promos.{index}.amount_discounted", "For free shipping set amount_discounted to 0"
            )
        if promo.type != "fixed":
            raise field_invalid(f"promos.{index}.type", "For free shipping set type to fixed")


def render_order(data: StoreData, order: Order) -> dict[str, Any]:
    # The order's own copy of its customer is not dumped only to be replaced (the keys keep
    # their order: `id`, then `customer`).
    doc = order.model_dump(mode="json", exclude=_CUSTOMER)
    customer = data.customers.get(order.customer.id, order.customer)
    return {"id": doc["id"], "customer": render_customer(data, customer), **doc, "_links": []}


def _order(request: ApiRequest) -> tuple[StoreData, Order]:
    data = store_data(request)
    found = data.orders.get(request.params["order_id"])
    if found is None:
        raise not_found()
    return data, found


@router.route("POST", f"{STORE}/orders")
def post_order(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    payload = request.parse(OrderIn)
    if not payload.lines:
        # Mailchimp answers an order without lines 404 "Resource Not Found" (a line missing a
        # field is a 400): mailchimp/mailchimp-client-lib-codegen#127, with both bodies.
        raise not_found()
    if payload.id in data.orders:
        raise already_exists("order")
    _check_campaign(request, data, payload.campaign_id)
    _check_promos(data, payload.promos)
    lines = _lines(data, payload.lines)
    customer = _order_customer(request, data, payload.customer)
    order = Order(
        **payload.model_dump(exclude={"customer", "lines"}),
        customer=customer,
        store_id=data.info.id,
        lines=lines,
    )
    data.save_order(order)
    return render_order(data, order)


@router.route("GET", f"{STORE}/orders")
def get_orders(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    orders = list(data.orders.values())
    if request.query.get("customer_id"):
        orders = data.orders_of(request.query["customer_id"])
    if request.query.get("campaign_id"):
        orders = [o for o in orders if o.campaign_id == request.query["campaign_id"]]
    items = [render_order(data, o) for o in orders]
    return {**paginate(request, "orders", items), "store_id": data.info.id}


@router.route("GET", f"{STORE}/orders/{{order_id}}")
def get_order(request: ApiRequest) -> dict[str, Any]:
    return render_order(*_order(request))


def _merge_lines(existing: list[Line], body: list[Any]) -> list[dict[str, Any]]:
    by_id = {line.id: line.model_dump() for line in existing}
    for raw in body:
        if isinstance(raw, dict) and "id" in raw:
            by_id[raw["id"]] = {**by_id.get(raw["id"], {}), **raw}
    return list(by_id.values())


@router.route("PATCH", f"{STORE}/orders/{{order_id}}")
def patch_order(request: ApiRequest) -> dict[str, Any]:
    data, found = _order(request)
    body = request.json_object()
    merged = {**found.model_dump(), **body, "id": found.id}
    merged["customer"] = {"id": found.customer.id, **(body.get("customer") or {})}
    if isinstance(body.get("lines"), list):
        merged["lines"] = _merge_lines(found.lines, body["lines"])
    payload = request.parse(OrderIn, merged)
    _check_campaign(request, data, payload.campaign_id)
    _check_promos(data, payload.promos)
    lines = _lines(data, payload.lines)
    customer = _order_customer(request, data, payload.customer)
    order = Order(
        **payload.model_dump(exclude={"customer", "lines"}),
        customer=customer,
        store_id=data.info.id,
        lines=lines,
    )
    data.save_order(order)
    return render_order(data, order)


@router.route("DELETE", f"{STORE}/orders/{{order_id}}")
def delete_order(request: ApiRequest) -> None:
    data, found = _order(request)
    data.delete_order(found.id)


def render_cart(data: StoreData, cart: Cart) -> dict[str, Any]:
    doc = cart.model_dump(mode="json", exclude=_CUSTOMER)  # as `render_order`
    customer = data.customers.get(cart.customer.id, cart.customer)
    return {"id": doc["id"], "customer": render_customer(data, customer), **doc, "_links": []}


def _cart(request: ApiRequest) -> tuple[StoreData, Cart]:
    data = store_data(request)
    found = data.carts.get(request.params["cart_id"])
    if found is None:
        raise not_found()
    return data, found


def _build_cart(request: ApiRequest, data: StoreData, payload: CartIn, created: str) -> Cart:
    _check_campaign(request, data, payload.campaign_id)
    lines = _lines(data, payload.lines)
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
    cart = _build_cart(request, data, payload, now(request))
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
    body = request.json_object()
    merged = {**found.model_dump(), **body, "id": found.id}
    merged["customer"] = {"id": found.customer.id, **(body.get("customer") or {})}
    if isinstance(body.get("lines"), list):
        merged["lines"] = _merge_lines(found.lines, body["lines"])
    cart = _build_cart(request, data, request.parse(CartIn, merged), found.created_at)
    data.carts[cart.id] = cart
    return render_cart(data, cart)


@router.route("DELETE", f"{STORE}/carts/{{cart_id}}")
def delete_cart(request: ApiRequest) -> None:
    data, found = _cart(request)
    del data.carts[found.id]
