"""The daily cart sweep: carts of checkouts Saleor deleted without a webhook (its expiry task)
are deleted from Mailchimp; carts of checkouts still there stay (`ecommerce/cart_sweep.py`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from addon.capabilities import start_up
from addon.clock import ManualClock
from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.db.types import utcnow
from addon.ecommerce.cart_sweep import PAGE, QUIET_FOR, SWEEP_JOB
from addon.ecommerce.daily_sweep import SWEEP_EVERY
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.jobs.models import Job, JobStatus
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import CHANNEL, Shop


async def _pending_sweeps(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(
            await session.scalars(
                select(Job).where(Job.kind == SWEEP_JOB, Job.status == JobStatus.PENDING)
            )
        )


def _existence_reads(outbound: RecordingTransport) -> int:
    return sum(b"EcommerceCheckoutsExist" in r.content for r in outbound.requests)


async def test_carts_of_checkouts_saleor_expired_are_deleted(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    product = await shop.product("Kale", "3.00")
    checkouts = [
        await shop.saleor.create_checkout(
            lines=[LineSpec(product.variants[0].id, 1)], email=f"k{i}@example.com"
        )
        for i in range(PAGE + 2)  # two pages of look-ups
    ]
    await shop.drain()
    assert set(shop.carts()) == {str(c.token) for c in checkouts}
    [sweep] = await _pending_sweeps(shop)  # queued when the channel was tracked
    assert sweep.run_after is not None

    # Saleor's clean-up deletes the first two, idle for 91 days, and tells no one.
    store = shop.saleor.store
    idle = store.get_checkout(checkouts[0].token).last_change - timedelta(days=91)
    for checkout in checkouts[:2]:
        store.get_checkout(checkout.token).last_change = idle
    expired = store.delete_expired_checkouts(store.get_checkout(checkouts[2].token).last_change)
    assert {c.token for c in expired} == {checkouts[0].token, checkouts[1].token}

    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert set(shop.carts()) == {str(c.token) for c in checkouts[2:]}
    assert _existence_reads(outbound) == 2  # 27 carts, 25 to a request
    for checkout in checkouts[:2]:
        record = await shop.record(EntityKind.CART, checkout.global_id)
        assert record is not None and record.status is SyncStatus.REMOVED
    assert sorted(w for w in shop.writes() if w.startswith("DELETE")) == sorted(
        f"DELETE /carts/{c.token}" for c in checkouts[:2]
    )
    # The next sweep is a day away.
    [next_sweep] = await _pending_sweeps(shop)
    assert next_sweep.run_after is not None
    assert next_sweep.run_after.replace(tzinfo=None) >= (
        utcnow() + SWEEP_EVERY - timedelta(minutes=1)
    ).replace(tzinfo=None)


async def test_carts_changed_lately_are_not_looked_up(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    product = await shop.product("Leek", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="leek@example.com"
    )
    await shop.drain()
    clock.advance(SWEEP_EVERY.total_seconds() - QUIET_FOR.total_seconds() / 2)
    await shop.saleor.update_checkout(checkout, set_quantities={product.variants[0].id: 2})
    await shop.drain()
    clock.advance(QUIET_FOR.total_seconds() / 2)
    await shop.drain()
    assert _existence_reads(outbound) == 0
    assert str(checkout.token) in shop.carts()


async def test_a_process_start_queues_a_missing_sweep(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:
        for job in await _pending_sweeps(shop):
            await session.delete(await session.get(Job, job.id))
    assert await _pending_sweeps(shop) == []
    await start_up(shop.services)
    await start_up(shop.services)  # merged, not doubled
    assert len(await _pending_sweeps(shop)) == 1


async def _set_connection(shop: Shop, status: ConnectionStatus) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=status))


async def test_a_sweep_while_mailchimp_is_disconnected_waits_for_the_next_day(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    """Its pushes could delete nothing (and would leave the carts pending for good): it looks
    nothing up, and the next day's sweep, connected again, deletes the cart."""
    product = await shop.product("Okra", "1.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="okra@example.com"
    )
    await shop.drain()
    shop.saleor.store.delete_checkout(shop.saleor.store.get_checkout(checkout.token))
    await _set_connection(shop, ConnectionStatus.REVOKED)
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert _existence_reads(outbound) == 0
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert len(await _pending_sweeps(shop)) == 1

    await _set_connection(shop, ConnectionStatus.CONNECTED)
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert str(checkout.token) not in shop.carts()


async def test_sweeps_stop_once_no_channel_is_tracked(shop: Shop, clock: ManualClock) -> None:
    response = await shop.api("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": False})
    assert response.status_code == 200, response.text
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert await _pending_sweeps(shop) == []
    # Tracked again: sweeps again.
    response = await shop.api(
        "PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": shop.list_id}
    )
    assert response.status_code == 200, response.text
    assert len(await _pending_sweeps(shop)) == 1
