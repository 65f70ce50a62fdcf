"""The audience webhooks themselves: registered on the active audiences only, for people's changes
(not the API's), behind the installation's secret URL; a delivery naming an audience the store
does not have changes nothing; an uninstall deletes the app's webhooks (not another
installation's), and Mailchimp stops delivering to the app."""

from __future__ import annotations

from sqlalchemy import select

from addon.subscriptions.models import ContactState
from tests.conftest import APP_URL
from tests.subscriptions.conftest import (
    Shop,
    _metadata,
    _subscribed_customer,
)


async def test_audience_webhooks_registered_on_active_audiences_only_for_people(
    newsletter: Shop,
) -> None:
    shop = newsletter
    for list_id in (shop.ids["news"], shop.ids["deals"]):
        [hook] = shop.mailchimp.webhooks(shop.account, list_id)
        assert hook.sources.user and hook.sources.admin and not hook.sources.api
        assert all(getattr(hook.events, e) for e in ("subscribe", "unsubscribe", "profile"))
        assert hook.events.cleaned and hook.events.upemail
    # Dropping an audience from the offer removes its webhook; the secret URL is required.
    await shop.configure(active_list_ids=[shop.ids["news"]])
    assert shop.mailchimp.webhooks(shop.account, shop.ids["deals"]) == []
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    assert (await shop.client.get(url)).status_code == 200
    assert (await shop.client.get(url[:-3] + "abc")).status_code == 404
    # A delivery to a webhook the app does not have is gone for good: Mailchimp disables it.
    assert (
        await shop.client.post(url[:-3] + "abc", data={"type": "unsubscribe"})
    ).status_code == 410
    # A made-up secret with non-ASCII characters is just as unknown (once a 500).
    assert (await shop.client.get(url[:-3] + "%C3%A9")).status_code == 404


async def test_a_webhook_of_an_audience_the_store_does_not_have_changes_nothing(
    newsletter: Shop,
) -> None:
    """An audience of another account (connected before, its webhook left there) posts with
    the installation's secret: its contacts are not the store's."""
    shop = newsletter
    customer = await _subscribed_customer(shop, "ola@example.com")
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    form = {"type": "unsubscribe", "data[email]": "ola@example.com", "data[list_id]": "other1"}
    response = await shop.client.post(url, data=form)
    assert response.status_code == 200
    await shop.work()
    assert not any(k.endswith("other1") for k in _metadata(shop, customer))
    async with shop.services.db.session() as session:
        assert (
            await session.scalar(select(ContactState).where(ContactState.list_id == "other1"))
            is None
        )


async def test_mailchimp_stops_delivering_to_an_uninstalled_app(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _subscribed_customer(shop, "ola@example.com")
    [delivery] = await shop.saleor.uninstall_app(shop.app)
    assert delivery.status_code == 200
    [response] = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "unsubscribe", {"email": "ola@example.com"}
    )
    assert response.status_code == 410
    # Disabled: Mailchimp sends it nothing more.
    assert (
        await shop.mailchimp.fire_list_webhook(
            shop.account, news, "unsubscribe", {"email": "ola@example.com"}
        )
        == []
    )


async def test_an_uninstall_deletes_the_apps_audience_webhooks(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    # Another installation's (of another Saleor) on the same audience.
    elsewhere = f"{APP_URL}/api/subscriptions/mailchimp-webhook/999999/another-secret"
    other = {"url": elsewhere, "events": {"subscribe": True}}
    shop.mailchimp.verify_webhook_urls = False  # this app answers no other installation's GET
    await shop.mc("POST", f"/lists/{news}/webhooks", other)
    assert len((await shop.mc("GET", f"/lists/{news}/webhooks"))["webhooks"]) == 2

    await shop.saleor.uninstall_app(shop.app)
    await shop.work()

    [left] = (await shop.mc("GET", f"/lists/{news}/webhooks"))["webhooks"]
    assert left["url"] == other["url"]  # someone else's
