"""What could not reach Mailchimp while the connection was revoked or reset reaches it once the
same account is connected again (`addon/ecommerce/reconnected.py`): each such push ended at
once, its record left pending with no job, and nothing else sent it (the initial sync skips a
pending record)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from addon.connection.linking import RESUMED_KIND
from addon.db.types import utcnow
from addon.ecommerce.models import PUSH_JOB, EntityKind, SyncStatus
from addon.ecommerce.push_queue import ledger_key
from addon.initial_sync.models import InitialSync
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from tests.ecommerce.conftest import CHANNEL, Shop


async def _unfinished_pushes(shop: Shop, kind: EntityKind, saleor_id: str) -> int:
    async with shop.services.db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.kind == PUSH_JOB,
                Job.lane == ledger_key(CHANNEL, kind, saleor_id),
                Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
            )
        )
    return int(count or 0)


async def _order_while_revoked(shop: Shop) -> Any:
    """An order placed while the app's key is refused (a 401): its push ends at once, the
    record left pending with no job."""
    # The channel's history was sent once: the page says new changes go as they happen.
    async with shop.services.db.transaction() as session:
        installation_id = (await session.scalars(select(Installation.id))).one()
        session.add(
            InitialSync(
                installation_id=installation_id,
                channel_slug=CHANNEL,
                status="succeeded",
                finished_at=utcnow(),
            )
        )
    pear = await shop.product("Pear", "2.00")
    await shop.drain()
    shop.mailchimp.revoke(shop.account)  # the app's key deleted in Mailchimp
    store = shop.saleor.store
    order = await shop.saleor.create_order(
        CHANNEL,
        [store.order_line_for(pear.variants[0], 1, CHANNEL)],
        email="ann@example.com",
        checkout_token=uuid.uuid4(),
    )
    await shop.drain()
    assert (await shop.api("GET", "/api/connection")).json()["status"] == "revoked"
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    assert await _unfinished_pushes(shop, EntityKind.ORDER, order.global_id) == 0
    assert not shop.orders()
    return order


async def test_an_order_placed_while_revoked_reaches_mailchimp_after_reconnecting(
    shop: Shop,
) -> None:
    order = await _order_while_revoked(shop)
    # A new key of the same account: it resumes, and the order goes.
    response = await shop.api(
        "POST", "/api/connection/api-key", {"api_key": shop.mailchimp.add_api_key(shop.account)}
    )
    assert response.json()["continuity"] == "resumed", response.text
    await shop.drain()
    assert len(shop.orders()) == 1
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_an_order_placed_while_revoked_goes_once_a_check_finds_the_key_working(
    shop: Shop,
) -> None:
    key = shop.account.api_key
    order = await _order_while_revoked(shop)
    shop.mailchimp.reinstate(key)  # the refusal passed
    check = await shop.api("POST", "/api/connection/check", {})
    assert check.json()["connection"]["status"] == "connected", check.text
    await shop.drain()
    assert len(shop.orders()) == 1
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    # A check of a connection that was never revoked resumes nothing.
    await shop.api("POST", "/api/connection/check", {})
    async with shop.services.db.session() as session:
        resumed = (await session.scalars(select(Job).where(Job.kind == RESUMED_KIND))).all()
    assert len(resumed) == 1


async def test_a_change_made_while_reset_is_sent_once_on_reconnecting(shop: Shop) -> None:
    plum = await shop.product("Plum", "3.00")
    await shop.drain()
    reset = await shop.api("POST", "/api/connection/reset", {})
    assert reset.status_code == 200, reset.text
    await shop.saleor.update_product(plum, name="Plum (ripe)")
    await shop.drain()
    assert [p.title for p in shop.products().values()] == ["Plum"]

    response = await shop.api("POST", "/api/connection/api-key", {"api_key": shop.account.api_key})
    assert response.json()["continuity"] == "resumed", response.text
    # A push of the record queued meanwhile (another change) is not queued twice.
    await shop.saleor.update_product(plum, name="Plum (ripe)")
    async with shop.services.db.session() as session:
        resumed = await session.scalar(select(Job).where(Job.kind == RESUMED_KIND))
    assert resumed is not None and resumed.status is JobStatus.PENDING
    await shop.drain()
    assert await _unfinished_pushes(shop, EntityKind.PRODUCT, plum.global_id) == 0
    assert [p.title for p in shop.products().values()] == ["Plum (ripe)"]
    record = await shop.record(EntityKind.PRODUCT, plum.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_connecting_another_account_asks_for_the_initial_sync(shop: Shop) -> None:
    await shop.api("POST", "/api/connection/reset", {})
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    body = response.json()
    assert body["continuity"] == "started_clean", body
    assert "run the initial sync" in body["message"]
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Job).where(Job.kind == RESUMED_KIND)) is None
