"""An uninstall mid-sync clears the store's `is_syncing` before the installation's credentials
are erased: only they reach the store, and Mailchimp holds its automations (order
notifications, abandoned-cart e-mails) until the flag is cleared. Before, the store the
uninstall keeps (with its products and orders) stayed marked as syncing for good."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.initial_sync.models import BatchStatus, InitialSyncBatch
from addon.installations.models import Installation, InstallationErasure, MailchimpCleanup
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, StorePatch
from addon.mailchimp.errors import TransientError
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import first_batch_held, is_syncing


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
