"""The order of audience-webhook deliveries against the app's own writes. Mailchimp gives
`fired_at` as "2009-03-26 21:35:57", no time zone (its guide "Synchronize Audience Data with
Webhooks" names none), delivers out of order and retries for 75 minutes: the app orders nothing
by it (it compares none with its own clock) and applies each event as Mailchimp holds the member
when the event is applied (`mailchimp_hooks.handle_event`).

Here the app's own unsubscribe is echoed back (an admin turned the webhook's "API" source on in
Mailchimp, which the app sets back at its next registration) after the customer subscribed
again, its `fired_at` older and hours off in whatever zone: the status does not flip back."""

from __future__ import annotations

import pytest

from addon.subscriptions.metadata import STATUS_PREFIX
from tests.subscriptions.conftest import Shop, _account_page, _metadata, _subscribed_customer

EMAIL = "ann@example.com"


@pytest.mark.parametrize("fired_at", ["2026-12-06 03:00:00", "2001-01-01 00:00:00"])
async def test_an_echo_of_the_apps_older_write_does_not_flip_the_status_back(
    newsletter: Shop, fired_at: str
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    [hook] = shop.mailchimp.webhooks(shop.account, news)
    await shop.mc("PATCH", f"/lists/{news}/webhooks/{hook.id}", {"sources": {"api": True}})
    customer = await _subscribed_customer(shop, EMAIL)
    await _account_page(shop, customer, news, subscribed=False)
    await shop.work()
    assert shop.member(news, EMAIL).status == "unsubscribed"
    await _account_page(shop, customer, news, subscribed=True)  # a fresh consent
    await shop.work()
    assert shop.member(news, EMAIL).status == "pending"

    # The echo of the first write, delivered last (a retry).
    answers = await shop.mailchimp.fire_list_webhook(
        shop.account,
        news,
        "unsubscribe",
        {"email": EMAIL, "action": "unsub"},
        source="api",
        fired_at=fired_at,
    )
    assert [a.status_code for a in answers] == [200]
    await shop.work()

    assert shop.member(news, EMAIL).status == "pending"
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == "pending"
