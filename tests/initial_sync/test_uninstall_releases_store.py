"""An uninstall mid-sync clears the store's `is_syncing` before the installation's credentials
are erased: only they reach the store, and Mailchimp holds its automations (order
notifications, abandoned-cart e-mails) until the flag is cleared. Before, the store the
uninstall keeps (with its products and orders) stayed marked as syncing for good."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.initial_sync.holds import SEND_MAY_LAND
from addon.initial_sync.models import BatchStatus, InitialSyncBatch
from addon.installations.models import Installation, InstallationErasure, MailchimpCleanup
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, StorePatch
from addon.mailchimp.errors import TransientError
from tests.conftest import RecordingTransport
from tests.ecommerce.batch_faults import BatchFaults, Mode
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import first_batch_held, is_syncing, make_due, run_jobs, start


async def test_an_uninstall_mid_sync_stops_its_batch_and_releases_the_store(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    assert is_syncing(shop)
    assert shop.mailchimp.batches(shop.account)  # held at Mailchimp, not run yet

    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()

    assert not is_syncing(shop)  # the store kept, its automations no longer held
    # Its batches were stopped first: run with the automations on, they would have sent
    # notifications for old orders.
    assert shop.mailchimp.batches(shop.account) == []
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Installation)) is None
        [erasure] = await session.scalars(select(InstallationErasure))
    assert erasure.mailchimp_cleanup is MailchimpCleanup.DONE


async def test_a_batch_queued_to_be_sent_again_no_longer_holds_the_store(small: Shop) -> None:
    """A batch the sync would send (again) holds a store while the sync may go on: cleared, it
    would land with the automations on. The uninstall dropped the step that would send it."""
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    async with shop.services.db.transaction() as session:
        [sent] = (await session.scalars(select(InitialSyncBatch).limit(1))).all()
        session.add(
            InitialSyncBatch(
                installation_id=sent.installation_id,
                sync_id=sent.sync_id,
                kind=sent.kind,
                mailchimp_batch_id="",
                status=BatchStatus.QUEUED,
            )
        )

    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()

    assert not is_syncing(shop)


async def test_mailchimp_not_answering_the_release_is_tried_again(
    small: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The carts and webhooks gone, the release alone fails (Mailchimp down): the uninstall
    job tries again with its backoff rather than erasing the installation with the store
    still held."""
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    real = MailchimpClient.update_store
    down = [True]

    async def update_store(self: MailchimpClient, store_id: str, patch: StorePatch) -> Any:
        if down[0] and patch.is_syncing is False:
            raise TransientError("Mailchimp is down", status=503)
        return await real(self, store_id, patch)

    monkeypatch.setattr(MailchimpClient, "update_store", update_store)
    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()
    assert is_syncing(shop)
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Installation)) is not None  # waits, to try again

    down[0] = False
    clock.advance(3600)
    await Worker(shop.services).run_until_idle()

    assert not is_syncing(shop)
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Installation)) is None


async def _sent_with_no_answer(shop: Shop, outbound: RecordingTransport, mode: Mode) -> None:
    """The sync's first batch sent, its outcome unknown (`mode`: Mailchimp created it and the
    answer was lost, or a 503 created nothing)."""
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    shop.saleor.generate_store(products=5, customers=0, orders=0, seed=3)
    await start(shop)
    await run_jobs(shop, 1)  # the store is flagged
    faults.mode = mode
    await make_due(shop)
    assert await Worker(shop.services).run_once()
    faults.mode = "off"
    async with shop.services.db.session() as session:
        [row] = await session.scalars(select(InitialSyncBatch))
    assert row.status is BatchStatus.UNKNOWN
    assert is_syncing(shop)


async def _installation(shop: Shop) -> Installation | None:
    async with shop.services.db.session() as session:
        return await session.scalar(select(Installation))


async def test_a_send_with_no_answer_that_created_nothing_no_longer_holds_the_store(
    small: Shop, outbound: RecordingTransport, clock: ManualClock
) -> None:
    """Fails before the fix: a send with an unknown outcome kept the store held for good, the
    installation erased. Mailchimp lists no batch it may have created: nothing can land."""
    shop = small
    await _sent_with_no_answer(shop, outbound, "503")
    clock.advance(SEND_MAY_LAND.total_seconds())

    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()

    assert not is_syncing(shop)
    assert await _installation(shop) is None


async def test_a_lost_batch_mailchimp_may_still_run_is_waited_for(
    small: Shop, outbound: RecordingTransport, clock: ManualClock
) -> None:
    """Mailchimp holds the batch the lost send created, unfinished, its id unknown: cleared
    now, it would run with the automations on. The uninstall job waits for it to finish."""
    shop = small
    shop.mailchimp.batches_paused = True
    await _sent_with_no_answer(shop, outbound, "lose")
    clock.advance(SEND_MAY_LAND.total_seconds())

    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()
    assert is_syncing(shop)
    assert await _installation(shop) is not None  # waits, to try again

    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    clock.advance(3600)
    await Worker(shop.services).run_until_idle()

    assert not is_syncing(shop)
    assert await _installation(shop) is None
