"""The initial sync and orders whose products Saleor deleted (addon/ecommerce/orphans.py): an
order whose deleted variant Mailchimp held is batched with that product; one that needs a
placeholder product is handed to live sync, which creates the placeholder first. Either way
live sync then finds them unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from addon.ecommerce.catalog import CatalogPusher, DependencyFailed
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.mailchimp import RateLimited
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import finish, start


async def test_the_initial_sync_sends_orders_of_deleted_products(small: Shop) -> None:
    shop = small
    store = shop.saleor.store
    mint = await shop.product("Mint", "3.00")
    await shop.drain()  # Mailchimp holds Mint
    # Never seen by the app (no webhook), sold, then deleted.
    basil = store.create_product(
        "Basil", [VariantSpec(sku="BAS-0", name="Basil 0", price=Decimal("5.00"))]
    )
    of_mint = store.create_order(
        lines=[store.order_line_for(mint.variants[0], 2)], email="a@ex.com"
    )
    of_basil = store.create_order(lines=[store.order_line_for(basil.variants[0])], email="b@ex.com")
    store.delete_product(basil)
    await shop.saleor.delete_product(mint)
    await shop.drain()

    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error

    orders = shop.orders()
    [line] = orders[str(of_mint.id)].lines
    assert (line.product_id, line.product_variant_id, line.quantity) == (
        str(mint.id),
        str(mint.variants[0].id),
        2,
    )
    [line] = orders[str(of_basil.id)].lines
    placeholder = f"deleted_{basil.variants[0].id}"
    assert (line.product_id, line.product_variant_id) == (placeholder, str(basil.variants[0].id))
    held = shop.products()[placeholder]
    assert (held.title, [v.visibility for v in held.variants]) == ("Basil", ["hidden"])
    for order in (of_mint, of_basil):
        record = await shop.record(EntityKind.ORDER, order.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.content_hash

    # Live sync computes the same bodies: nothing is sent again.
    writes = len(shop.writes())
    await shop.saleor.emit("ORDER_UPDATED", of_mint)
    await shop.saleor.emit("ORDER_UPDATED", of_basil)
    await shop.drain()
    assert shop.writes()[writes:] == []


def _unlisted_sage_orders(shop: Shop) -> tuple[Any, list[Any]]:
    """Sage, sold three times, then no longer listed in the channel: the app never saw it."""
    store = shop.saleor.store
    sage = store.create_product(
        "Sage", [VariantSpec(sku="SAG-0", name="Sage 0", price=Decimal("4.00"))]
    )
    orders = [
        store.create_order(
            lines=[store.order_line_for(sage.variants[0], 1 + i)], email=f"{i}@ex.com"
        )
        for i in range(3)
    ]
    store.update_variant(sage.variants[0], channel_listings=[])  # unlisted, no webhook
    return sage, orders


async def _assert_kept(shop: Shop, sage: Any, orders: list[Any]) -> None:
    held = shop.orders()
    for i, order in enumerate(orders):
        [line] = held[str(order.id)].lines
        assert (line.product_id, line.quantity) == (str(sage.id), 1 + i)
    product = shop.products()[str(sage.id)]
    assert [v.visibility for v in product.variants] == ["hidden"]
    # Live sync computes the same bodies: nothing is sent again.
    writes = len(shop.writes())
    for order in orders:
        await shop.saleor.emit("ORDER_UPDATED", order)
    await shop.drain()
    assert shop.writes()[writes:] == []


def _order_posts(shop: Shop) -> list[tuple[int, str]]:
    return [
        (i, r.via)
        for i, r in enumerate(shop.mailchimp.requests)
        if r.method == "POST" and r.path.endswith("/orders")
    ]


def _unflagged(shop: Shop) -> list[int]:
    return [
        i
        for i, r in enumerate(shop.mailchimp.requests)
        if r.method == "PATCH" and isinstance(r.body, dict) and r.body.get("is_syncing") is False
    ]


async def test_the_initial_sync_keeps_lines_of_products_no_longer_listed(small: Shop) -> None:
    """A product the channel stopped listing before the app ever sent it: sent hidden, from
    the lines' copies, before the page's batch, whose orders keep their lines
    (`initial_sync/products_first.py`)."""
    shop = small
    sage, orders = _unlisted_sage_orders(shop)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert {via for _, via in _order_posts(shop)} == {"batch"}
    await _assert_kept(shop, sage, orders)


async def test_orders_of_a_product_not_sent_first_go_to_live_sync(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mailchimp failing the product: its orders go to live sync, which sends it and them; the
    sync turns the store's automations back on only after those pushes (`handoff.py`)."""
    shop = small
    sage, orders = _unlisted_sage_orders(shop)
    ensure = CatalogPusher.ensure_products
    failures = [DependencyFailed("Mailchimp is busy")]

    async def failing_once(self: CatalogPusher, *args: Any, **kwargs: Any) -> set[str]:
        if failures:
            raise failures.pop()
        return await ensure(self, *args, **kwargs)

    monkeypatch.setattr(CatalogPusher, "ensure_products", failing_once)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    posts = _order_posts(shop)
    # The first page's orders went with their own pushes; pages planned once the product was
    # held went in batches.
    assert "http" in {via for _, via in posts}
    assert _unflagged(shop)[-1] > max(i for i, _ in posts)
    await _assert_kept(shop, sage, orders)


async def test_only_the_product_that_failed_hands_its_orders_over(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = small
    sage, of_sage = _unlisted_sage_orders(shop)
    store = shop.saleor.store
    dill = store.create_product("Dill", [VariantSpec(sku="DIL-0", name="Dill 0", price=Decimal(2))])
    of_dill = store.create_order(
        lines=[store.order_line_for(dill.variants[0], 1)], email="d@ex.com"
    )
    store.update_variant(dill.variants[0], channel_listings=[])
    ensure = CatalogPusher.ensure_products
    failed: list[str] = []

    async def sage_fails_once(self: CatalogPusher, refs: Any, **kwargs: Any) -> set[str]:
        if not failed and any(product == sage.global_id for product, _ in refs):
            failed.append(sage.global_id)
            raise DependencyFailed("Mailchimp refused Sage")
        return await ensure(self, refs, **kwargs)

    monkeypatch.setattr(CatalogPusher, "ensure_products", sage_fails_once)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert failed
    posted = [
        (r.body.get("id") if isinstance(r.body, dict) else None, r.via)
        for r in shop.mailchimp.requests
        if r.method == "POST" and r.path.endswith("/orders")
    ]
    assert (str(of_dill.number), "batch") in posted  # Dill's order kept its batch
    await _assert_kept(shop, sage, of_sage)
    [line] = shop.orders()[str(of_dill.id)].lines
    assert line.product_id == str(dill.id)


async def test_mailchimp_throttling_the_products_makes_the_sync_wait_not_hand_over(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = small
    sage, orders = _unlisted_sage_orders(shop)
    ensure = CatalogPusher.ensure_products
    throttled: list[bool] = []

    async def throttled_once(self: CatalogPusher, *args: Any, **kwargs: Any) -> set[str]:
        if not throttled:
            throttled.append(True)
            try:
                raise RateLimited("Too many requests", status=429)
            except RateLimited as exc:
                raise DependencyFailed("Mailchimp is throttling") from exc
        return await ensure(self, *args, **kwargs)

    monkeypatch.setattr(CatalogPusher, "ensure_products", throttled_once)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert throttled
    assert {via for _, via in _order_posts(shop)} == {"batch"}
    await _assert_kept(shop, sage, orders)
