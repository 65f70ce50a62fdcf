"""`orders(filter: {status})`, as Saleor answers it (saleor/graphql/order/filters.py
`filter_status`, tags 3.20.119 and 723cd4e): the orders of any status listed, every order for an
empty list; returned statuses cannot be asked for (`OrderStatusFilter`)."""

from __future__ import annotations

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus

from .conftest import APP_HOST, FakeApp, gql
from .test_ids_filters import ids

BY_STATUS = """
  query($status: [OrderStatusFilter!], $since: Date) {
    orders(filter: {status: $status, created: {gte: $since}}, first: 100) {
      edges { node { id } }
    }
  }
"""


async def test_orders_filtered_by_status(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    token = app.auth_token
    sandbox.store.add_channel("default-channel", currency_code="USD")
    made = {
        status: sandbox.store.create_order("default-channel", status=status)
        for status in (
            OrderStatus.UNFULFILLED,
            OrderStatus.PARTIALLY_FULFILLED,
            OrderStatus.FULFILLED,
            OrderStatus.PARTIALLY_RETURNED,
        )
    }
    shipped = {"status": ["FULFILLED", "PARTIALLY_FULFILLED"]}
    listed = ids(await gql(client, BY_STATUS, shipped, token), "orders")
    assert sorted(listed) == sorted(
        made[s].global_id for s in (OrderStatus.PARTIALLY_FULFILLED, OrderStatus.FULFILLED)
    )
    every = ids(await gql(client, BY_STATUS, {"status": []}, token), "orders")
    assert sorted(every) == sorted(o.global_id for o in made.values())
    body = await gql(client, BY_STATUS, {"status": ["PARTIALLY_RETURNED"]}, token)
    assert "errors" in body  # not an OrderStatusFilter
