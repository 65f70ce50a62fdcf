"""A voucher's changes reach every store that holds it: an end date cleared or moved, a voucher
that ends as it starts, a code used up in another channel, codes deleted while the voucher's
codes are still on their way to Mailchimp."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from addon.clock import ManualClock
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.jobs.worker import Worker
from sandboxes.saleor.order_models import DiscountValueType
from tests.ecommerce.conftest import CHANNEL, Shop, choose, codes, rules, run_all


async def test_an_end_date_cleared_is_cleared_in_mailchimp(shop: Shop, clock: ManualClock) -> None:
    """Mailchimp keeps a date a PATCH leaves out: the rule is created again without it, with
    its codes."""
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create(
        "Spring", ["SPRING", "BLOOM"], channels={CHANNEL: 10}, end_date=clock.now() + timedelta(2)
    )
    await run_all(shop)
    assert "ends_at" in (await rules(shop))[str(voucher.id)]
    await shop.saleor.vouchers.update(voucher, end_date=None)  # "no end date" in the dashboard
    await run_all(shop)
    rule = (await rules(shop))[str(voucher.id)]
    assert rule.get("ends_at") is None
    assert set(await codes(shop, voucher)) == {"SPRING", "BLOOM"}
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED

    before = len(shop.writes())
    await shop.saleor.vouchers.update(voucher, name="Spring!")  # still open-ended: a PATCH
    await run_all(shop)
    assert shop.writes()[before:] == [f"PATCH /promo-rules/{voucher.id}"]


async def test_a_start_moved_past_the_old_end_with_the_end_cleared(
    shop: Shop, clock: ManualClock
) -> None:
    """Postponed and made open-ended: a PATCH of the new start alone would be checked against
    the old end Mailchimp holds (and refused: "ends_at must be after starts_at")."""
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create(
        "Later", ["LATER"], channels={CHANNEL: 10}, end_date=clock.now() + timedelta(2)
    )
    await run_all(shop)
    start = clock.now() + timedelta(5)
    await shop.saleor.vouchers.update(voucher, start_date=start, end_date=None)
    await run_all(shop)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and (record.status, record.last_error) == (SyncStatus.SYNCED, None)
    rule = (await rules(shop))[str(voucher.id)]
    assert rule.get("ends_at") is None and rule["starts_at"].startswith(start.date().isoformat())
    assert set(await codes(shop, voucher)) == {"LATER"}


async def test_both_dates_moved_past_the_old_end_go_together(
    shop: Shop, clock: ManualClock
) -> None:
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create(
        "Moved", ["MOVED"], channels={CHANNEL: 10}, end_date=clock.now() + timedelta(2)
    )
    await run_all(shop)
    end = clock.now() + timedelta(9)
    await shop.saleor.vouchers.update(voucher, start_date=clock.now() + timedelta(5), end_date=end)
    await run_all(shop)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert (await rules(shop))[str(voucher.id)]["ends_at"].startswith(end.date().isoformat())


async def test_a_voucher_that_ends_as_it_starts_is_not_offered(
    shop: Shop, clock: ManualClock
) -> None:
    """Saleor accepts an end equal to the start, Mailchimp refuses it: no order can use such a
    voucher, so it is not sent (and one held is deleted), not quarantined."""
    await choose(shop, "all")
    start = clock.now() + timedelta(1)
    same = await shop.saleor.vouchers.create(
        "Instant", ["INSTANT"], channels={CHANNEL: 10}, start_date=start, end_date=start
    )
    held = await shop.saleor.vouchers.create("Held", ["HELD"], channels={CHANNEL: 10})
    await run_all(shop)
    assert set(await rules(shop)) == {str(held.id)}
    await shop.saleor.vouchers.update(held, start_date=start, end_date=start)
    await run_all(shop)
    assert await rules(shop) == {}
    for voucher in (same, held):
        record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
        assert record is not None and record.status is SyncStatus.REMOVED


async def _codes_in(shop: Shop, store_id: str, rule_id: str) -> dict[str, dict[str, Any]]:
    path = f"/ecommerce/stores/{store_id}/promo-rules/{rule_id}/promo-codes"
    found = await shop.mailchimp.call(shop.account, "GET", path, {"count": "1000"})
    assert found.body is not None
    return {c["code"]: c for c in found.body["promo_codes"]}


async def test_a_single_use_code_used_in_one_channel_is_disabled_in_every_store(
    shop: Shop,
) -> None:
    """Saleor deactivates a single-use code (and counts a usage limit) for all channels."""
    await shop.saleor.add_channel("eu", "Europe", "USD")
    response = await shop.api(
        "PUT", "/api/ecommerce/channels/eu", {"tracked": True, "list_id": shop.list_id}
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    await choose(shop, "all")
    fig = await shop.product("Fig", "10.00")
    voucher = await shop.saleor.vouchers.create(
        "Once",
        ["ONCE1"],
        channels={CHANNEL: 10, "eu": 10},
        value_type=DiscountValueType.PERCENTAGE,
        single_use=True,
    )
    await run_all(shop)
    stores = [store.id for store in shop.mailchimp.stores(shop.account)]
    assert len(stores) == 2
    line = shop.saleor.order_line(fig.variants[0], 1)
    await shop.saleor.vouchers.create_order("ONCE1", lines=[line], email="ann@grocer.example")
    await run_all(shop)
    held = [(await _codes_in(shop, store, str(voucher.id)))["ONCE1"] for store in stores]
    assert [code["enabled"] for code in held] == [False, False]
    # The use is counted in the store of the order's channel only.
    assert sorted(code["usage_count"] for code in held) == [0, 1]


async def test_codes_deleted_while_the_voucher_code_batch_is_out(shop: Shop) -> None:
    """VOUCHER_CODES_DELETED names codes, not their voucher; the voucher's record learns the
    codes its batch sent only from the batch's results: its push is queued again anyway."""
    await choose(shop, "all")
    names = [f"GEN{i:03}" for i in range(60)]  # "Generate codes" in the dashboard
    voucher = await shop.saleor.vouchers.create("Bulk", names, channels={CHANNEL: 5})
    await Worker(shop.services).run_until_idle()  # the rule created, the codes' batch out
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.PENDING and not record.children
    doomed = [c for c in voucher.codes if c.code in ("GEN000", "GEN001")]
    await shop.saleor.vouchers.delete_codes(doomed)  # the admin removes two at once
    await run_all(shop)
    assert set(await codes(shop, voucher)) == set(names) - {"GEN000", "GEN001"}
