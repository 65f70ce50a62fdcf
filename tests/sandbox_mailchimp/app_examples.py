"""Example request models of the app (`addon/mailchimp/`), each with every field its model
declares set, and the sandbox account they refer to (:func:`build_world`); the strictness test
(`test_strictness.py`) sends them through the app's client (`app_requests.py`)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx

from addon.mailchimp.ecommerce_models import (
    Address,
    CartInput,
    CartLineInput,
    CartLinePatch,
    CartPatch,
    CustomerInput,
    CustomerPatch,
    CustomerRef,
    OrderAddress,
    OrderInput,
    OrderLineInput,
    OrderPatch,
    ProductImageInput,
    ProductInput,
    ProductPatch,
    ProductVariantInput,
    ProductVariantPatch,
    Promo,
    StoreAddress,
    StoreInput,
    StorePatch,
)
from addon.mailchimp.models import (
    MarketingPermissionInput,
    MemberPatch,
    MemberUpsert,
    WebhookEvents,
    WebhookInput,
    WebhookSources,
)
from addon.mailchimp.promos import PromoCodeInput, PromoCodePatch, PromoRuleInput, PromoRulePatch
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount, subscriber_hash

from .helpers import create_list, create_store, order_body, product_body

STORE = "store-1"
MEMBER = "ann@example.org"
CUSTOMER_EMAIL = "buyer@acme.test"  # the customer c1 of `order_body`
WHEN = "2024-01-02T10:00:00+00:00"


@dataclass(frozen=True)
class World:
    """The ids of what the examples refer to, made by :func:`build_world`."""

    list_id: str
    category_id: str
    interest_id: str
    permission_id: str
    campaign_id: str
    webhook_id: str


async def build_world(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> World:
    """An audience (with GDPR permissions, a group, the member ann, a webhook), a store of it
    with a product p1 (variant v1), a customer c1, an order o1, a cart cart1, a promo rule r1
    with a code d1, and a campaign sent to the audience."""
    sandbox.verify_webhook_urls = False  # no webhook receiver on this network
    list_id = await create_list(client, marketing_permissions=True)
    categories = f"/lists/{list_id}/interest-categories"
    category = await _ok(client.post(categories, json={"title": "Topics", "type": "checkboxes"}))
    interests = f"{categories}/{category['id']}/interests"
    interest = await _ok(client.post(interests, json={"name": "News"}))
    member = f"/lists/{list_id}/members/{subscriber_hash(MEMBER)}"
    added = await _ok(
        client.put(member, json={"email_address": MEMBER, "status_if_new": "subscribed"})
    )
    await create_store(client, list_id, STORE)
    store = f"/ecommerce/stores/{STORE}"
    await _ok(client.post(f"{store}/products", json=product_body("p1", ("v1",))))
    await _ok(client.post(f"{store}/orders", json=order_body("o1")))
    cart = {**order_body("cart1"), "customer": {"id": "c1"}}
    await _ok(client.post(f"{store}/carts", json={k: cart[k] for k in _CART_KEYS}))
    rule = {"id": "r1", "description": "10% off", "amount": 0.1, "type": "percentage"}
    await _ok(client.post(f"{store}/promo-rules", json={**rule, "target": "total"}))
    code = {"id": "d1", "code": "SUMMER10", "redemption_url": "https://shop.acme.test/"}
    await _ok(client.post(f"{store}/promo-rules/r1/promo-codes", json=code))
    hook = {"url": "https://hooks.acme.test/earlier", "events": {"campaign": True}}
    webhook = await _ok(client.post(f"/lists/{list_id}/webhooks", json=hook))
    return World(
        list_id=list_id,
        category_id=category["id"],
        interest_id=interest["id"],
        permission_id=added["marketing_permissions"][0]["marketing_permission_id"],
        campaign_id=sandbox.add_campaign(account, list_id),
        webhook_id=webhook["id"],
    )


_CART_KEYS = ("id", "customer", "currency_code", "order_total", "tax_total", "lines")


async def _ok(pending: Awaitable[httpx.Response]) -> dict[str, Any]:
    response = await pending
    assert response.is_success, response.text
    doc: dict[str, Any] = response.json()
    return doc


# --- the examples: every field of the app's request models set ------------------------------


def address() -> Address:
    return Address(
        address1="1 Main St",
        address2="Unit 2",
        city="Springfield",
        province="Illinois",
        province_code="IL",
        postal_code="62701",
        country="United States",
        country_code="US",
    )


def _at(**extra: Any) -> dict[str, Any]:
    return {**address().model_dump(), "longitude": -89.6, "latitude": 39.8, **extra}


def member_fields(world: World) -> dict[str, Any]:
    """What `MemberUpsert` and `MemberPatch` share, for the member ann."""
    permission = MarketingPermissionInput(marketing_permission_id=world.permission_id, enabled=True)
    return {
        "email_address": MEMBER,
        "status": "subscribed",
        "email_type": "html",
        "merge_fields": {"FNAME": "Ann"},
        "interests": {world.interest_id: True},
        "language": "en",
        "vip": False,
        "marketing_permissions": [permission],
        "ip_signup": "192.0.2.1",
        "timestamp_signup": WHEN,
        "ip_opt": "192.0.2.1",
        "timestamp_opt": WHEN,
    }


def member_upsert(world: World) -> MemberUpsert:
    return MemberUpsert(**member_fields(world), status_if_new="subscribed")


def member_patch(world: World) -> MemberPatch:
    return MemberPatch(**member_fields(world))


def webhook() -> WebhookInput:
    on = {"subscribe": True, "unsubscribe": True, "profile": True, "cleaned": True}
    return WebhookInput(
        url="https://hooks.acme.test/mailchimp",
        events=WebhookEvents(**on, upemail=True, campaign=False),
        sources=WebhookSources(user=True, admin=True, api=False),
    )


def store_patch() -> StorePatch:
    return StorePatch(
        name="Acme Store",
        platform="Saleor",
        domain="shop.acme.test",
        is_syncing=False,
        email_address="shop@acme.test",
        currency_code="USD",
        money_format="$",
        primary_locale="en",
        timezone="Europe/Paris",
        phone="555",
        address=StoreAddress(**_at()),
    )


def store_input(world: World) -> StoreInput:
    # A domain of its own: Mailchimp holds each once per account (store-1 has shop.acme.test).
    fields = {**store_patch().model_dump(), "domain": "shop.acme.test/store-2"}
    return StoreInput(**{**fields, "id": "store-2", "list_id": world.list_id})


def customer_patch() -> CustomerPatch:
    return CustomerPatch(
        opt_in_status=False, company="Acme", first_name="Bea", last_name="Buyer", address=address()
    )


def customer_input(customer_id: str, email: str) -> CustomerInput:
    return CustomerInput(**customer_patch().model_dump(), id=customer_id, email_address=email)


def customer_ref() -> CustomerRef:
    return CustomerRef(**customer_patch().model_dump(), id="c1", email_address=CUSTOMER_EMAIL)


def variant_patch() -> ProductVariantPatch:
    return ProductVariantPatch(
        title="Variant v1",
        url="https://shop.acme.test/v/v1",
        sku="SKU-v1",
        price=9.5,
        inventory_quantity=3,
        image_url="https://shop.acme.test/v.png",
        backorders="false",
        visibility="visible",
    )


def variant_input(variant_id: str) -> ProductVariantInput:
    return ProductVariantInput(**variant_patch().model_dump(), id=variant_id)


def product_patch() -> ProductPatch:
    return ProductPatch(
        title="Product p1",
        handle="p1",
        url="https://shop.acme.test/products/p1",
        description="A product",
        type="Thing",
        vendor="Acme",
        image_url="https://shop.acme.test/p.png",
        images=[ProductImageInput(id="i1", url="https://shop.acme.test/i.png", variant_ids=["v1"])],
        published_at_foreign=WHEN,
    )


def product_input() -> ProductInput:
    fields = product_patch().model_dump()
    return ProductInput(**fields, id="p2", variants=[variant_input("v1")])


def _sale(world: World) -> dict[str, Any]:
    """What every order and cart example sets (its customer and lines aside)."""
    return {
        "campaign_id": world.campaign_id,
        "currency_code": "USD",
        "order_total": 19.0,
        "tax_total": 1.0,
    }


def order_patch(world: World) -> OrderPatch:
    # Named by id: the order's line l1 (`order_body`) updated (`OrderPatch.lines`).
    line = OrderLineInput(
        id="l1", product_id="p1", product_variant_id="v1", quantity=1, price=9.5, discount=0.5
    )
    return OrderPatch(
        **_sale(world),
        customer=customer_patch(),
        landing_site="https://shop.acme.test/",
        financial_status="paid",
        fulfillment_status="shipped",
        order_url="https://shop.acme.test/orders/1",
        discount_total=1.0,
        shipping_total=2.0,
        processed_at_foreign=WHEN,
        cancelled_at_foreign=WHEN,
        updated_at_foreign=WHEN,
        shipping_address=OrderAddress(**_at(name="Bea Buyer", phone="555", company="Acme")),
        billing_address=OrderAddress(**_at(name="Bea Buyer", phone="555", company="Acme")),
        promos=[Promo(code="SUMMER10", amount_discounted=1.0, type="fixed")],
        lines=[line],
        tracking_number="1Z",
        tracking_carrier="UPS",
        tracking_url="https://ups.test/1Z",
    )


def order_input(world: World) -> OrderInput:
    fields = order_patch(world).model_dump(exclude={"customer", "lines"})
    line = OrderLineInput(
        id="l1", product_id="p1", product_variant_id="v1", quantity=2, price=9.5, discount=0.5
    )
    return OrderInput(**fields, id="o2", customer=customer_ref(), lines=[line])


def cart_patch(world: World) -> CartPatch:
    line = CartLinePatch(product_id="p1", product_variant_id="v1", quantity=1, price=9.5)
    return CartPatch(
        **_sale(world),
        customer=customer_patch(),
        checkout_url="https://shop.acme.test/checkout",
        lines=[line],
    )


def cart_input(world: World) -> CartInput:
    fields = cart_patch(world).model_dump(exclude={"customer", "lines"})
    line = CartLineInput(id="l1", product_id="p1", product_variant_id="v1", quantity=2, price=9.5)
    return CartInput(**fields, id="cart2", customer=customer_ref(), lines=[line])


def rule_patch() -> PromoRulePatch:
    return PromoRulePatch(
        title="Summer",
        description="10% off everything",
        starts_at="2024-06-01T00:00:00+00:00",
        ends_at="2024-09-01T00:00:00+00:00",
        amount=0.1,
        type="percentage",
        target="total",
        enabled=True,
        created_at_foreign=WHEN,
        updated_at_foreign=WHEN,
    )


def rule_input() -> PromoRuleInput:
    return PromoRuleInput(**rule_patch().model_dump(), id="r2")


def code_patch() -> PromoCodePatch:
    return PromoCodePatch(
        code="WINTER5",
        redemption_url="https://shop.acme.test/",
        usage_count=2,
        enabled=True,
        created_at_foreign=WHEN,
        updated_at_foreign=WHEN,
    )


def code_input() -> PromoCodeInput:
    return PromoCodeInput(**code_patch().model_dump(), id="d2")
