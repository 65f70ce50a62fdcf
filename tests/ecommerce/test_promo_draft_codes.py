"""A single-use code used by a completed draft: Saleor deactivates it since 3.23.0 (3.22.28,
3.21.44; saleor/graphql/order/mutations/draft_order_complete.py
`deactivate_single_use_voucher_codes`), not at 3.20.119. No webhook tells the app about the
code; the order's push counts its use and pushes its voucher again (`promo_usage.py`), which
reads the code as Saleor has it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from addon.installations.models import Installation
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests.ecommerce.conftest import CHANNEL, Shop, choose, codes, run_all


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_a_completed_drafts_single_use_code_follows_saleor(shop: Shop, version: str) -> None:
    shop.saleor.version = version
    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(saleor_version=version))
    await choose(shop, "all")
    fig = await shop.product("Fig", "10.00")
    voucher = await shop.saleor.vouchers.create(
        "Once", ["ONCE1"], channels={CHANNEL: 1}, single_use=True
    )
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    draft = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)],
        user=customer,
        status=OrderStatus.DRAFT,
        voucher_code="ONCE1",
        billing_address=shop.saleor.address(first_name="Ann"),
        shipping_address=shop.saleor.address(first_name="Ann"),
    )
    await run_all(shop)
    assert (await codes(shop, voucher))["ONCE1"]["enabled"] is True
    await shop.saleor.complete_draft_order(draft)
    await run_all(shop)
    held = (await codes(shop, voucher))["ONCE1"]
    assert held["enabled"] is (version == OLDEST_VERSION)
    assert held["usage_count"] == 1
