"""`orders` lists no drafts, by id or not, as Saleor answers it (`resolve_orders`:
`Order.objects.non_draft()`); `order(id:)` still finds a draft."""

from __future__ import annotations

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus

from .conftest import APP_HOST, FakeApp, gql
from .test_ids_filters import ORDERS, ids

ALL_ORDERS = "query { orders(first: 100) { edges { node { id } } } }"
ONE_ORDER = "query($id: ID!) { order(id: $id) { id status } }"


async def test_orders_leave_drafts_out(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    token = app.auth_token
    sandbox.store.add_channel("default-channel", currency_code="USD")
    placed = sandbox.store.create_order("default-channel")
    draft = sandbox.store.create_order("default-channel", status=OrderStatus.DRAFT)

    wanted = [placed.global_id, draft.global_id]
    assert ids(await gql(client, ORDERS, {"ids": wanted}, token), "orders") == [placed.global_id]
    assert ids(await gql(client, ALL_ORDERS, {}, token), "orders") == [placed.global_id]
    body = await gql(client, ONE_ORDER, {"id": draft.global_id}, token)
    assert body["data"]["order"] == {"id": draft.global_id, "status": "DRAFT"}
