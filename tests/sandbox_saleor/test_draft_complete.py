"""`draftOrderComplete` as Saleor does it (saleor/graphql/order/mutations/
draft_order_complete.py): the draft's `created` kept, a PLACED_FROM_DRAFT event dated when it
was completed, the events of `order_created(from_draft=True)`; and `Order.events` as Saleor
serves it, to MANAGE_ORDERS only (saleor/graphql/order/types.py `Order.events`)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.drafts import DraftCompleteRefused
from sandboxes.saleor.models import utcnow
from sandboxes.saleor.order_models import Order, OrderEventType, OrderStatus
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

from .conftest import APP_HOST, FakeApp, gql, stocked_variant

EVENTS = "query($id: ID!) { order(id: $id) { created events { type date } } }"


async def _draft(sandbox: SaleorSandbox, quantity: int = 1, **fields: object) -> Order:
    mug = stocked_variant(sandbox, "MUG", 5)
    address = sandbox.address(first_name="Ann")
    given: dict[str, object] = {"billing_address": address, "shipping_address": address}
    return await sandbox.create_order(
        lines=[sandbox.order_line(mug, quantity)],
        email="ann@x.test",
        status=OrderStatus.DRAFT,
        paid=False,
        **(given | fields),
    )


async def test_a_completed_draft_keeps_its_creation_and_records_when_it_was_placed(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    sandbox.store.add_channel("default-channel", currency_code="USD")
    begun = utcnow() - timedelta(days=3)
    draft = await _draft(sandbox, created=begun)
    assert [e.type for e in draft.events] == [OrderEventType.DRAFT_CREATED]
    emitted.clear()
    before = utcnow()
    order = await sandbox.complete_draft_order(draft)
    assert order.created == begun
    assert order.status is OrderStatus.UNFULFILLED  # the channel confirms new orders
    assert order.updated_at >= before
    placed = order.events[-1]
    assert placed.type is OrderEventType.PLACED_FROM_DRAFT and placed.date >= before
    assert order.lines[0].quantity_allocated == 1
    assert emitted == ["ORDER_CREATED", "ORDER_CONFIRMED"]
    with pytest.raises(DraftCompleteRefused, match=re.escape("The order is not draft.")):
        await sandbox.complete_draft_order(order)


async def test_a_draft_completes_unconfirmed_where_the_channel_does_not_confirm(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    sandbox.store.add_channel("default-channel", currency_code="USD")
    sandbox.store.default_channel().automatically_confirm_all_new_orders = False
    emitted.clear()
    order = await sandbox.complete_draft_order(await _draft(sandbox))
    assert order.status is OrderStatus.UNCONFIRMED
    assert emitted == ["DRAFT_ORDER_CREATED", "ORDER_CREATED"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"billing_address": None}, "Can't finalize draft with no billing address."),
        ({"shipping_address": None}, "Can't finalize draft with no shipping address."),
        ({"shipping_method_name": None}, "Shipping method is required."),
        ({"quantity": 6}, "Insufficient product stock."),
    ],
)
async def test_an_incomplete_draft_is_refused_and_left_as_it_was(
    sandbox: SaleorSandbox, fields: dict[str, object], message: str
) -> None:
    sandbox.store.add_channel("default-channel", currency_code="USD")
    quantity = int(str(fields.pop("quantity", 1)))
    draft = await _draft(sandbox, quantity, **fields)
    with pytest.raises(DraftCompleteRefused, match=re.escape(message)):
        await sandbox.complete_draft_order(draft)
    kept = sandbox.store.get_order(draft.id)
    assert kept.status is OrderStatus.DRAFT
    assert [e.type for e in kept.events] == [OrderEventType.DRAFT_CREATED]


async def test_order_events_are_served_to_managers_of_orders(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """Its events, oldest first: placed from the draft, a note, cancelled. The owner reads
    the order, not its events (`PermissionsField` of MANAGE_ORDERS)."""
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    sandbox.store.add_channel("default-channel", currency_code="USD")
    ann = sandbox.store.create_customer("ann@x.test")
    order = await sandbox.complete_draft_order(await _draft(sandbox, user=ann))
    await sandbox.add_order_note(order, "Gift wrap")
    await sandbox.cancel_order(order)
    body = await gql(client, EVENTS, {"id": order.global_id}, app.auth_token)
    served = body["data"]["order"]["events"]
    assert [e["type"] for e in served] == [
        "DRAFT_CREATED",
        "PLACED_FROM_DRAFT",
        "NOTE_ADDED",
        "CANCELED",
    ]
    assert served[1]["date"] == order.events[1].date.isoformat()

    own = await gql(client, EVENTS, {"id": order.global_id}, sandbox.mint_customer_token(ann))
    assert own["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_a_completed_draft_spends_its_single_use_code_since_3_23(
    sandbox: SaleorSandbox, version: str
) -> None:
    """`deactivate_single_use_voucher_codes` (draft_order_complete.py, 3.23.0, 3.22.28,
    3.21.44); 3.20.119 leaves the code active."""
    sandbox.version = version
    sandbox.store.add_channel("default-channel", currency_code="USD")
    voucher = await sandbox.vouchers.create(
        "Once", ["ONCE"], channels={"default-channel": 1}, single_use=True
    )
    draft = await _draft(sandbox, voucher_code="ONCE")
    assert voucher.codes[0].is_active is True
    await sandbox.complete_draft_order(draft)
    assert voucher.codes[0].is_active is (version == OLDEST_VERSION)
