"""Who placed an order, as Saleor records it: the PLACED event's `user` is the user of the request
that completed the checkout (saleor/checkout/complete_checkout.py `order_created(user=user)` →
saleor/order/events.py `order_created_event`), none for a guest even when the order is given to
the account holding the e-mail typed (`assign_checkout_user`); and `OrderEvent.user` is served
only to that user or to holders of MANAGE_USERS or MANAGE_STAFF, null to others
(saleor/graphql/order/types.py `OrderEvent.resolve_user`)."""

from __future__ import annotations

from typing import Any

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Customer
from sandboxes.saleor.order_models import Order, OrderEventType
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import APP_HOST, FakeApp, gql, stocked_variant

PLACED_BY = "query($id: ID!) { order(id: $id) { user { id } events { type user { id } } } }"


async def _order(sandbox: SaleorSandbox, customer: Customer | None) -> Order:
    sandbox.store.add_channel("default-channel", currency_code="USD")
    mug = stocked_variant(sandbox, "MUG", 5)
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(mug.id, 1)], email="ann@x.test", customer=customer
    )
    return await sandbox.complete_checkout(checkout)


def _placed(body: dict[str, Any]) -> Any:
    [placed] = [e for e in body["data"]["order"]["events"] if e["type"] == "PLACED"]
    return placed["user"]


async def test_a_guest_s_order_given_to_an_account_was_placed_by_nobody(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    ann = sandbox.store.create_customer("ann@x.test")
    order = await _order(sandbox, customer=None)
    assert order.user_id == ann.id  # `assign_checkout_user`
    [placed] = [e for e in order.events if e.type is OrderEventType.PLACED]
    assert placed.user_id is None

    body = await gql(client, PLACED_BY, {"id": order.global_id}, app.auth_token)
    assert body["data"]["order"]["user"] == {"id": ann.global_id}
    assert _placed(body) is None


async def test_a_signed_in_customer_s_order_names_them_to_managers_of_users(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    managing = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    ann = sandbox.store.create_customer("ann@x.test")
    order = await _order(sandbox, customer=ann)
    [placed] = [e for e in order.events if e.type is OrderEventType.PLACED]
    assert placed.user_id == ann.id

    body = await gql(client, PLACED_BY, {"id": order.global_id}, managing.auth_token)
    assert _placed(body) == {"id": ann.global_id}
    # MANAGE_ORDERS reads the events, not who placed it: null, no error.
    orders_only = await sandbox.install_app(
        f"http://{APP_HOST}/api/manifest/orders", permissions=["MANAGE_ORDERS"]
    )
    body = await gql(client, PLACED_BY, {"id": order.global_id}, orders_only.auth_token)
    assert "errors" not in body
    assert _placed(body) is None
