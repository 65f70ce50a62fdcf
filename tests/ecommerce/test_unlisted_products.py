"""Orders keep the lines of products no longer sold in the channel: Mailchimp holds such a
product hidden (not deleted), so the lines still reference it and the order's revenue, the
customer's total spent and purchase segments stay whole (Mailchimp for WooCommerce keeps them
so)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from addon.ecommerce.catalog import CatalogPusher, Known
from addon.ecommerce.context import Context, load_context
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.installations.models import Installation
from sandboxes.saleor.models import Product as SaleorProduct
from sandboxes.saleor.order_models import Order as SaleorOrder
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import CHANNEL, Shop


async def _context(shop: Shop) -> Context:
    async with shop.services.db.session() as session:
        installation_id = await session.scalar(select(Installation.id))
    assert installation_id is not None
    context = await load_context(shop.services, installation_id, CHANNEL)
    assert context is not None
    return context


async def _unlist(shop: Shop, product: SaleorProduct) -> None:
    """The product taken off the channel (its variants' listings removed)."""
    for variant in product.variants:
        shop.saleor.store.update_variant(variant, channel_listings=[])
    await shop.saleor.update_product(product, name=product.name)
    await shop.drain()
    assert all(v.visibility == "hidden" for v in shop.products()[str(product.id)].variants)


async def test_orders_keep_the_lines_of_a_product_no_longer_sold(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    before = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(fig.variants[0], 1),
            shop.saleor.order_line(pear.variants[0], 1),
        ],
        user=customer,
    )
    await shop.drain()
    await _unlist(shop, fig)
    writes = len(shop.writes())

    # A change of an order placed before: patched, its two lines kept (never re-created with one).
    await shop.saleor.fulfill_order(before)
    await shop.drain()
    orders = [w for w in shop.writes()[writes:] if "/orders" in w]
    assert orders == [f"PATCH /orders/{before.number}"]
    assert len(shop.orders()[str(before.number)].lines) == 2

    # An order placed with it since (a draft staff completed, say): sent with its line.
    after = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 2, unit_price=Decimal("2.00"))],
        user=customer,
    )
    await shop.drain()
    sent = shop.orders()[str(after.number)]
    assert [(line.product_id, line.quantity) for line in sent.lines] == [(str(fig.id), 2)]


async def test_a_product_unlisted_before_mailchimp_ever_held_it_keeps_its_order_lines(
    shop: Shop,
) -> None:
    """An order of a product Saleor no longer sells in the channel, never sent to Mailchimp
    (taken off before the app saw it): the product is made hidden from the lines' copies,
    under its own id, and its line is kept."""
    store = shop.saleor.store
    old = store.create_product(
        "Quince", [VariantSpec(sku="QUI-S", name="Small"), VariantSpec(sku="QUI-L", name="Large")]
    )  # no webhook: the app never saw it
    pear = await shop.product("Pear", "3.00")
    order = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(old.variants[0], 2, unit_price=Decimal("4.00")),
            shop.saleor.order_line(pear.variants[0], 1),
        ],
        email="ann@example.com",
    )
    for variant in old.variants:
        store.update_variant(variant, channel_listings=[])  # unlisted, still no webhook
    await shop.drain()

    sent = shop.orders()[str(order.number)]
    assert sorted((line.product_id, line.quantity) for line in sent.lines) == sorted(
        [(str(old.id), 2), (str(pear.id), 1)]
    )
    held = shop.products()[str(old.id)]
    assert held.title == "Quince"
    [variant] = held.variants
    assert (variant.id, variant.sku, variant.price) == (str(old.variants[0].id), "QUI-S", 4.0)
    assert (variant.visibility, variant.inventory_quantity) == ("hidden", 0)
    record = await shop.record(EntityKind.PRODUCT, old.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    assert record.mailchimp_id == str(old.id)

    # Another of its variants in a later order: added to the hidden product.
    later = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(old.variants[1], 1, unit_price=Decimal("6.00"))],
        email="bo@example.com",
    )
    await shop.drain()
    assert [line.product_variant_id for line in shop.orders()[str(later.number)].lines] == [
        str(old.variants[1].id)
    ]
    assert len(shop.products()[str(old.id)].variants) == 2

    # Sold again: its own push brings it up to date and shows it.
    for variant in old.variants:
        store.update_variant(variant, channel_listings=pear.variants[0].channel_listings)
    await shop.saleor.update_product(old, name="Quince")
    await shop.drain()
    assert all(v.visibility != "hidden" for v in shop.products()[str(old.id)].variants)


async def second_variant_ordered(shop: Shop) -> tuple[SaleorProduct, SaleorOrder]:
    """A product Saleor no longer lists, which another order's push just created in Mailchimp
    with its first variant (the ledger does not know); then an order of its second variant,
    pushed."""
    store = shop.saleor.store
    old = store.create_product(
        "Quince", [VariantSpec(sku="QUI-S", name="Small"), VariantSpec(sku="QUI-L", name="Large")]
    )
    for variant in old.variants:
        store.update_variant(variant, channel_listings=[])
    first = {
        "id": str(old.id),
        "title": "Quince",
        "variants": [{"id": str(old.variants[0].id), "title": "Small", "visibility": "hidden"}],
    }
    made = await shop.mailchimp.call(
        shop.account, "POST", f"/ecommerce/stores/{shop.store_id}/products", body=first
    )
    assert made.status == 200, made.body
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(old.variants[1], 1, unit_price=Decimal("6.00"))],
        email="bo@example.com",
    )
    await shop.drain()
    return old, order


async def test_a_product_another_push_just_created_gets_this_orders_variant(shop: Shop) -> None:
    """Two orders of such a product pushed at once: the second's creation is answered "already
    exists", and it adds its own variant instead of assuming Mailchimp holds it."""
    old, order = await second_variant_ordered(shop)

    [line] = shop.orders()[str(order.number)].lines
    assert line.product_variant_id == str(old.variants[1].id)
    assert len(shop.products()[str(old.id)].variants) == 2
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_push_that_read_before_another_made_the_product_keeps_its_record(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two orders of such a product pushed at once: one makes it (id and variant recorded)
    after the other read the record. The other's "not listed, not held" must not wipe that
    record: its lines, and later orders', would lose the variant the first sent."""
    store = shop.saleor.store
    old = store.create_product(
        "Medlar", [VariantSpec(sku="MED-S", name="Small"), VariantSpec(sku="MED-L", name="Large")]
    )
    for variant in old.variants:
        store.update_variant(variant, channel_listings=[])
    first = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(old.variants[0], 1, unit_price=Decimal("5.00"))],
        email="ann@example.com",
    )
    await shop.drain()
    record = await shop.record(EntityKind.PRODUCT, old.global_id)
    assert record is not None and record.mailchimp_id == str(old.id)
    held = dict(record.children)

    known = CatalogPusher.known
    stale: list[bool] = []

    async def read_before_the_other(self: CatalogPusher, kind: EntityKind, saleor_id: str) -> Known:
        if kind is EntityKind.PRODUCT and saleor_id == old.global_id and not stale:
            stale.append(True)
            return Known()  # as read before the first order's push recorded the product
        return await known(self, kind, saleor_id)

    monkeypatch.setattr(CatalogPusher, "known", read_before_the_other)
    pusher = CatalogPusher(shop.services, await _context(shop), None)  # type: ignore[arg-type]
    assert await pusher.push_product(old.global_id) == set()
    assert stale
    record = await shop.record(EntityKind.PRODUCT, old.global_id)
    assert record is not None and record.mailchimp_id == str(old.id)
    assert dict(record.children) == held
    assert str(first.number) in shop.orders()
