"""checkoutCreate and checkout(token:) in the Saleor sandbox, as Saleor runs them
(saleor/graphql/checkout/mutations/checkout_create.py, saleor/graphql/checkout/resolvers.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.versions import OLDEST_VERSION

from .conftest import APP_HOST, FakeApp, gql
from .test_graphql import install

CREATE = """
mutation($input: CheckoutCreateInput!) {
  checkoutCreate(input: $input) {
    created
    errors { field code message variants lines }
    checkoutErrors { code }
    checkout { id token email lines { quantity variant { id } } channel { slug } }
  }
}
"""
BY_TOKEN = "query($token: UUID!) { checkout(token: $token) { token email user { email } } }"


async def _shop(sandbox: SaleorSandbox) -> tuple[str, str]:
    """Two channels; a variant listed in both and one priced only in `default` (2 in stock)."""
    await sandbox.add_channel("default")
    await sandbox.add_channel("other")
    product = await sandbox.create_product(
        "Pear",
        [
            VariantSpec(sku="P-1"),
            VariantSpec(sku="P-2", prices={"default": Decimal("5")}, quantity=2),
        ],
    )
    return product.variants[0].global_id, product.variants[1].global_id


def _line(variant: str, quantity: int = 1) -> dict[str, Any]:
    return {"variantId": variant, "quantity": quantity}


async def _create(
    client: httpx.AsyncClient, token: str | None = None, **input: Any
) -> dict[str, Any]:
    body = await gql(client, CREATE, {"input": input}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["checkoutCreate"]
    return result


async def test_an_anonymous_shopper_creates_a_checkout_and_saleor_says_so(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    fake_app.manifest["webhooks"] = [
        {
            "name": "checkouts",
            "asyncEvents": ["CHECKOUT_CREATED"],
            "query": "subscription { event { ... on CheckoutCreated { checkout { email } } } }",
            "targetUrl": f"http://{APP_HOST}/api/webhooks/checkouts",
        }
    ]
    await install(sandbox)
    pear, _ = await _shop(sandbox)
    result = await _create(
        client,
        channel="default",
        lines=[_line(pear, 2), _line(pear, 1)],  # one variant twice: one line, added up
        email="ann@example.com",
    )
    assert result["errors"] == [] and result["checkoutErrors"] == []
    assert result["created"] is True
    checkout = result["checkout"]
    assert checkout["email"] == "ann@example.com"
    assert checkout["lines"] == [{"quantity": 3, "variant": {"id": pear}}]
    assert checkout["channel"] == {"slug": "default"}
    stored = sandbox.store.get_checkout(checkout["token"])
    assert stored.user_id is None and stored.shipping_address is None
    [delivery] = [d for d in sandbox.deliveries if d.event_type == "CHECKOUT_CREATED"]
    assert json.loads(delivery.body) == {"checkout": {"email": "ann@example.com"}}


async def test_a_signed_in_customer_owns_the_checkout_an_app_does_not(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await install(sandbox)
    pear, _ = await _shop(sandbox)
    ann = sandbox.store.create_customer("ann@example.com")
    mine = await _create(
        client, sandbox.mint_customer_token(ann), channel="default", lines=[_line(pear)]
    )
    assert mine["checkout"]["email"] == "ann@example.com"  # the customer's, by default
    assert sandbox.store.get_checkout(mine["checkout"]["token"]).user_id == ann.id
    apps = await _create(
        client, app.auth_token, channel="default", lines=[_line(pear)], email="bob@example.com"
    )
    assert sandbox.store.get_checkout(apps["checkout"]["token"]).user_id is None


async def test_anyone_with_the_token_reads_a_customers_checkout_but_not_its_owner(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    await _shop(sandbox)
    ann = sandbox.store.create_customer("ann@example.com")
    checkout = await sandbox.create_checkout("default", email=ann.email, customer=ann)
    body = await gql(client, BY_TOKEN, {"token": str(checkout.token)})
    # Saleor >= 3.20 returns it (saleor/saleor#16010); `user` is the owner's or staff's alone.
    assert body["data"]["checkout"] == {
        "token": str(checkout.token),
        "email": ann.email,
        "user": None,
    }
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    body = await gql(
        client, BY_TOKEN, {"token": str(checkout.token)}, sandbox.mint_customer_token(ann)
    )
    assert body == {
        "data": {
            "checkout": {
                "token": str(checkout.token),
                "email": ann.email,
                "user": {"email": ann.email},
            }
        }
    }


async def test_a_checkout_of_an_inactive_channel_is_for_staff_and_apps_only(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await install(sandbox)  # MANAGE_CHECKOUTS
    await _shop(sandbox)
    checkout = await sandbox.create_checkout("other", email="ann@example.com")
    sandbox.store.channel_by_slug("other").is_active = False
    query = "query($token: UUID!) { checkout(token: $token) { token } }"
    body = await gql(client, query, {"token": str(checkout.token)})
    assert body["data"] == {"checkout": None}
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    body = await gql(client, query, {"token": str(checkout.token)}, app.auth_token)
    assert body == {"data": {"checkout": {"token": str(checkout.token)}}}


@pytest.mark.parametrize(
    ("input", "field", "code"),
    [
        ({"channel": "nowhere"}, "channel", "NOT_FOUND"),
        ({}, "channel", "MISSING_CHANNEL_SLUG"),  # two channels: no default one
        ({"lines": [_line("UHJvZHVjdFZhcmlhbnQ6OTk5")]}, "variantId", "GRAPHQL_ERROR"),
        ({"lines": [_line("not an id")]}, "variantId", "GRAPHQL_ERROR"),
        ({"lines": "P-2 in other"}, "lines", "UNAVAILABLE_VARIANT_IN_CHANNEL"),
        ({"lines": "pear x0"}, "quantity", "ZERO_QUANTITY"),
        ({"lines": "pear x51"}, "quantity", "QUANTITY_GREATER_THAN_LIMIT"),
        ({"lines": "P-2 x3"}, "quantity", "INSUFFICIENT_STOCK"),
        ({"email": "not-an-address"}, "email", "INVALID"),
    ],
)
async def test_refusals_are_checkout_errors_with_saleors_codes(
    sandbox: SaleorSandbox,
    client: httpx.AsyncClient,
    input: dict[str, Any],
    field: str,
    code: str,
) -> None:
    pear, other = await _shop(sandbox)
    lines = {
        "P-2 in other": [_line(other)],
        "pear x0": [_line(pear, 0)],
        "pear x51": [_line(pear, 51)],
        "P-2 x3": [_line(other, 3)],
    }
    data = {"channel": "default", "lines": [_line(pear)], **input}
    if "channel" not in input and input == {}:
        data.pop("channel")
    if isinstance(data["lines"], str):
        if data["lines"] == "P-2 in other":
            data["channel"] = "other"
        data["lines"] = lines[data["lines"]]
    result = await _create(client, **data)
    [error] = result["errors"]
    assert (error["field"], error["code"]) == (field, code), error
    assert result["checkoutErrors"] == [{"code": code}]
    assert result["checkout"] is None
    if code == "UNAVAILABLE_VARIANT_IN_CHANNEL":
        assert error["variants"] == [other]
    assert sandbox.store.checkouts == {}


async def test_a_variants_own_limit_replaces_the_sites_and_every_line_short_of_stock_is_told(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    """`_check_quantity_limits`: `quantity_limit_per_customer or global_quantity_limit`, higher
    or lower than the site's 50; `check_stock_quantity_bulk` reports every line short of stock,
    one error each, naming no variant. `quantityAvailable` is the stock capped by the site's
    limit, the limit alone when stock is not tracked."""
    pear, other = await _shop(sandbox)
    store = sandbox.store
    fig = await sandbox.create_product(
        "Fig", [VariantSpec(sku="FIG", quantity=1)], channels=["default"]
    )
    fig_id = fig.variants[0].global_id
    [pear_variant] = [v for v in store.variants.values() if v.sku == "P-1"]
    await sandbox.update_variant(pear_variant, quantity_limit_per_customer=3)
    result = await _create(client, channel="default", lines=[_line(pear, 4)])
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("quantity", "QUANTITY_GREATER_THAN_LIMIT")
    ]
    assert "Cannot add more than 3 times this item" in result["errors"][0]["message"]
    await sandbox.update_variant(pear_variant, quantity_limit_per_customer=80)
    result = await _create(client, channel="default", lines=[_line(pear, 60)])
    assert result["errors"] == [] and result["checkout"]["lines"][0]["quantity"] == 60
    result = await _create(client, channel="default", lines=[_line(other, 3), _line(fig_id, 2)])
    assert [(e["field"], e["code"], e["variants"]) for e in result["errors"]] == [
        ("quantity", "INSUFFICIENT_STOCK", None),
        ("quantity", "INSUFFICIENT_STOCK", None),
    ]
    query = """query($id: ID!) { productVariant(id: $id, channel: "default") {
      quantityAvailable quantityLimitPerCustomer } }"""
    seen = [(await gql(client, query, {"id": v}))["data"]["productVariant"] for v in (pear, fig_id)]
    assert seen == [
        {"quantityAvailable": 50, "quantityLimitPerCustomer": 80},  # 100 in stock
        {"quantityAvailable": 1, "quantityLimitPerCustomer": None},
    ]
    await sandbox.update_variant(fig.variants[0], track_inventory=False)
    seen = (await gql(client, query, {"id": fig_id}))["data"]["productVariant"]
    assert seen["quantityAvailable"] == 50


async def test_an_inactive_channel_and_an_unlisted_product_are_refused(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    pear, _ = await _shop(sandbox)
    plum = await sandbox.create_product("Plum", [VariantSpec(sku="PL")], channels=["default"])
    result = await _create(client, channel="other", lines=[_line(plum.variants[0].global_id)])
    [error] = result["errors"]
    assert (error["field"], error["code"]) == ("lines", "PRODUCT_UNAVAILABLE_FOR_PURCHASE")
    assert error["variants"] == [plum.variants[0].global_id]
    sandbox.store.channel_by_slug("other").is_active = False
    result = await _create(client, channel="other", lines=[_line(pear)])
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("channel", "CHANNEL_INACTIVE")]


async def test_products_not_for_sale_yet_or_unpublished_are_refused(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    """`clean_checkout_lines`: not available for purchase first, then not published (on
    `is_published` alone: an unpublished product on sale is refused as unpublished); and an
    anonymous shopper does not see an unpublished product (`visible_to_user`)."""
    await _shop(sandbox)
    product = await sandbox.create_product("Fig", [VariantSpec(sku="FIG")], channels=["default"])
    variant = product.variants[0].global_id
    later = datetime.now(UTC) + timedelta(days=1)
    await sandbox.publish(product, "default", available_for_purchase_at=later, is_published=False)
    result = await _create(client, channel="default", lines=[_line(variant)])
    assert [e["code"] for e in result["errors"]] == ["PRODUCT_UNAVAILABLE_FOR_PURCHASE"]
    await sandbox.publish(product, "default", available_for_purchase_at=datetime.now(UTC))
    result = await _create(client, channel="default", lines=[_line(variant)])
    assert [(e["code"], e["variants"]) for e in result["errors"]] == [
        ("PRODUCT_NOT_PUBLISHED", [variant])
    ]
    query = 'query($id: ID!) { product(id: $id, channel: "default") { name } }'
    body = await gql(client, query, {"id": product.global_id})
    assert body["data"]["product"] is None
    await sandbox.publish(product, "default", is_published=True, published_at=later)
    body = await gql(client, query, {"id": product.global_id})
    assert body["data"]["product"] is None  # published from tomorrow
    result = await _create(client, channel="default", lines=[_line(variant)])
    assert result["errors"] == []  # Saleor's check reads `is_published` only
    await sandbox.publish(product, "default", published_at=None)
    body = await gql(client, query, {"id": product.global_id})
    assert body["data"]["product"] == {"name": "Fig"}


async def test_saleor_320_requires_lines(sandbox: SaleorSandbox, client: httpx.AsyncClient) -> None:
    await _shop(sandbox)
    without_lines = await _create(client, channel="default", email="ann@example.com")
    assert without_lines["checkout"]["lines"] == []  # the current Saleor: an empty checkout
    sandbox.version = OLDEST_VERSION
    body = await gql(client, CREATE, {"input": {"channel": "default"}})
    assert body["data"] == {"checkoutCreate": None}
    assert "lines" in body["errors"][0]["message"]
    assert len(sandbox.store.checkouts) == 1


@pytest.mark.parametrize(
    ("permissions", "shown"),
    [
        (["MANAGE_CHECKOUTS"], False),
        (["HANDLE_CHECKOUTS"], False),
        (["MANAGE_USERS"], True),
        (["HANDLE_PAYMENTS"], True),
        (["HANDLE_TAXES"], True),
    ],
)
async def test_a_checkouts_buyer_is_shown_only_with_saleors_permissions(
    sandbox: SaleorSandbox,
    fake_app: FakeApp,
    client: httpx.AsyncClient,
    permissions: list[str],
    shown: bool,
) -> None:
    """`Checkout.user`: its owner, or MANAGE_USERS, HANDLE_PAYMENTS or HANDLE_TAXES
    (saleor/graphql/checkout/types.py `resolve_user`); MANAGE_CHECKOUTS reads the checkout
    but not who it belongs to."""
    await sandbox.add_channel("default")
    buyer = await sandbox.create_customer("buyer@example.com")
    checkout = await sandbox.create_checkout("default", customer=buyer)
    app = await install(sandbox, permissions)
    body = await gql(client, BY_TOKEN, {"token": str(checkout.token)}, token=app.auth_token)
    if shown:
        assert "errors" not in body, body
        assert body["data"]["checkout"]["user"] == {"email": "buyer@example.com"}
    else:
        assert body["data"]["checkout"]["user"] is None
        assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
