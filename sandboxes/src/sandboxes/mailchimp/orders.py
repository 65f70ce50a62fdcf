"""E-commerce orders, and what carts share with them: lines, customer and campaign checks (an
order's lines one at a time: `order_lines.py`; carts: `carts.py`).

Order and cart lines must reference an existing product *and* variant, each line id once in a
body; an order's ``campaign_id`` must be a known campaign. A PATCH cannot move an order or a
cart to another customer.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .bodies import BodyIn, DateTimeIn, OrderAddressIn, given, refuse_null
from .currencies import check_currency
from .customers import CustomerRef, customer_fields, render_customer, save_customer
from .ecommerce import STORE, already_exists, store_data
from .errors import bad_request, field_invalid, invalid_resource, not_found
from .models import Cart, Customer, Line, Order, Product, Variant
from .order_checks import PromoIn, check_campaign, check_order_url, check_promos
from .routing import ApiRequest, Router, paginate
from .state import StoreData

router = Router()


class LineIn(BodyIn):
    id: str
    product_id: str
    product_variant_id: str
    quantity: int
    price: float
    discount: float = 0.0


class LinePatchIn(BodyIn):
    """A line of an order's or a cart's PATCH (`E_commerce_Order_2.lines`): nothing required."""

    id: str = ""
    product_id: str = ""
    product_variant_id: str = ""
    quantity: int = 0
    price: float = 0.0
    discount: float = 0.0


class LinesPatchIn(BodyIn):
    lines: list[LinePatchIn] = Field(default_factory=list)


class OutreachIn(BodyIn):
    """`E_commerce_Order_1.outreach`: the campaign or outreach the order is credited to."""

    id: str = ""


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
    # The spec's enum (`E_commerce_Order_1.tracking_code`): "prec" only, and no "".
    tracking_code: Literal["prec"] | None = None
    processed_at_foreign: DateTimeIn = ""
    cancelled_at_foreign: DateTimeIn = ""
    updated_at_foreign: DateTimeIn = ""
    shipping_address: OrderAddressIn = Field(default_factory=OrderAddressIn)
    billing_address: OrderAddressIn = Field(default_factory=OrderAddressIn)
    promos: list[PromoIn] = Field(default_factory=list)
    lines: list[LineIn]
    outreach: OutreachIn | None = None  # not kept
    tracking_number: str = ""
    tracking_carrier: str = ""
    tracking_url: str = ""
    _null = refuse_null("tracking_code", "outreach")


_CUSTOMER = {"customer"}  # never changed
UNSET = frozenset(Order.omit_when_unset)


def _variant_of(product: Product, variant_id: str) -> Variant | None:
    # A loop rather than next() over a generator: no object made per line of every order.
    for variant in product.variants:
        if variant.id == variant_id:
            return variant
    return None


def _lines(data: StoreData, lines: list[LineIn]) -> list[Line]:
    """The lines of an order or a cart, each of a product and variant the store holds. Mailchimp
    refuses the first that is not with 400 "Bad Request" and one detail, no field error
    (ibericode/mailchimp-for-wordpress#754 and #571 quote both bodies). A line id is "A unique
    identifier for the order line item" (the spec's `E_commerce_Order_1.lines.id`): one body
    naming it twice is refused as `POST …/lines` refuses an id the order holds (the same
    answer: Mailchimp's for a repeated line is not published), rather than keeping both."""
    out: list[Line] = []
    seen: set[str] = set()
    for line in lines:
        if line.id in seen:
            raise already_exists("order line")
        seen.add(line.id)
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
    fields = customer_fields(ref)
    if ref.id not in data.customers:
        if not ref.email_address:
            # Mailchimp's words (nopSolutions/mailchimp-plugin-for-nopcommerce#14).
            raise field_invalid(
                "customer.email_address", "An email address is required to create a customer."
            )
        fields.setdefault("opt_in_status", False)
    return save_customer(request, data, fields)


def held_customer(data: StoreData, sale: Order | Cart) -> Customer:
    """The customer an order or a cart is of, as the store holds it now."""
    return data.customers.get(sale.customer.id, sale.customer)


def render_order(data: StoreData, order: Order) -> dict[str, Any]:
    # The order's own copy of its customer is not dumped only to be replaced (the keys keep
    # their order: `id`, then `customer`).
    doc = order.model_dump(mode="json", exclude=_CUSTOMER)
    customer = held_customer(data, order)
    return {"id": doc["id"], "customer": render_customer(data, customer), **doc, "_links": []}


def _order(request: ApiRequest) -> tuple[StoreData, Order]:
    data = store_data(request)
    found = data.orders.get(request.params["order_id"])
    if found is None:
        raise not_found()
    return data, found


# Which order notification an order's change sends, once a merchant turned them on. Mailchimp's
# rules, as its staff announced them to the integrations (mailchimp/mc-woocommerce#79, repeated
# in mailchimp/mc-magento#120): Order Confirmation when `financial_status` is set to pending or
# authorized, Invoice to paid or partially_paid, Refund to refunded or partially_refunded,
# Cancellation to voided, cancelled or canceled; Shipping Confirmation when
# `fulfillment_status` is set to partial, fulfilled, shipped or partially_shipped (the help
# page "Test or Troubleshoot Order Notifications" names the same triggers). A status sent at
# the order's creation sends its e-mail as one set later does (Mailchimp for WooCommerce
# creates a new paid order `pending`, then PATCHes it `paid`, for both e-mails:
# class-mailchimp-woocommerce-single-order.php). The sandbox sends one whenever a field takes
# a new value of a group (the strictest reading: nothing says a second value of the same group
# is quiet), none for a value unchanged; and, as `cancelled_at_foreign` "will cancel the order
# being created" (the spec's `E_commerce_Order_1`), an order created with one as cancelled.
# None while the store `is_syncing` ("Whether to disable automations because the store is
# currently syncing", the spec's E-commerce Store): history sends nothing.
_ON_FINANCIAL = {
    "pending": "order_confirmation",
    "authorized": "order_confirmation",
    "paid": "order_invoice",
    "partially_paid": "order_invoice",
    "refunded": "refund_confirmation",
    "partially_refunded": "refund_confirmation",
    "voided": "cancellation_confirmation",
    "cancelled": "cancellation_confirmation",
    "canceled": "cancellation_confirmation",
}
_SHIPPED = frozenset({"partial", "fulfilled", "shipped", "partially_shipped"})


def notify(data: StoreData, before: Order | None, after: Order) -> None:
    if data.info.is_syncing:
        return
    sent = data.notifications
    was = before.financial_status if before is not None else ""
    financial = after.financial_status
    if before is None and not financial and after.cancelled_at_foreign:
        financial = "cancelled"
    if financial in _ON_FINANCIAL and financial != was:
        sent.append((after.id, _ON_FINANCIAL[financial]))
    shipped = before.fulfillment_status if before is not None else ""
    if after.fulfillment_status in _SHIPPED and after.fulfillment_status != shipped:
        sent.append((after.id, "shipping_confirmation"))


@router.route("POST", f"{STORE}/orders")
def post_order(request: ApiRequest) -> dict[str, Any]:
    data = store_data(request)
    payload = request.parse(OrderIn)
    check_currency(payload.currency_code)
    check_order_url(request)
    if not payload.lines:
        # Mailchimp answers an order without lines 404 "Resource Not Found" (a line missing a
        # field is a 400): mailchimp/mailchimp-client-lib-codegen#127, with both bodies.
        raise not_found()
    if payload.id in data.orders:
        raise already_exists("order")
    check_campaign(request, data, payload.campaign_id)
    check_promos(data, payload.promos)
    lines = _lines(data, payload.lines)
    customer = _order_customer(request, data, payload.customer)
    order = Order(
        **_order_fields(payload),
        customer=customer,
        store_id=data.info.id,
        lines=lines,
    )
    data.save_order(order)
    notify(data, None, order)
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
    """The lines an order's or a cart's PATCH names by id merged into those it holds: a line of
    the order updated, one it lacks added (whole, as `LineIn` requires), the others kept. What
    both official integrations rely on: they PATCH an order with all its lines, then delete
    those gone one by one (mc-woocommerce `updateStoreOrder` / `deleteStoreOrderLine`;
    mc-magento2 `Model/Api/Order.php`); the spec's `E_commerce_Order_2.lines` has no `id`."""
    by_id = {line.id: line.model_dump() for line in existing}
    for raw in body:
        if isinstance(raw, dict) and "id" in raw:
            by_id[raw["id"]] = {**by_id.get(raw["id"], {}), **raw}
    return list(by_id.values())


# The spec's PATCH bodies name the customer without `id` or `email_address`
# (`E_commerce_Order_2.customer`, `E_commerce_Cart_2.customer`: `E_commerce_Customer_2`): a
# PATCH cannot move an order or a cart to another customer. One naming another is refused; its
# own (as a POST names it) is taken. The wording is the sandbox's: Mailchimp's is not published.
ANOTHER_CUSTOMER = "An order or cart's customer cannot be changed once it is created."


def _patched(
    request: ApiRequest, stored: dict[str, Any], held: Customer, lines: list[Line]
) -> dict[str, Any]:
    """An order's or a cart's PATCH applied to its stored fields, to be validated whole. The
    body's lines are checked as the spec types them (`E_commerce_Order_2.lines`) whether or not
    they name a line: only those that do are merged (by id). `held`: its customer."""
    body = request.json_object()
    merged = {**stored, **body, "id": stored["id"]}
    customer = body.get("customer", {})
    if isinstance(customer, dict) and (
        customer.get("id", held.id) != held.id
        or customer.get("email_address", held.email_address) != held.email_address
    ):
        raise invalid_resource(ANOTHER_CUSTOMER)
    merged["customer"] = {"id": held.id, **customer} if isinstance(customer, dict) else customer
    if isinstance(body.get("lines"), list):
        request.parse(LinesPatchIn, {"lines": body["lines"]})
        merged["lines"] = _merge_lines(lines, body["lines"])
    return merged


def _order_fields(payload: OrderIn) -> dict[str, Any]:
    """What an order keeps of its body (the customer and lines are made apart): the parts of
    its addresses it gives, its tracking code if any."""
    fields = payload.model_dump(exclude=_NOT_KEPT)
    fields["shipping_address"] = given(payload.shipping_address)
    fields["billing_address"] = given(payload.billing_address)
    if payload.tracking_code is not None:
        fields["tracking_code"] = payload.tracking_code
    return fields


_NOT_KEPT = {
    "customer",
    "lines",
    "outreach",
    "tracking_code",
    "shipping_address",
    "billing_address",
}


@router.route("PATCH", f"{STORE}/orders/{{order_id}}")
def patch_order(request: ApiRequest) -> dict[str, Any]:
    data, found = _order(request)
    # Unset dates and tracking code are stored as "" (which the body may not send).
    stored = {k: v for k, v in found.model_dump().items() if v != "" or k not in UNSET}
    merged = _patched(request, stored, held_customer(data, found), found.lines)
    payload = request.parse(OrderIn, merged)
    check_currency(payload.currency_code)
    check_order_url(request)
    check_campaign(request, data, payload.campaign_id)
    check_promos(data, payload.promos)
    lines = _lines(data, payload.lines)
    customer = _order_customer(request, data, payload.customer)
    order = Order(
        **_order_fields(payload),
        customer=customer,
        store_id=data.info.id,
        lines=lines,
    )
    data.save_order(order)
    notify(data, found, order)
    return render_order(data, order)


@router.route("DELETE", f"{STORE}/orders/{{order_id}}")
def delete_order(request: ApiRequest) -> None:
    data, found = _order(request)
    data.delete_order(found.id)
