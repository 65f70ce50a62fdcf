"""An audience deleted in Mailchimp after the app imported it (`gone_audience.py`): a shopper's
change of it is dropped, not retried (Mailchimp answers 404 for the list), so it neither fails
nor holds up the contact's other changes, and the audiences are imported again so it is no
longer offered. A customer's status in it is written back as `archived` (its contacts went
with it), never left `subscribed`."""

from __future__ import annotations

from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.gone_audience import GONE_AUDIENCE
from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_SUBSCRIBE, STATUS_PREFIX
from addon.subscriptions.repository import ContactRepository
from tests.subscriptions.conftest import Shop, _account_page, _metadata, _subscribed_customer
from tests.subscriptions.test_consent import _order
from tests.test_saleor_versions import stored


async def test_a_subscription_to_an_audience_deleted_since_the_import_is_dropped(
    newsletter: Shop,
) -> None:
    """Deals is deleted in Mailchimp; before the next import a shopper consents to it at
    checkout: the change ends done (no failure on Activity), and Deals is no longer offered."""
    shop = newsletter
    deals = shop.ids["deals"]
    await shop.mc("DELETE", f"/lists/{deals}")

    await _order(shop, "eve@example.com", {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: deals})
    for _ in range(6):  # past every retry's delay, were it retried
        await shop.work()
        async with shop.services.db.transaction() as session:
            await session.execute(
                update(Job)
                .where(Job.status == JobStatus.PENDING, Job.kind == "subscriptions.apply")
                .values(run_after=utcnow())
            )
    await shop.work()

    async with shop.services.db.session() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == "subscriptions.apply"))).all()
    assert [j.status for j in jobs] == [JobStatus.DONE], [(j.status, j.last_error) for j in jobs]
    offer = await shop.client.get(
        "/api/storefront/newsletter", params={"saleor_api_url": shop.saleor.api_url}
    )
    assert deals not in [a["list_id"] for a in offer.json()["audiences"]]


async def test_an_audience_deleted_since_the_import_holds_up_none_of_the_shoppers_others(
    newsletter: Shop,
) -> None:
    """The shopper consents to Deals (deleted since the import, first in the contact's lane)
    and News: News is subscribed at once, not after the Deals change's retries."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    await shop.mc("DELETE", f"/lists/{deals}")

    await _order(
        shop,
        "fay@example.com",
        {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: f"{deals},{news}"},
    )
    await shop.work()

    member = shop.member(news, "fay@example.com")
    assert member is not None and member.status == "subscribed"


async def test_a_deleted_audience_is_written_back_archived_not_subscribed(
    newsletter: Shop,
) -> None:
    """Ann subscribed to News; News is deleted in Mailchimp and the app imports that. Her next
    write-back (she joins Deals) writes News as `archived`, not her old `subscribed`."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _subscribed_customer(shop, "ann@example.com")
    await shop.mc("DELETE", f"/lists/{news}")
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()

    await _account_page(shop, customer, deals, subscribed=True)
    await shop.work()

    metadata = _metadata(shop, customer)
    assert metadata[STATUS_PREFIX + deals] == "pending"
    assert metadata[STATUS_PREFIX + news] == "archived"


async def test_a_dropped_change_is_said_on_the_contact(newsletter: Shop) -> None:
    """The consent given at checkout was not made: the contact's problem says so (the customer
    panel shows it), as for an address Mailchimp refuses."""
    shop = newsletter
    deals = shop.ids["deals"]
    await shop.mc("DELETE", f"/lists/{deals}")
    await _order(shop, "eve@example.com", {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: deals})
    await shop.work()
    async with shop.services.db.session() as session:
        installation = await stored(shop.services)
        state = await ContactRepository(session).get(installation.id, deals, "eve@example.com")
    assert state is not None and state.last_problem == GONE_AUDIENCE
