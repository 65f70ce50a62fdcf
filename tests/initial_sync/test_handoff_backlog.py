"""History an initial sync handed to live sync lands while `is_syncing` still holds the store's
automations, however long the pushes take to run (`addon/initial_sync/handoff.py`): a backlog
is waited for past `HANDOFF_LIMIT`; before, the sync cleared the flag 15 minutes into the wait
and the waiting pushes created year-old orders with their Invoice e-mails on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.sync import PUSH_JOB
from addon.initial_sync.handoff import HANDOFF_LIMIT
from addon.initial_sync.models import InitialSync
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import make_due, progress, start

ORDERS = 8


async def _hold_pushes(shop: Shop) -> int:
    """The live pushes wait their turn (a busy worker, a slow Mailchimp): not run yet."""
    async with shop.services.db.transaction() as session:
        result = await session.execute(
            update(Job)
            .where(Job.status == JobStatus.PENDING, Job.kind == PUSH_JOB)
            .values(run_after=utcnow() + timedelta(days=30))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def _run_held(shop: Shop, worker: Worker) -> None:
    """The sync's steps run (and Mailchimp's batches), its pushes never: what is due now, and
    what waited for a backoff or a poll (made due once: each round would keep a step looking
    at the handed-over pushes through every round)."""
    await make_due(shop)
    for _ in range(50):
        await shop.mailchimp.drain_batches()
        await _hold_pushes(shop)
        if not await worker.run_once():
            return


async def _latest(shop: Shop) -> InitialSync:
    async with shop.services.db.session() as session:
        run = await session.scalar(select(InitialSync).order_by(InitialSync.id.desc()))
    assert run is not None
    return run


def _syncing(shop: Shop) -> bool:
    [store] = [s for s in shop.mailchimp.stores(shop.account) if s.id == shop.store_id]
    return bool(store.is_syncing)


async def test_year_old_orders_handed_to_live_sync_send_no_emails(
    small: Shop, clock: ManualClock
) -> None:
    shop = small
    store = shop.saleor.store
    # Products sold, then deleted before the app ever saw them: each order goes to live sync,
    # which sends the line's placeholder product first (`products_first.py`).
    for i in range(ORDERS):
        herb = store.create_product(
            f"Herb{i}", [VariantSpec(sku=f"H{i}-0", name=f"Herb {i}", price=Decimal("5.00"))]
        )
        store.create_order(lines=[store.order_line_for(herb.variants[0])], email=f"b{i}@ex.com")
        store.delete_product(herb)
    clock.advance(400 * 86400)  # the orders are history
    await shop.drain()
    await start(shop)
    worker = Worker(shop.services)
    for _ in range(100):
        await _run_held(shop, worker)
        if (await _latest(shop)).draining_since is not None:
            break
    assert (await _latest(shop)).draining_since is not None
    assert await _hold_pushes(shop) == ORDERS

    # Far past the limit, the pushes still waiting their turn: a backlog, not a stall.
    for _ in range(12):  # an hour, the sync's step looking every few minutes
        clock.advance(HANDOFF_LIMIT.total_seconds() / 3)
        await _run_held(shop, worker)
    assert (await _latest(shop)).status is RunStatus.RUNNING
    assert _syncing(shop)
    shown = await progress(shop)
    assert shown["summary"] == (
        f"Finishing: every kind is done; {ORDERS} records that could not go in a batch are "
        "being sent one by one, then the store is marked as synced."
    )

    # They run (the sync's step in between), the store's automations still paused.
    await shop.drain()
    for _ in range(5):
        await make_due(shop)
        await worker.run_until_idle()
    run = await _latest(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert not _syncing(shop)
    assert sorted(shop.orders()) == [str(n) for n in range(1, ORDERS + 1)]
    assert shop.mailchimp.notifications(shop.account, shop.store_id) == []
