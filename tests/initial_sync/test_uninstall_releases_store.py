"""An uninstall mid-sync clears the store's `is_syncing` before the installation's credentials
are erased: only they reach the store, and Mailchimp holds its automations (order
notifications, abandoned-cart e-mails) until the flag is cleared. Before, the store the
uninstall keeps (with its products and orders) stayed marked as syncing for good."""

from __future__ import annotations

from sqlalchemy import select

from addon.installations.models import Installation, InstallationErasure, MailchimpCleanup
from addon.jobs.worker import Worker
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
