"""What Saleor's conditions on a voucher make of its promo codes in Mailchimp: codes Saleor
refuses are not offered as usable (a voucher used up, one only staff may use), and a condition
a shopper must meet is said (a minimum of items)."""

from __future__ import annotations

import pytest

from sandboxes.saleor.voucher_input import VoucherRefused
from tests.ecommerce.conftest import CHANNEL, Shop, choose, codes, rules, run_all


async def test_a_voucher_used_up_is_disabled_with_its_codes(shop: Shop) -> None:
    await choose(shop, "all")
    fig = await shop.product("Fig", "10.00")
    voucher = await shop.saleor.vouchers.create(
        "Limited", ["ONCE1", "ONCE2"], channels={CHANNEL: 2}, usage_limit=1
    )
    await run_all(shop)
    assert {c["enabled"] for c in (await codes(shop, voucher)).values()} == {True}
    assert (await rules(shop))[str(voucher.id)]["enabled"] is True
    line = shop.saleor.order_line(fig.variants[0], 1)
    await shop.saleor.vouchers.create_order("ONCE1", lines=[line], email="ann@example.com")
    await run_all(shop)
    with pytest.raises(VoucherRefused):  # Saleor's limit is the voucher's, all codes together
        await shop.saleor.vouchers.create_order("ONCE2", lines=[line], email="bo@example.com")
    held = await codes(shop, voucher)
    assert (held["ONCE1"]["usage_count"], held["ONCE1"]["enabled"]) == (1, False)
    assert held["ONCE2"]["enabled"] is False
    assert (await rules(shop))[str(voucher.id)]["enabled"] is False


async def test_a_staff_only_voucher_is_sent_only_when_flagged(shop: Shop) -> None:
    await choose(shop, "all")
    staff = await shop.saleor.vouchers.create(
        "Staff", ["STAFF50"], channels={CHANNEL: 50}, only_for_staff=True
    )
    await run_all(shop)
    assert str(staff.id) not in await rules(shop)
    await choose(shop, "flagged")
    await shop.saleor.vouchers.update_metadata(staff, {"mailchimp_promo": "true"})
    await run_all(shop)
    assert str(staff.id) in await rules(shop)  # the admin's own choice


async def test_a_minimum_of_items_is_in_the_description(shop: Shop) -> None:
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create(
        "Bulk", ["BULK3"], channels={CHANNEL: 5}, min_checkout_items_quantity=3
    )
    await run_all(shop)
    rule = (await rules(shop))[str(voucher.id)]
    assert rule["description"] == "5.00 USD off the order on 3 items or more"
