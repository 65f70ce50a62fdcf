"""Consent given while the app was deactivated (Saleor delivered nothing) is honoured once it is
activated again; a consent delivered before is not applied a second time."""

from __future__ import annotations

from sqlalchemy import select

from addon.installations.webhooks import webhook_job_kind
from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.saleor import LineSpec, VariantSpec
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_two_way import _unsubscribed_in_mailchimp


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
