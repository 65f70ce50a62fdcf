"""The initial sync and products not on offer in the channel (`ecommerce/publication.py`):
batched hidden when their state is final; one with a date to come is left to its live push,
which schedules the look at that date (`offer_dates.py`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from addon.clock import ManualClock
from addon.ecommerce.channel_state import RunStatus
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.test_publication import offer_checks, shown
from tests.initial_sync.conftest import finish, start


async def test_the_initial_sync_hides_what_is_not_on_offer(small: Shop, clock: ManualClock) -> None:
    shop = small
    store = shop.saleor.store
    draft, coming, sold = (
        store.create_product(name, [VariantSpec(sku=name, price=Decimal("9"))])
        for name in ("Draft", "Coming", "Sold")
    )
    store.publish(draft, CHANNEL, is_published=False)
    store.publish(coming, CHANNEL, available_for_purchase_at=clock.now() + timedelta(hours=5))
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    for product, expected in ((draft, "hidden"), (coming, "hidden"), (sold, "visible")):
        assert {v for v, _ in shown(shop, product.global_id)} == {expected}, product.name
    batched = {r.path for r in shop.mailchimp.requests if r.via == "batch"}
    assert any(path.endswith("/products") for path in batched)
    assert [c.payload["saleor_id"] for c in await offer_checks(shop)] == [coming.global_id]


async def test_a_preorder_ending_later_is_left_to_its_live_push(
    small: Shop, clock: ManualClock
) -> None:
    """Its stock is sent once its preorder ends, which no webhook tells: the live push
    schedules that look (`offer_dates.next_look`), as for a date of going on offer."""
    shop = small
    store = shop.saleor.store
    launch = store.create_product("Launch", [VariantSpec(sku="launch", price=Decimal("9"))])
    store.update_variant(
        launch.variants[0],
        is_preorder=True,
        preorder_global_threshold=20,
        preorder_end_date=clock.now() + timedelta(days=3),
    )
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert shown(shop, launch.global_id) == [("visible", 20)]
    assert [c.payload["saleor_id"] for c in await offer_checks(shop)] == [launch.global_id]
