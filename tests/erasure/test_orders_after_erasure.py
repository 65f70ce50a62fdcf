"""An erased customer's orders never bring them back into Mailchimp: Saleor keeps a deleted
customer's orders with their address, so a later change of one (a fulfilment), a burst of
changes or a new initial sync would push it, and with it an e-commerce customer carrying the
address. Orders placed at the address after the erasure are new business and go as any other
(`addon/ecommerce/erased.py`, `addon/privacy/erased.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncStatus
from addon.jobs.models import Job
from addon.mailchimp import subscriber_hash
from sandboxes.saleor.order_models import Order
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import BURSTY, batch_calls, settle
from tests.erasure.scan import rows_naming
from tests.erasure.test_erasure import ANN, _customer_with_history, _users_only
from tests.initial_sync.conftest import SMALL, finish, start


async def _erased_with_a_kept_order(shop: Shop) -> tuple[Any, Order]:
    """Ann deleted her account; her order stays in Mailchimp (the default), unfulfilled."""
    customer, order, _checkout = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert str(order.id) in shop.orders()
    return customer, order


async def _assert_still_erased(shop: Shop, order: Order) -> None:
    held = shop.mailchimp.customers(shop.account, shop.store_id)
    assert ANN not in {c.email_address for c in held}
    assert await rows_naming(shop.services, ANN) == []
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.label is not None
    assert ANN not in record.label and subscriber_hash(ANN)[:12] in record.label


async def _erased_from_the_panel(shop: Shop) -> tuple[Any, Order]:
    """Ann (`_customer_with_history`) erased from the customer panel: Saleor keeps her; small
    initial-sync pages (`SMALL`) for the syncs that follow."""
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    customer, order, _checkout = await _customer_with_history(shop)
    erased = await shop.client.post(
        f"/api/erasure/customers/{customer.global_id}", headers=_users_only(shop)
    )
    assert erased.status_code == 202, erased.text
    await shop.drain()
    return customer, order


def _later() -> datetime:
    """A creation time after the erasure (set, not waited for)."""
    return datetime.now(UTC) + timedelta(minutes=5)


async def test_a_kept_order_changed_after_the_erasure_stays_as_last_sent(shop: Shop) -> None:
    _customer, order = await _erased_with_a_kept_order(shop)
    before = shop.orders()[str(order.id)].model_dump()
    requests = len(shop.mailchimp.requests)
    async with shop.services.db.session() as session:
        last_job = await session.scalar(select(func.max(Job.id)))

    await shop.saleor.fulfill_order(order, "TRACK-1")
    await shop.drain()

    assert shop.orders()[str(order.id)].model_dump() == before  # nothing sent for it
    writes = [r for r in shop.mailchimp.requests[requests:] if r.method != "GET"]
    assert not [r for r in writes if "/orders" in r.path or "/customers" in r.path]
    # Its products' stock moved all the same: their pushes were queued (they name no one).
    async with shop.services.db.session() as session:
        pushed = [
            job.payload["kind"]
            for job in await session.scalars(
                select(Job).where(Job.kind == PUSH_JOB, Job.id > last_job)
            )
        ]
    assert "product" in pushed, pushed
    await _assert_still_erased(shop, order)
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED  # as Mailchimp holds it

    # She shops again as a guest: a new order, new business, goes with her address.
    pear = (await shop.product("Quince", "4.00")).variants[0]
    again = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(pear, 1)], email=ANN, created=_later()
    )
    await shop.drain()
    assert str(again.id) in shop.orders()
    assert [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)] == [ANN]


async def test_a_new_initial_sync_does_not_send_an_erased_customers_deleted_orders(
    shop: Shop,
) -> None:
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    settings = await shop.api("PUT", "/api/erasure/settings", {"delete_orders": True})
    assert settings.status_code == 200, settings.text
    customer, order, _checkout = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert str(order.id) not in shop.orders()
    pear = (await shop.product("Quince", "4.00")).variants[0]
    newer = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(pear, 2)], email=ANN, created=_later()
    )
    await shop.drain()

    await start(shop)
    run = await finish(shop)

    assert run.status.value == "succeeded"
    held = shop.orders()
    assert str(order.id) not in held  # erased with her, not sent again
    assert str(newer.id) in held  # placed after the erasure
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    assert record.label is not None and ANN not in record.label


async def test_a_burst_leaves_an_erased_customers_kept_order_alone(shop: Shop) -> None:
    _customer, order = await _erased_with_a_kept_order(shop)
    shop.services.settings = shop.services.settings.model_copy(update=BURSTY)
    before = shop.orders()[str(order.id)].model_dump()
    fig = (await shop.product("Fig", "3.00")).variants[0]
    await settle(shop)
    others = [
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(fig, 1)], email=f"buyer{i}@example.com"
        )
        for i in range(4)
    ]
    await settle(shop)
    requests = len(shop.mailchimp.requests)

    for placed in [order, *others]:
        await shop.saleor.fulfill_order(placed, "TRACK-2")
    await settle(shop)

    assert batch_calls(shop, requests) >= 1  # the others went in a batch
    held = shop.orders()
    assert held[str(order.id)].model_dump() == before
    assert all(held[str(o.id)].fulfillment_status == "shipped" for o in others)
    await _assert_still_erased(shop, order)


async def test_a_new_initial_sync_does_not_bring_back_a_customer_erased_from_the_panel(
    shop: Shop,
) -> None:
    """Erased from the panel, the customer stays in Saleor: a new initial sync leaves them out
    (and their order, placed before), until they change (they keep shopping: docs, Limits)."""
    customer, order = await _erased_from_the_panel(shop)
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    before = shop.orders()[str(order.id)].model_dump()

    await start(shop)
    run = await finish(shop)

    assert run.status.value == "succeeded"
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert shop.orders()[str(order.id)].model_dump() == before
    await _assert_still_erased(shop, order)

    # She changes her name in her account: she is shopping again, and goes as any customer.
    await shop.saleor.update_customer(customer, first_name="Annie")
    await shop.drain()
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert held.email_address == ANN


async def test_signing_in_after_the_erasure_does_not_bring_the_customer_back(shop: Shop) -> None:
    """Saleor saves a user's `updatedAt` with `lastLogin` at each sign-in, and sends no
    webhook: a customer erased from the panel who only signs in (keeps a storefront session)
    has not changed, and a new initial sync still leaves her out (`erased._signed_in_since`)."""
    customer, order = await _erased_from_the_panel(shop)
    stored = shop.saleor.store.get_customer(customer.id)
    stored.is_confirmed = True  # she confirmed her address long ago
    stored.last_login = None  # her first sign-in since: saved whatever the threshold
    before = stored.updated_at

    shop.saleor.mint_customer_token(stored)  # `tokenCreate`

    assert stored.last_login is not None and stored.updated_at > before
    await start(shop)
    run = await finish(shop)
    assert run.status.value == "succeeded"
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    await _assert_still_erased(shop, order)
