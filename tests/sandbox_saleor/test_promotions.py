"""Catalogue promotions (the sandbox's promotions.py): a variant's discounted price is its
price less the best applicable rule's discount, stored only by the periodic recalculation, as
Saleor stores it; the promotion webhooks as Saleor sends them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import utcnow
from sandboxes.saleor.promotions import RewardValueType
from sandboxes.saleor.store_catalog import VariantSpec

from .conftest import APP_HOST, gql

PRICING = """query($id: ID!) { product(id: $id, channel: "default") { variants {
    pricing { onSale price { gross { amount } } priceUndiscounted { gross { amount } } } } } }"""


async def _pricing(sandbox: SaleorSandbox, client: httpx.AsyncClient, product: Any) -> list[Any]:
    app = next(iter(sandbox.store.apps.values()), None)
    if app is None:
        app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    body = await gql(client, PRICING, {"id": product.global_id}, token=app.auth_token)
    return [
        (v["pricing"]["onSale"], v["pricing"]["price"]["gross"]["amount"])
        for v in body["data"]["product"]["variants"]
    ]


async def test_the_best_rule_lowers_the_price_once_recalculated(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    await sandbox.add_channel("default")
    await sandbox.add_channel("other")
    shirt = await sandbox.create_product(
        "Shirt",
        [VariantSpec(sku="S", price=Decimal("19.99")), VariantSpec(sku="M", price=Decimal("5"))],
    )
    medium = shirt.variants[1]
    promotion = await sandbox.promotions.create(
        "Summer",
        [
            {"channels": ["default"], "product_ids": [shirt.id], "reward_value": Decimal(15)},
            {
                "channels": ["default"],
                "variant_ids": [medium.id],
                "reward_value_type": RewardValueType.FIXED,
                "reward_value": Decimal(7),
            },
            {"channels": ["other"], "product_ids": [shirt.id], "reward_value": Decimal(50)},
        ],
    )
    # Saleor recalculates discounted prices in a periodic task: none yet.
    assert await _pricing(sandbox, client, shirt) == [(False, 19.99), (False, 5.0)]
    await sandbox.promotions.recalculate()
    # 15 % of 19.99 is 2.9985: 3.00 off; the medium's best is the fixed 7, capped at its 5.
    assert await _pricing(sandbox, client, shirt) == [(True, 16.99), (True, 0.0)]
    await sandbox.promotions.update(promotion, end_date=utcnow() - timedelta(seconds=1))
    await sandbox.promotions.recalculate()
    assert await _pricing(sandbox, client, shirt) == [(False, 19.99), (False, 5.0)]


async def test_promotion_webhooks_as_saleor_sends_them(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    await sandbox.add_channel("default")
    emitted.clear()
    now = utcnow()
    running = await sandbox.promotions.create("Now", [])
    later = await sandbox.promotions.create(
        "Later", [], start_date=now + timedelta(hours=1), end_date=now + timedelta(hours=2)
    )
    assert emitted == ["PROMOTION_CREATED", "PROMOTION_STARTED", "PROMOTION_CREATED"]
    await sandbox.promotions.add_rule(later, channels=["default"], reward_value=Decimal(5))
    await sandbox.promotions.toggle(now + timedelta(minutes=90))
    await sandbox.promotions.toggle(now + timedelta(minutes=150))
    await sandbox.promotions.delete(running)
    assert emitted[3:] == [
        "PROMOTION_RULE_CREATED",
        "PROMOTION_STARTED",
        "PROMOTION_ENDED",
        "PROMOTION_DELETED",
    ]


async def test_a_date_an_update_sets_starts_or_ends_the_promotion_at_once(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """`promotionUpdate.get_toggle_type`: a start or end it sets that has passed, and that was
    not announced since, is announced with the update; the periodic toggle then sends nothing."""
    now = utcnow()
    later = await sandbox.promotions.create("Later", [], start_date=now + timedelta(hours=1))
    emitted.clear()
    await sandbox.promotions.update(later, start_date=now - timedelta(minutes=1))
    assert emitted == ["PROMOTION_UPDATED", "PROMOTION_STARTED"]
    await sandbox.promotions.update(later, end_date=now - timedelta(seconds=1))
    assert emitted[2:] == ["PROMOTION_UPDATED", "PROMOTION_ENDED"]
    await sandbox.promotions.toggle(now + timedelta(minutes=5))
    await sandbox.promotions.update(later, name="Renamed")  # no date: no toggle
    assert emitted[4:] == ["PROMOTION_UPDATED"]


async def test_a_promotion_created_already_over_starts_nothing_at_creation(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """`PromotionCreate.has_started`: started and not yet ended (promotion_create.py, 3.20.119
    as HEAD); the periodic toggle announces it later, as Saleor's task does."""
    emitted.clear()
    now = utcnow()
    await sandbox.promotions.create(
        "Over", [], start_date=now - timedelta(hours=2), end_date=now - timedelta(hours=1)
    )
    assert emitted == ["PROMOTION_CREATED"]
    await sandbox.promotions.toggle(now)
    assert emitted[1:] == ["PROMOTION_STARTED", "PROMOTION_ENDED"]
