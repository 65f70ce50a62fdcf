"""Consent given while the app was deactivated (Saleor delivered nothing) is honoured once it is
activated again; a consent delivered before is not applied a second time."""

from __future__ import annotations

from sqlalchemy import select

from addon.clock import ManualClock
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.saleor import LineSpec, VariantSpec
from tests.subscriptions.conftest import Shop, _fire, _unsubscribed_in_mailchimp


async def test_consent_given_while_deactivated_subscribes_once_activated(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await shop.saleor.add_channel("default")
    product = await shop.saleor.create_product("Apple", [VariantSpec(sku=None)])
    await shop.work()
    await shop.saleor.set_app_active(shop.app, False)
    await shop.saleor.create_customer(
        "reg@example.com", "Reg", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email="buyer@example.com",
        metadata={CONSENT_SUBSCRIBE: "true"},
    )
    await shop.saleor.complete_checkout(checkout)
    await shop.saleor.create_customer("quiet@example.com", "Quinn")  # no consent
    await shop.work()
    assert shop.member(news, "reg@example.com") is None  # paused

    await shop.saleor.set_app_active(shop.app, True)
    await shop.work()
    assert shop.member(news, "reg@example.com").status == "subscribed"
    assert shop.member(news, "buyer@example.com").status == "subscribed"
    assert shop.member(news, "quiet@example.com") is None


async def test_a_registration_delivered_before_the_pause_does_not_subscribe_again(
    newsletter: Shop,
) -> None:
    """Registered with consent moments before the deactivation (within the replay's margin for
    clocks), then unsubscribed: the replay of the customer's later change is an update, so
    the old consent does not subscribe them again."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _unsubscribed_in_mailchimp(shop, "una@example.com")
    await shop.saleor.set_app_active(shop.app, False)
    await shop.saleor.update_customer(customer, first_name="Una")
    await shop.saleor.set_app_active(shop.app, True)
    await shop.work()
    assert shop.member(news, "una@example.com").status == "unsubscribed"
    async with shop.services.db.session() as session:
        jobs = (await session.execute(select(Job))).scalars()
        replayed = {(j.kind, j.payload["event"]) for j in jobs if j.payload.get("replayed")}
    assert replayed == {
        (webhook_job_kind("ecommerce-customers"), "CUSTOMER_UPDATED"),
        (webhook_job_kind("subscriptions-customer-updated"), "CUSTOMER_UPDATED"),
        (webhook_job_kind("subscriptions-email-changed"), "CUSTOMER_UPDATED"),
    }


async def test_consent_delivered_before_a_long_pause_is_not_applied_again(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Done jobs are pruned after a week: the creations delivered before the pause are recorded
    when it is noticed, so a deactivation of weeks replays them as updates all the same."""
    shop = newsletter
    news = shop.ids["news"]
    await shop.saleor.add_channel("default")
    product = await shop.saleor.create_product("Apple", [VariantSpec(sku=None)])
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email="olga@example.com",
        metadata={CONSENT_SUBSCRIBE: "true"},
    )
    order = await shop.saleor.complete_checkout(checkout)
    await shop.work()
    assert shop.member(news, "olga@example.com").status == "subscribed"
    await shop.mc("PATCH", f"/lists/{news}/members/olga@example.com", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"email": "olga@example.com"})
    await shop.work()

    await shop.saleor.set_app_active(shop.app, False)
    clock.advance(30 * 24 * 3600)
    async with shop.services.db.transaction() as session:
        await JobRepository(session).prune_finished(clock.now())
    await shop.saleor.add_order_note(order, "Leave it at the door")
    await shop.saleor.set_app_active(shop.app, True)
    await shop.work()
    assert shop.member(news, "olga@example.com").status == "unsubscribed"


async def test_orders_imported_in_bulk_while_deactivated_subscribe_nobody(
    newsletter: Shop,
) -> None:
    """`orderBulkCreate` announces its orders with ORDER_BULK_CREATED, which carries no consent
    (only ORDER_CREATED does): replayed, they are updates, as live they would not subscribe."""
    shop = newsletter
    await shop.saleor.add_channel("default")
    product = await shop.saleor.create_product("Apple", [VariantSpec(sku=None)])
    await shop.work()
    await shop.saleor.set_app_active(shop.app, False)
    line = shop.saleor.order_line(product.variants[0], 1)
    await shop.saleor.bulk_create_orders(
        [{"lines": [line], "email": "pos@example.com", "metadata": {CONSENT_SUBSCRIBE: "true"}}]
    )
    await shop.saleor.set_app_active(shop.app, True)
    await shop.work()
    assert shop.member(shop.ids["news"], "pos@example.com") is None
    async with shop.services.db.session() as session:
        jobs = (await session.execute(select(Job))).scalars()
        events = {j.payload["event"] for j in jobs if j.payload.get("replayed")}
    assert events == {"ORDER_UPDATED"}
