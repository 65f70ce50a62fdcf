"""A variant on preorder is sold without stock, up to its thresholds, until its end date
(saleor/warehouse/availability.py `check_stock_and_preorder_quantity`,
`check_preorder_threshold_bulk`; `ProductVariant.is_preorder_active`, 3.20.119): Mailchimp gets
what the preorder can still sell, not the stock (`ecommerce/preorder.py`), and the stock again
once the end date passed, which sends no webhook (`offer_dates.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce import payloads
from addon.ecommerce.marketing import UNTRACKED_STOCK, ProductOptions
from addon.ecommerce.offer_dates import OFFER_JOB, next_look
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.saleor_schemas import SaleorProduct
from addon.jobs.models import Job, JobStatus
from tests.ecommerce.conftest import CHANNEL, Shop

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def shown(shop: Shop, product_id: str) -> list[tuple[str, int]]:
    product = shop.products()[mailchimp_id(product_id)]
    return [(v.visibility, v.inventory_quantity) for v in product.variants]


def _variant(preorder: dict[str, Any] | None, channel_threshold: int | None) -> dict[str, Any]:
    return {
        "id": "UHJvZHVjdFZhcmlhbnQ6MQ==",
        "sku": "SNK-42",
        "trackInventory": True,
        "preorder": preorder,
        "stocks": [{"quantity": 7, "quantityAllocated": 0}],
        "channelListings": [
            {
                "channel": {"slug": CHANNEL},
                "price": {"amount": "120.00", "currency": "USD"},
                "preorderThreshold": {"quantity": channel_threshold, "soldUnits": 10},
            }
        ],
    }


def _inventory(variant: dict[str, Any]) -> int:
    product = SaleorProduct.model_validate(
        {
            "id": "UHJvZHVjdDox",
            "name": "Launch sneaker",
            "slug": "launch-sneaker",
            "channelListings": [
                {
                    "channel": {"slug": CHANNEL},
                    "isPublished": True,
                    "availableForPurchaseAt": "2025-01-01T00:00:00+00:00",
                }
            ],
            "variants": [variant],
        }
    )
    body = payloads.product_input(product, CHANNEL, ProductOptions(), currency="USD", now=NOW)
    assert body is not None
    return body.variants[0].inventory_quantity


def test_what_a_preorder_can_still_sell_is_sent_not_the_stock() -> None:
    preorder = {"globalThreshold": 500, "globalSoldUnits": 13, "endDate": None}
    assert _inventory(_variant(preorder, None)) == 487
    assert _inventory(_variant(preorder, 100)) == 90  # the channel's limit is the smaller
    assert _inventory(_variant({**preorder, "globalThreshold": None}, 100)) == 90
    assert _inventory(_variant({**preorder, "globalThreshold": 5}, 100)) == 0  # oversold: 0
    unlimited = {"globalThreshold": None, "globalSoldUnits": 13, "endDate": None}
    assert _inventory(_variant(unlimited, None)) == UNTRACKED_STOCK
    # Not on preorder (Saleor answers null), or its end date passed: the stock.
    assert _inventory(_variant(None, 100)) == 7
    ended = {**preorder, "endDate": (NOW - timedelta(seconds=1)).isoformat()}
    assert _inventory(_variant(ended, 100)) == 7


async def test_a_preorder_variant_without_stock_is_sent_buyable(shop: Shop) -> None:
    product = await shop.product("Sneaker", "120.00")
    (variant,) = product.variants
    await shop.saleor.delete_stocks(variant)  # no stock anywhere yet
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 0)]

    await shop.saleor.update_variant(variant, is_preorder=True, preorder_global_threshold=500)
    shop.saleor.store.allocate_preorder(variant, CHANNEL, 3)  # three sold, no product webhook
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 497)]

    await shop.saleor.set_preorder_threshold(variant, CHANNEL, 100)
    shop.saleor.store.allocate_preorder(variant, CHANNEL, 10)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 87)]  # 100 less the 13 sold here


async def test_a_preorder_without_thresholds_is_sent_as_untracked_stock(shop: Shop) -> None:
    product = await shop.product("Sneaker", "120.00")
    await shop.saleor.update_variant(product.variants[0], quantity=0, is_preorder=True)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", UNTRACKED_STOCK)]


async def test_the_stock_is_sent_once_the_preorder_ended(shop: Shop, clock: ManualClock) -> None:
    product = await shop.product("Sneaker", "120.00")
    (variant,) = product.variants
    end = clock.now() + timedelta(hours=2)
    await shop.saleor.update_variant(
        variant, quantity=4, is_preorder=True, preorder_global_threshold=50, preorder_end_date=end
    )
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 50)]
    async with shop.services.db.session() as session:
        [check] = await session.scalars(
            select(Job).where(Job.kind == OFFER_JOB, Job.status == JobStatus.PENDING)
        )
    assert check.run_after == end + timedelta(seconds=1)  # still active at `end` itself

    # The end date passes: no webhook. (The sandbox's clock is the machine's, so it still
    # answers the preorder; the app reads its end date.)
    clock.advance(timedelta(hours=2, seconds=1).total_seconds())
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 4)]


def test_a_product_is_looked_at_again_when_a_preorder_of_it_ends() -> None:
    """`next_look`, which the push schedules by and a burst hands such a product to it by."""
    end = NOW + timedelta(hours=5)
    preorder = {"globalThreshold": 50, "globalSoldUnits": 0, "endDate": end.isoformat()}
    product = SaleorProduct.model_validate(
        {
            "id": "UHJvZHVjdDox",
            "name": "Launch sneaker",
            "slug": "launch-sneaker",
            "channelListings": [
                {
                    "channel": {"slug": CHANNEL},
                    "isPublished": True,
                    "availableForPurchaseAt": "2025-01-01T00:00:00+00:00",
                }
            ],
            "variants": [_variant(None, None), _variant(preorder, None)],
        }
    )
    assert next_look(product, CHANNEL, NOW) == end + timedelta(seconds=1)
    assert next_look(product, CHANNEL, end + timedelta(seconds=1)) is None
