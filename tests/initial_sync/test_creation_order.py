"""The initial sync reads oldest first, so what is created while it runs is read too.

Saleor lists by default in its models' order: orders by number, newest first; customers by
e-mail; products by slug (the Saleor sandbox too, sandboxes/saleor/orderings.py). Paged so, an
order placed while the sync is between pages sorts before its cursor and is never read, and so
is a customer whose e-mail (a product whose slug) sorts before it. The page documents sort by
creation, ascending: such an entity is the newest, so it comes last. No webhook is sent for the
entities made here (they are made in the store directly): only the initial sync can send them.

A sync recorded before the documents sorted holds cursors of the default order, which Saleor
refuses with `sortBy`: those slices are read again from their start. A cursor Saleor refuses
all the same (an upgrade to 3.22 changed the fields of `OrderSortField.CREATED_AT` under a
running sync) restarts its slice too.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind
from addon.initial_sync.models import InitialSync
from addon.installations.models import Installation
from addon.jobs.worker import Worker
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    creations,
    finish,
    make_due,
    progress,
    start,
)

# Small pages and one batch a step: a step stops in the middle of a slice.
PAGED = {
    "initial_sync_page_size": 5,
    "initial_sync_batch_size": 10,
    "initial_sync_step_batches": 1,
}


async def _on(shop: Shop, version: str, slices: int) -> None:
    shop.saleor.version = version
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        installation.saleor_version = version
    shop.services.settings = shop.services.settings.model_copy(
        update={**PAGED, "initial_sync_read_slices": slices}
    )
    shop.saleor.generate_store(products=30, customers=45, orders=60, seed=12)


async def _run(shop: Shop) -> InitialSync:
    async with shop.services.db.session() as session:
        return (await session.execute(select(InitialSync))).scalar_one()


async def _until_between_pages(shop: Shop, kind: EntityKind) -> None:
    """Run the sync's jobs one at a time until the kind's last slice (open above: where what
    is created now belongs) has read a page and not its last."""
    worker = Worker(shop.services)
    for _ in range(300):
        slices = ((await _run(shop)).streams.get(kind.value) or {}).get("slices") or []
        if slices and slices[-1]["cursor"] and not slices[-1]["done"]:
            return
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        assert await worker.run_once()
    raise AssertionError(f"the {kind.value} slices were never between pages")


def _create_newest(shop: Shop, kind: EntityKind) -> str:
    """An entity made now (a minute after the newest of its kind), sorting first in Saleor's
    default order: the highest order number, the first e-mail or slug. Its Mailchimp id."""
    store = shop.saleor.store
    if kind is EntityKind.ORDER:
        variant = next(iter(store.variants.values()))
        line = store.order_line_for(variant, 1, CHANNEL)
        order = store.create_order(CHANNEL, [line], email="late.buyer@example.com")
        assert order.number == max(o.number for o in store.orders.values())
        order.created = max(o.created for o in store.orders.values()) + timedelta(minutes=1)
        return str(order.id)
    if kind is EntityKind.CUSTOMER:
        customer = store.create_customer("aaa.joined.late@example.com", "Aaa", "Late")
        assert customer.email == min(c.email for c in store.customers.values())
        newest = max(c.date_joined for c in store.customers.values())
        customer.date_joined = newest + timedelta(minutes=1)
        return str(customer.id)
    spec = VariantSpec(sku="SKU-LATE", prices={CHANNEL: Decimal("12.50")})
    product = store.create_product("Aardvark", [spec], slug="aaa-created-late", channels=[CHANNEL])
    newest = max(p.created for p in store.products.values())
    product.created = newest + timedelta(minutes=1)
    return str(product.id)


def _in_mailchimp(shop: Shop, kind: EntityKind) -> set[str]:
    if kind is EntityKind.ORDER:
        return set(shop.orders())
    if kind is EntityKind.PRODUCT:
        return set(shop.products())
    return {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)}


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
@pytest.mark.parametrize("slices", [1, 3])
@pytest.mark.parametrize("kind", [EntityKind.ORDER, EntityKind.CUSTOMER, EntityKind.PRODUCT])
async def test_an_entity_created_between_pages_is_read_by_the_sync(
    small: Shop, version: str, slices: int, kind: EntityKind
) -> None:
    shop = small
    await _on(shop, version, slices)
    await start(shop)
    await _until_between_pages(shop, kind)
    created = _create_newest(shop, kind)
    assert created not in _in_mailchimp(shop, kind)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert created in _in_mailchimp(shop, kind)
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1


def _default_cursor(*values: Any) -> str:
    """A cursor as Saleor's default order gives it (saleor/graphql/core/connection.py
    `to_global_cursor`): the ordering's values as text, in JSON, in base64."""
    return base64.b64encode(json.dumps([str(v) for v in values]).encode()).decode()


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_a_sync_recorded_with_default_order_cursors_reads_those_slices_again(
    small: Shop, version: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A run written before the documents sorted (slices without `order`, and a legacy
    one-cursor stream): its cursors are of Saleor's default order, refused with `sortBy` (or,
    for customers on 3.22.64+, read as dates: Django's ValidationError). Those slices are read
    from their start, their totals not counted twice; the pushes are idempotent."""
    shop = small
    await _on(shop, version, 3)
    store = shop.saleor.store
    await start(shop)
    await _until_between_pages(shop, EntityKind.CUSTOMER)
    with_pk = version == CURRENT_VERSION  # sort_queryset_by_default adds "pk" (3.22.64+)
    by_email = sorted(store.customers.values(), key=lambda c: c.email)[3]
    by_slug = sorted(store.products.values(), key=lambda p: p.slug)[4]
    async with shop.services.db.transaction() as session:
        run = (await session.execute(select(InitialSync))).scalar_one()
        streams = dict(run.streams)
        customers = streams["customer"]
        for piece in customers["slices"]:
            del piece["order"]  # as written before
            if piece["cursor"] and not piece["done"]:
                values = (by_email.email, by_email.id) if with_pk else (by_email.email,)
                piece["cursor"] = _default_cursor(*values)
        # Products as a run begun before slices wrote them: one cursor, by slug.
        values = (by_slug.slug, by_slug.id) if with_pk else (by_slug.slug,)
        streams["product"] = {"cursor": _default_cursor(*values), "done": False}
        run.streams = {**streams, "customer": dict(customers)}
    started = await progress(shop)
    totals = {k["kind"]: k["total"] for k in started["kinds"]}
    with caplog.at_level(logging.WARNING, logger="addon.initial_sync.reader"):
        run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    assert "refused" not in caplog.text  # those cursors were never sent to Saleor
    body = await progress(shop)
    kinds = {k["kind"]: k for k in body["kinds"]}
    # Counted once: customers with their first pages, products with its first page.
    assert kinds["customer"]["total"] == totals["customer"]
    assert kinds["product"]["total"] == totals["product"] == len(store.products)


async def test_an_upgrade_to_3_22_during_the_sync_restarts_the_refused_order_slice(
    small: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    """`OrderSortField.CREATED_AT` is ["created_at", "status", "pk"] on 3.20 and
    ["created_at", "status", "number"] since 3.22.0: Saleor upgraded between two pages refuses
    the slice's cursor (an order's pk is a UUID), and the slice is read from its start again."""
    shop = small
    await _on(shop, OLDEST_VERSION, 3)
    await start(shop)
    await _until_between_pages(shop, EntityKind.ORDER)
    before = await progress(shop)
    shop.saleor.version = CURRENT_VERSION  # the installation learns of it later
    with caplog.at_level(logging.WARNING, logger="addon.initial_sync.reader"):
        run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert "Saleor refused a order cursor" in caplog.text
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    orders = {k["kind"]: k for k in (await progress(shop))["kinds"]}["order"]
    assert orders["total"] == {k["kind"]: k for k in before["kinds"]}["order"]["total"]
