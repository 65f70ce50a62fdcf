"""Orders Mailchimp attributes to a campaign follow what Mailchimp holds: an order edited,
moved to another buyer or deleted there (the e-commerce sync does so when it changes in Saleor)
changes what is written on the customers, once a campaign's orders were read in full."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from addon.engagement import campaign_passes, repository
from addon.engagement.metadata import SUMMARY_KEY
from addon.engagement.models import EngagementOrder
from addon.jobs.worker import Worker
from addon.mailchimp.campaigns import CampaignReads
from tests.engagement.conftest import ALICE, BOB, Engagement, FailingNth


def _summary(e: Engagement, email: str) -> dict[str, Any]:
    return dict(json.loads(e.private(email)[SUMMARY_KEY]))


async def _order_call(e: Engagement, method: str, order_id: str, body: Any = None) -> None:
    answer = await e.shop.mailchimp.call(
        e.shop.account, method, f"/ecommerce/stores/{e.shop.store_id}/orders/{order_id}", body=body
    )
    assert answer.status in (200, 204), answer.body


async def _next_run(e: Engagement) -> None:
    e.clock.advance(3600)
    await e.collect()


async def _attributed(e: Engagement) -> list[tuple[str, str, int]]:
    async with e.services.db.session() as session:
        rows = await session.execute(
            select(EngagementOrder.order_id, EngagementOrder.campaign_id,
                   EngagementOrder.total_cents)
            .order_by(EngagementOrder.order_id)
        )  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_an_order_whose_total_changed_is_written_again(e: Engagement) -> None:
    campaign = e.send("Sale", e.at(days=-2))
    await e.order("o-1", ALICE, campaign, 100.0)
    await e.collect()
    assert _summary(e, ALICE)["attributed_revenue"] == {"USD": "100.00"}

    # Partly refunded in Saleor: the e-commerce sync sends Mailchimp the order's new total.
    await _order_call(e, "PATCH", "o-1", {"order_total": 40.0})
    await _next_run(e)

    assert _summary(e, ALICE)["attributed_revenue"] == {"USD": "40.00"}
    async with e.services.db.session() as session:
        alice = await repository.customer_engagement(
            session, e.installation_id, e.customers[ALICE].global_id
        )
    assert alice is not None and [o.total for o in alice.attributed_orders] == [Decimal("40.00")]


async def test_an_order_moved_to_another_buyer_leaves_the_first_and_reaches_the_second(
    e: Engagement,
) -> None:
    campaign = e.send("Sale", e.at(days=-2))
    await e.order("o-1", ALICE, campaign, 25.0)
    await e.collect()
    assert (_summary(e, ALICE)["attributed_orders"], _summary(e, BOB)["attributed_orders"]) == (
        1,
        0,
    )

    # Mailchimp keeps an order's customer: a new buyer is the order deleted and sent again.
    await _order_call(e, "DELETE", "o-1")
    await e.order("o-1", BOB, campaign, 25.0, customer="c-bob")
    await _next_run(e)

    assert _summary(e, ALICE)["attributed_orders"] == 0
    assert _summary(e, BOB)["attributed_orders"] == 1
    assert _summary(e, BOB)["attributed_revenue"] == {"USD": "25.00"}


async def test_an_order_deleted_in_mailchimp_is_no_longer_attributed(e: Engagement) -> None:
    sale, news = e.send("Sale", e.at(days=-2)), e.send("News", e.at(days=-1))
    await e.order("o-1", ALICE, sale, 100.0)
    await e.order("o-2", ALICE, news, 30.0, customer="c-o-1")  # one customer an address
    await e.collect()
    assert _summary(e, ALICE)["attributed_orders"] == 2

    # Deleted in Saleor: the e-commerce sync deletes it from Mailchimp.
    await _order_call(e, "DELETE", "o-1")
    await _next_run(e)

    summary = _summary(e, ALICE)
    assert summary["attributed_orders"] == 1 and summary["attributed_revenue"] == {"USD": "30.00"}
    assert await _attributed(e) == [("o-2", news, 3000)]  # the other campaign's is kept


async def test_orders_read_in_part_remove_none(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A campaign's orders read one a page: a run failing on the second page removes nothing
    (the first page is not all the campaign's orders); its retry reads them all."""
    monkeypatch.setattr(campaign_passes, "ORDER_PAGE", 1)
    campaign = e.send("Sale", e.at(days=-2))
    await e.order("o-1", ALICE, campaign, 10.0)
    await e.order("o-2", BOB, campaign, 20.0)
    await e.collect()
    attributed = await _attributed(e)
    assert attributed == [("o-1", campaign, 1000), ("o-2", campaign, 2000)]
    written = len(e.metadata_writes())

    # A 400: the client retries a 5xx itself, after a wait on the test's clock.
    e.outbound.inner = FailingNth(e.outbound.inner, b"ecommerce/orders?campaign_id=", 2, 400)
    await _next_run(e)

    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
    assert run.state == "running" and run.last_error is not None
    assert await _attributed(e) == attributed
    e.clock.advance(3600)
    await Worker(e.services).run_until_idle()
    assert await _attributed(e) == attributed
    assert len(e.metadata_writes()) == written  # nothing changed for anyone
    assert _summary(e, BOB)["attributed_revenue"] == {"USD": "20.00"}


async def test_an_order_deleted_while_its_campaign_s_orders_are_read_misses_none(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails before the fix: read by offset, two a page, an order deleted after the first page
    moved the third back into it; the second page missed it, and the run took it for one no
    longer the campaign's. Pages overlap now."""
    monkeypatch.setattr(campaign_passes, "ORDER_PAGE", 2)
    campaign = e.send("Sale", e.at(days=-2))
    await e.order("o-1", ALICE, campaign, 10.0)
    await e.order("o-2", ALICE, campaign, 20.0, customer="c-o-1")  # one customer an address
    await e.order("o-3", BOB, campaign, 30.0)
    await e.collect()
    assert [row[0] for row in await _attributed(e)] == ["o-1", "o-2", "o-3"]

    real = CampaignReads.attributed_orders
    pages: list[int] = []

    async def deleting(self: CampaignReads, *args: Any, **kwargs: Any) -> Any:
        page = await real(self, *args, **kwargs)
        pages.append(kwargs.get("offset", 0))
        if len(pages) == 1:  # deleted in Mailchimp right after the first page was read
            await _order_call(e, "DELETE", "o-1")
        return page

    monkeypatch.setattr(CampaignReads, "attributed_orders", deleting)
    await _next_run(e)

    assert "o-3" in [row[0] for row in await _attributed(e)]
    assert _summary(e, BOB)["attributed_revenue"] == {"USD": "30.00"}
