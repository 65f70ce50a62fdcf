"""Variants go to Mailchimp at their sale price: a catalogue promotion's discount off. Saleor
sends no product webhook when a promotion changes prices, and stores the new ones a little
later (a periodic task): a promotion's webhook re-prices the tracked channels' products once
that has run (`ecommerce/reprice.py`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from addon.clock import ManualClock
from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncStatus
from addon.ecommerce.payloads import mailchimp_id, sale_price
from addon.ecommerce.price_recheck import RECHECK_JOB
from addon.ecommerce.reprice import REPRICE_AGAIN, REPRICE_DELAY, REPRICE_JOB, _PromotionBody
from addon.ecommerce.saleor_schemas import VariantPricing
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.mailchimp import BadRequest, MailchimpClient
from sandboxes.saleor.models import utcnow  # Saleor's clock, not the app's
from sandboxes.saleor.promotions import PromotionType
from sandboxes.saleor.versions import OLDEST_VERSION
from tests.ecommerce.conftest import CHANNEL, Shop


def _prices(shop: Shop, product_id: str) -> list[float]:
    return [v.price for v in shop.products()[mailchimp_id(product_id)].variants]


async def _reprices(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        found = await session.scalars(
            select(Job).where(Job.kind == REPRICE_JOB, Job.status == JobStatus.PENDING)
        )
        return list(found)


async def test_a_catalogue_promotion_sets_the_sale_price_once_saleor_stored_it(
    shop: Shop, clock: ManualClock
) -> None:
    tee = await shop.product("Tee", "20.00", "8.00")
    await shop.drain()
    assert _prices(shop, tee.global_id) == [20.0, 8.0]
    created = clock.now()
    promotion = await shop.saleor.promotions.create(
        "Summer",
        [{"channels": [CHANNEL], "variant_ids": [tee.variants[0].id], "reward_value": 25}],
    )
    await shop.drain()  # the re-price waits for Saleor's recalculation
    assert _prices(shop, tee.global_id) == [20.0, 8.0]
    assert len(await _reprices(shop)) == 2  # two minutes after the last change, then later
    # A second rule a minute and a half later moves the re-price after it (debounced): run at
    # the first's time, it would read prices Saleor has not recalculated yet.
    clock.advance(90)
    await shop.saleor.promotions.add_rule(
        promotion, channels=[CHANNEL], variant_ids=[tee.variants[1].id], reward_value=50
    )
    await shop.drain()
    # The second pass keeps its time: changes that keep coming still get re-priced.
    again = [j for j in await _reprices(shop) if (j.coalesce_key or "").endswith(":again")]
    assert [j.run_after for j in again] == [created + REPRICE_AGAIN]
    clock.advance(REPRICE_DELAY.total_seconds() - 90)
    await shop.drain()
    assert len(await _reprices(shop)) == 2  # not due yet
    await shop.saleor.promotions.recalculate()  # Saleor's periodic task, within its 30 s
    clock.advance(90)
    await shop.drain()
    assert _prices(shop, tee.global_id) == [15.0, 4.0]

    await shop.saleor.promotions.update(promotion, end_date=utcnow() - timedelta(seconds=1))
    await shop.drain()
    await shop.saleor.promotions.recalculate()
    clock.advance(REPRICE_DELAY.total_seconds())
    await shop.drain()
    assert _prices(shop, tee.global_id) == [20.0, 8.0]


async def test_an_order_promotion_reprices_nothing(shop: Shop) -> None:
    await shop.product("Cap", "12.00")
    await shop.drain()
    await shop.saleor.promotions.create(
        "Spend 100", [{"channels": [CHANNEL], "reward_value": Decimal(10)}],
        type=PromotionType.ORDER,
    )  # fmt: skip
    await shop.drain()
    assert await _reprices(shop) == []


def test_the_sale_price_is_on_the_basis_the_storefront_shows() -> None:
    """Gross where the channel displays prices with tax, net where it does not, whatever the
    basis they are entered on (tests/ecommerce/test_displayed_prices.py); without pricing, the
    channel price."""
    pricing = VariantPricing.model_validate(
        {"price": {"net": {"amount": "8.00"}, "gross": {"amount": "9.84"}}}
    )
    assert sale_price(Decimal("10.00"), pricing, gross=True) == Decimal("9.84")
    assert sale_price(Decimal("10.00"), pricing, gross=False) == Decimal("8.00")
    assert sale_price(Decimal("10.00"), None, gross=True) == Decimal("10.00")


@pytest.mark.parametrize(
    ("body", "reprices"),
    [
        ({"promotion": {"type": "CATALOGUE"}}, True),
        ({"promotion": {"type": None}}, True),  # a sale from before promotions
        ({"promotion": {"type": "ORDER"}}, False),
        ({"promotionRule": {"predicateType": "CATALOGUE"}}, True),
        ({"promotionRule": {"predicateType": "ORDER"}}, False),
        ({"sale": {"id": "U2FsZTox"}}, True),  # SALE_*: sales are catalogue promotions
    ],
)
def test_which_promotion_events_reprice(body: dict[str, Any], reprices: bool) -> None:
    assert _PromotionBody.model_validate(body).changes_prices() is reprices


async def test_a_debounced_job_takes_the_later_schedule(shop: Shop, clock: ManualClock) -> None:
    """`enqueue(..., later=True)`: merged into the pending job of its key, the later time."""
    at = [clock.now() + timedelta(minutes=m) for m in (2, 5, 3)]
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        for run_after in at:
            await JobRepository(session).enqueue(
                installation_id, "test.debounced", {}, coalesce_key="k", run_after=run_after,
                later=True,
            )  # fmt: skip
    async with shop.services.db.session() as session:
        [job] = list(await session.scalars(select(Job).where(Job.kind == "test.debounced")))
    assert job.run_after == at[1]


async def test_saleor_3_23_tells_each_new_discounted_price(shop: Shop) -> None:
    """PRODUCT_VARIANT_DISCOUNTED_PRICE_UPDATED (registered by the app where Saleor has it):
    a price edit of a variant under a promotion, which Saleor first stores undiscounted, then
    recalculates, reaches Mailchimp discounted without waiting for a re-price."""
    tee = await shop.product("Tee", "20.00")
    await shop.drain()
    await shop.saleor.promotions.create(
        "Summer",
        [{"channels": [CHANNEL], "product_ids": [tee.id], "reward_value": 25}],
    )
    await shop.saleor.promotions.recalculate()
    await shop.drain()  # no clock moved: the event itself
    assert _prices(shop, tee.global_id) == [15.0]
    await shop.saleor.set_price(tee.variants[0], CHANNEL, Decimal("40.00"))
    await shop.drain()
    assert _prices(shop, tee.global_id) == [40.0]  # as Saleor has it until it recalculates
    await shop.saleor.promotions.recalculate()
    await shop.drain()
    assert _prices(shop, tee.global_id) == [30.0]


async def _on_3_20_with_a_promotion(shop: Shop, clock: ManualClock) -> Any:
    """Saleor 3.20 (no event of a discounted price stored); a tee at 20.00, 25 % off."""
    shop.saleor.version = OLDEST_VERSION
    async with shop.services.db.transaction() as session:  # as the app read it from Saleor
        await session.execute(update(Installation).values(saleor_version=OLDEST_VERSION))
    tee = await shop.product("Tee", "20.00")
    await shop.drain()
    await shop.saleor.promotions.create(
        "Summer", [{"channels": [CHANNEL], "product_ids": [tee.id], "reward_value": 25}]
    )
    await shop.drain()
    await shop.saleor.promotions.recalculate()
    clock.advance(REPRICE_AGAIN.total_seconds())
    await shop.drain()
    assert _prices(shop, tee.global_id) == [15.0]
    return tee


async def _rechecks_waiting(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        waiting = await session.scalars(
            select(Job).where(Job.kind == RECHECK_JOB, Job.status == JobStatus.PENDING)
        )
        return len(list(waiting))


async def test_before_3_23_a_price_edit_is_read_again_once_discounted(
    shop: Shop, clock: ManualClock
) -> None:
    """Saleor stores a price edit of a variant under a promotion undiscounted, and discounts it
    at its next periodic recalculation, which tells apps nothing before 3.23: Mailchimp kept
    the full price until the promotion next changed. The edit's event now queues rechecks of
    the product, `REPRICE_DELAY` and `REPRICE_AGAIN` later (`ecommerce/price_recheck.py`)."""
    tee = await _on_3_20_with_a_promotion(shop, clock)
    await shop.saleor.set_price(tee.variants[0], CHANNEL, Decimal("40.00"))
    await shop.drain()
    assert _prices(shop, tee.global_id) == [40.0]  # as Saleor has it until it recalculates
    await shop.saleor.promotions.recalculate()  # Saleor's task: no event before 3.23
    await shop.drain()
    assert _prices(shop, tee.global_id) == [40.0]
    clock.advance(REPRICE_DELAY.total_seconds())
    await shop.drain()

    assert _prices(shop, tee.global_id) == [30.0]
    assert await _rechecks_waiting(shop) == 1  # the later pass
    clock.advance(REPRICE_AGAIN.total_seconds())
    await shop.drain()
    assert await _rechecks_waiting(shop) == 0


async def test_before_3_23_a_late_recalculation_is_read_by_the_later_pass(
    shop: Shop, clock: ManualClock
) -> None:
    """Saleor's task queue busy (a bulk import): the recalculation comes after the first
    recheck; the second, `REPRICE_AGAIN` after the edit, reads it."""
    tee = await _on_3_20_with_a_promotion(shop, clock)
    await shop.saleor.set_price(tee.variants[0], CHANNEL, Decimal("40.00"))
    await shop.drain()
    clock.advance(REPRICE_DELAY.total_seconds())
    await shop.drain()
    assert _prices(shop, tee.global_id) == [40.0]
    await shop.saleor.promotions.recalculate()
    clock.advance((REPRICE_AGAIN - REPRICE_DELAY).total_seconds())
    await shop.drain()

    assert _prices(shop, tee.global_id) == [30.0]


async def test_a_recheck_leaves_a_product_mailchimp_does_not_hold_synced(
    shop: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record not synced (refused here; pending in a burst not applied, say) is left to its
    own push: a recheck's push of it would overtake the burst, or be refused again."""
    tee = await _on_3_20_with_a_promotion(shop, clock)

    async def refused(self: MailchimpClient, *args: Any, **kwargs: Any) -> Any:
        raise BadRequest("Invalid Resource", status=400, title="Invalid Resource")

    monkeypatch.setattr(MailchimpClient, "create_product", refused)
    cap = await shop.product("Cap", "12.00")
    await shop.drain()
    assert (await shop.record(EntityKind.PRODUCT, cap.global_id)).status is SyncStatus.QUARANTINED
    await shop.saleor.set_price(tee.variants[0], CHANNEL, Decimal("40.00"))
    await shop.drain()
    async with shop.services.db.session() as session:
        before = await session.scalar(select(func.max(Job.id)))
    clock.advance(REPRICE_DELAY.total_seconds())
    await shop.drain()

    async with shop.services.db.session() as session:
        pushed = await session.scalars(
            select(Job.payload).where(Job.kind == PUSH_JOB, Job.id > (before or 0))
        )
        assert sorted(p["saleor_id"] for p in pushed) == [tee.global_id]


async def test_from_3_23_no_recheck_is_queued(shop: Shop) -> None:
    """Saleor tells each discounted price it stores (the test above this one's): no recheck."""
    tee = await shop.product("Tee", "20.00")
    await shop.saleor.set_price(tee.variants[0], CHANNEL, Decimal("40.00"))
    await shop.drain()
    async with shop.services.db.session() as session:
        rechecks = await session.scalars(select(Job).where(Job.kind == RECHECK_JOB))
        assert list(rechecks) == []
