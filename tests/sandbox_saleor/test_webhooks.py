"""Webhook deliveries: payloads from subscription documents, headers, signatures, lifecycle."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import jwt
from jwt import PyJWK

from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import API_URL, APP_HOST, FakeApp


async def install(sandbox: SaleorSandbox, permissions: list[str] | None = None) -> SandboxApp:
    return await sandbox.install_app(f"http://{APP_HOST}/api/manifest", permissions)


def assert_signed(sandbox: SaleorSandbox, headers: dict[str, str], body: bytes) -> None:
    signature = headers["saleor-signature"]
    kid = jwt.get_unverified_header(signature)["kid"]
    key = next(k for k in sandbox.jwks()["keys"] if k["kid"] == kid)
    jwt.api_jws.decode_complete(
        signature, PyJWK(key).key, algorithms=["RS256"], detached_payload=body
    )


async def test_order_created_payload_follows_the_subscription(
    sandbox: SaleorSandbox, fake_app: FakeApp
):
    app = await install(sandbox)
    product = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("12.50"))])
    customer = sandbox.store.create_customer("ann@example.com", "Ann")
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], customer=customer
    )
    order = await sandbox.complete_checkout(checkout)

    [delivery] = [d for d in sandbox.deliveries if d.event_type == "ORDER_CREATED"]
    assert delivery.ok and delivery.app_id == app.id
    assert delivery.target_url == f"http://{APP_HOST}/api/webhooks/order-created"
    headers, body = fake_app.webhooks[-1]
    assert body == delivery.body
    assert headers["saleor-event"] == "order_created"
    assert headers["saleor-domain"] == "saleor.test"
    assert headers["saleor-api-url"] == API_URL
    assert headers["content-type"] == "application/json"
    assert_signed(sandbox, headers, body)

    payload = json.loads(body)
    assert set(payload) == {"issuedAt", "version", "recipient", "order"}
    assert payload["recipient"] == {"id": app.global_id}
    data = payload["order"]
    assert data["id"] == order.global_id and data["number"] == str(order.number)
    assert data["userEmail"] == "ann@example.com" and data["isPaid"] is True
    assert data["total"]["gross"] == {"amount": 25.0, "currency": "USD"}
    assert data["lines"] == [
        {
            "id": order.lines[0].global_id,
            "productName": "Mug",
            "variantName": "",
            "productSku": "MUG",
            "quantity": 2,
            "unitPrice": {"gross": {"amount": 12.5, "currency": "USD"}},
            "variant": {"id": product.variants[0].global_id, "product": {"id": product.global_id}},
        }
    ]


async def test_emit_only_reaches_subscribed_permitted_apps(
    sandbox: SaleorSandbox, fake_app: FakeApp
):
    await install(sandbox, permissions=["MANAGE_USERS"])  # no MANAGE_ORDERS
    sandbox.store.create_product("Mug", [VariantSpec(sku="MUG")])
    order = sandbox.store.create_order(
        lines=[sandbox.order_line(next(iter(sandbox.store.variants)))], email="a@example.com"
    )
    assert await sandbox.emit("ORDER_CREATED", order) == []
    assert await sandbox.emit("CUSTOMER_CREATED", sandbox.store.create_customer("b@x.com")) == []


async def test_redeliver_sends_the_identical_request(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await install(sandbox)
    fake_app.webhook_status = 500
    [failed] = await sandbox.set_app_active(app, False)
    assert failed.status_code == 500 and not failed.ok
    fake_app.webhook_status = 200
    retried = await sandbox.redeliver(failed)
    assert retried.ok
    (h1, b1), (h2, b2) = fake_app.webhooks[-2:]
    assert b1 == b2 and h1["saleor-signature"] == h2["saleor-signature"]


async def test_status_change_and_uninstall_reach_the_app(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await install(sandbox)
    [deactivated] = await sandbox.set_app_active(app, False)
    assert deactivated.headers["Saleor-Event"] == "app_status_changed"
    assert json.loads(deactivated.body)["app"] == {"id": app.global_id, "isActive": False}
    [activated] = await sandbox.set_app_active(app, True)
    assert json.loads(activated.body)["app"]["isActive"] is True

    [deleted] = await sandbox.uninstall_app(app)
    assert deleted.headers["Saleor-Event"] == "app_deleted"
    assert json.loads(deleted.body)["app"] == {"id": app.global_id}
    assert app.id not in sandbox.store.apps
    assert await sandbox.emit("APP_DELETED", app) == []


async def test_inactive_app_gets_no_store_events(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await install(sandbox)
    await sandbox.set_app_active(app, False)
    sandbox.store.create_product("Mug", [VariantSpec(sku="MUG")])
    order = await sandbox.create_order(
        lines=[sandbox.order_line(next(iter(sandbox.store.variants)))]
    )
    assert not [d for d in sandbox.deliveries if d.event_type == "ORDER_CREATED"]
    assert order.number == 1


async def test_metadata_mutation_emits_metadata_event(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    fake_app.manifest["webhooks"] = [
        {
            "name": "meta",
            "asyncEvents": ["CUSTOMER_METADATA_UPDATED"],
            "query": (
                "subscription { event { ... on CustomerMetadataUpdated "
                "{ issuingPrincipal { __typename ... on App { id } } "
                "user { email metadata { key value } } } } }"
            ),
            "targetUrl": f"http://{APP_HOST}/api/webhooks/meta",
        }
    ]
    app = await install(sandbox)
    customer = sandbox.store.create_customer("ann@example.com")
    response = await client.post(
        API_URL,
        json={
            "query": (
                "mutation($id: ID!) { updateMetadata(id: $id, "
                'input: [{key: "k", value: "v"}]) { errors { code } } }'
            ),
            "variables": {"id": customer.global_id},
        },
        headers={"Authorization": f"Bearer {app.auth_token}"},
    )
    assert response.json() == {"data": {"updateMetadata": {"errors": []}}}
    [delivery] = [d for d in sandbox.deliveries if d.event_type == "CUSTOMER_METADATA_UPDATED"]
    # The app whose token made the request (Event.issuingPrincipal: the requestor).
    assert json.loads(delivery.body) == {
        "issuingPrincipal": {"__typename": "App", "id": app.global_id},
        "user": {"email": "ann@example.com", "metadata": [{"key": "k", "value": "v"}]},
    }
    # A change made without a request (the store's own, here) names nobody.
    sandbox.store.create_customer("bob@example.com")
    before = len(sandbox.deliveries)
    await sandbox.update_customer_metadata(
        sandbox.store.find_customer_by_email("bob@example.com"), {"k": "w"}
    )
    [other] = sandbox.deliveries[before:]
    assert json.loads(other.body)["issuingPrincipal"] is None


async def test_a_metadata_change_also_sends_the_update_event_and_no_change_sends_none(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    """saleor/graphql/meta/mutations/base.py (`has_changed`) and meta/extra_methods.py
    (`extra_user_actions`: `customer_updated` while `use_legacy_update_webhook_emission`)."""
    fake_app.manifest["webhooks"] = [
        {
            "name": "customer",
            "asyncEvents": ["CUSTOMER_UPDATED", "CUSTOMER_METADATA_UPDATED"],
            "query": (
                "subscription { event { ... on CustomerUpdated { user { email } } "
                "... on CustomerMetadataUpdated { user { email } } } }"
            ),
            "targetUrl": f"http://{APP_HOST}/api/webhooks/customer",
        }
    ]
    app = await install(sandbox)
    customer = sandbox.store.create_customer("ann@example.com")

    async def write(value: str) -> list[str]:
        before = len(sandbox.deliveries)
        response = await client.post(
            API_URL,
            json={
                "query": (
                    "mutation($id: ID!, $value: String!) { updatePrivateMetadata(id: $id, "
                    'input: [{key: "k", value: $value}]) { errors { code } } }'
                ),
                "variables": {"id": customer.global_id, "value": value},
            },
            headers={"Authorization": f"Bearer {app.auth_token}"},
        )
        assert response.json() == {"data": {"updatePrivateMetadata": {"errors": []}}}
        return sorted(d.event_type for d in sandbox.deliveries[before:])

    assert await write("v") == ["CUSTOMER_METADATA_UPDATED", "CUSTOMER_UPDATED"]
    assert await write("v") == []  # nothing changed: no event
    sandbox.store.legacy_update_webhook_emission = False  # an admin turned it off (3.22+)
    assert await write("w") == ["CUSTOMER_METADATA_UPDATED"]


async def test_store_events_for_customers_products_checkouts(
    sandbox: SaleorSandbox, fake_app: FakeApp
):
    fake_app.manifest["webhooks"] = [
        {
            "name": "all",
            "asyncEvents": [
                "CUSTOMER_CREATED", "CUSTOMER_UPDATED", "PRODUCT_CREATED", "PRODUCT_UPDATED",
                "CHECKOUT_CREATED", "CHECKOUT_UPDATED", "ORDER_UPDATED", "ORDER_FULLY_PAID",
            ],
            "query": """subscription { event {
                ... on CustomerCreated { user { email } }
                ... on CustomerUpdated { user { email firstName } }
                ... on ProductCreated { product { name } }
                ... on ProductUpdated { product { name } }
                ... on CheckoutCreated { checkout { email } }
                ... on CheckoutUpdated { checkout { quantity } }
                ... on OrderUpdated { order { status } }
                ... on OrderFullyPaid { order { isPaid } }
            } }""",
            "targetUrl": f"http://{APP_HOST}/api/webhooks/all",
        }
    ]  # fmt: skip
    await install(sandbox)
    customer = await sandbox.create_customer("ann@example.com")
    await sandbox.update_customer(customer, first_name="Ann")
    product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG")])
    await sandbox.update_product(product, name="Big Mug")
    checkout = await sandbox.create_checkout(email="ann@example.com")
    await sandbox.update_checkout(checkout, add_lines=[LineSpec(product.variants[0].id, 3)])
    order = await sandbox.complete_checkout(checkout)
    await sandbox.cancel_order(order)
    await sandbox.add_order_note(order, "hi")
    bodies = [(d.event_type, json.loads(d.body)) for d in sandbox.deliveries]
    assert bodies == [
        ("CUSTOMER_CREATED", {"user": {"email": "ann@example.com"}}),
        ("CUSTOMER_UPDATED", {"user": {"email": "ann@example.com", "firstName": "Ann"}}),
        ("PRODUCT_CREATED", {"product": {"name": "Mug"}}),
        ("PRODUCT_UPDATED", {"product": {"name": "Big Mug"}}),
        ("CHECKOUT_CREATED", {"checkout": {"email": "ann@example.com"}}),
        ("CHECKOUT_UPDATED", {"checkout": {"quantity": 3}}),
        ("ORDER_FULLY_PAID", {"order": {"isPaid": True}}),
        ("ORDER_UPDATED", {"order": {"status": "UNFULFILLED"}}),  # with ORDER_FULLY_PAID
        ("ORDER_UPDATED", {"order": {"status": "CANCELED"}}),  # orderCancel fires it too
        ("ORDER_UPDATED", {"order": {"status": "CANCELED"}}),
    ]
