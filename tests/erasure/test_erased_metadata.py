"""A customer erased from the customer panel stays in Saleor, but what the app wrote on them
goes: their status, groups and address in each audience (public and private metadata) and
their campaign engagement (private). Before, it stayed on the customer for good. The
storefront's consent keys and other apps' keys stay."""

from __future__ import annotations

from sqlalchemy import update

from addon.db.types import utcnow
from addon.engagement.metadata import SUMMARY_KEY, TAGS_PREFIX
from addon.engagement.models import EngagementSettings, RunState
from addon.erasure.saleor_metadata import METADATA_JOB
from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE, STATUS_PREFIX
from tests.ecommerce.conftest import Shop
from tests.erasure.test_erasure import _customer_with_history, _users_only


async def test_the_app_s_metadata_leaves_a_customer_erased_from_the_panel(shop: Shop) -> None:
    customer, _, _ = await _customer_with_history(shop)
    stored = shop.saleor.store.customers[customer.id]
    assert stored.metadata[STATUS_PREFIX + shop.list_id] == "subscribed"  # written back
    stored.metadata["loyalty.tier"] = "gold"  # another app's
    engagement = {SUMMARY_KEY: '{"opens":3}', TAGS_PREFIX + shop.list_id: '["vip"]'}
    stored.private_metadata.update({**engagement, "crm.id": "42"})

    erased = await shop.client.post(
        f"/api/erasure/customers/{customer.global_id}", headers=_users_only(shop)
    )
    assert erased.status_code == 202, erased.text
    await shop.drain()

    stored = shop.saleor.store.customers[customer.id]
    assert not [k for k in stored.metadata if k.startswith("mailchimp.") and "consent" not in k]
    assert stored.metadata[CONSENT_SUBSCRIBE] == "true"  # the storefront's record
    assert stored.metadata["loyalty.tier"] == "gold"
    assert dict(stored.private_metadata) == {"crm.id": "42"}


async def test_the_deletion_waits_for_an_engagement_collection_running(shop: Shop) -> None:
    """A collection's writer sends pages it read before: one holding the customer, read before
    the erasure forgot them, would write their engagement back after the deletion."""
    customer, _, _ = await _customer_with_history(shop)
    async with shop.services.db.transaction() as session:
        await session.execute(update(EngagementSettings).values(state=RunState.RUNNING))
    erased = await shop.client.post(
        f"/api/erasure/customers/{customer.global_id}", headers=_users_only(shop)
    )
    assert erased.status_code == 202, erased.text
    await shop.drain()
    stored = shop.saleor.store.customers[customer.id]
    assert stored.metadata[STATUS_PREFIX + shop.list_id] == "subscribed"  # not yet

    async with shop.services.db.transaction() as session:
        await session.execute(update(EngagementSettings).values(state=RunState.IDLE))
        await session.execute(
            update(Job).where(Job.kind == METADATA_JOB).values(run_after=utcnow())
        )
    await shop.drain()
    stored = shop.saleor.store.customers[customer.id]
    assert STATUS_PREFIX + shop.list_id not in stored.metadata
