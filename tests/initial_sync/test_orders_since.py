"""`orders_since`: the sync reads and sends only the orders created since then (Saleor filters
them). It names a moment: a date and time without its offset is refused (422, in the app's
error shape) rather than failing at the insert with a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import InitialSync
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import finish, progress, start


async def test_orders_since_without_an_offset_is_refused(shop: Shop) -> None:
    path = f"/api/ecommerce/channels/{CHANNEL}/initial-sync"
    refused = await shop.api("POST", path, {"orders_since": "2024-01-01T00:00:00"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == {
        "code": "INVALID_INPUT",
        "message": "Orders since must include its time zone (an offset such as +01:00).",
    }
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InitialSync)) == 0
    started = await start(shop, {"orders_since": "2024-01-01T00:00:00+01:00"})
    since = datetime.fromisoformat(started["orders_since"])
    assert since == datetime(2023, 12, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_orders_since_without_a_utc_form_is_refused(shop: Shop, since: str) -> None:
    path = f"/api/ecommerce/channels/{CHANNEL}/initial-sync"
    refused = await shop.api("POST", path, {"orders_since": since})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == {
        "code": "INVALID_INPUT",
        "message": "Orders since is outside the years 1 to 9999 in UTC.",
    }
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InitialSync)) == 0


async def test_orders_since_a_moment_to_come_is_refused(shop: Shop) -> None:
    """As the command refuses it (`parse_orders_since`): a sync that could send no order."""
    path = f"/api/ecommerce/channels/{CHANNEL}/initial-sync"
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    refused = await shop.api("POST", path, {"orders_since": later})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["message"] == (
        "Orders since is in the future: no order would be sent."
    )
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(InitialSync)) == 0
    started = await start(shop, {"orders_since": utcnow().isoformat()})
    assert started["orders_since"]


async def test_orders_since_a_date_sends_only_newer_orders(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=10, orders=40, seed=11)
    orders = sorted(shop.saleor.store.orders.values(), key=lambda o: o.created)
    since = orders[25].created
    await start(shop, {"orders_since": since.isoformat()})
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert set(shop.orders()) == {str(o.id) for o in orders if o.created >= since}
    kinds = {k["kind"]: k for k in (await progress(shop))["kinds"]}
    # Saleor filters them (`where: {createdAt: {gte}}`): older orders are never read.
    assert kinds["order"]["total"] == kinds["order"]["read"] == len(orders) - 25
    assert kinds["order"]["confirmed"] == len(orders) - 25
    assert kinds["order"]["skipped"] == 0
