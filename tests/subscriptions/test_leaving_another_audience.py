"""A consent to one audience is not undone by leaving another meanwhile. The contact's lane
holds the address's Mailchimp events of every audience: a store subscribe waits for an
unsubscribe received after it was asked (the later "no" wins), but only one of its own
audience. Before, an unsubscribe from "Deals" dropped a fresh consent to "News"."""

from __future__ import annotations

from tests.subscriptions.conftest import Shop, _account_page

EMAIL = "ann@example.com"
JOINED = ("subscribed", "pending")  # "pending": an audience that asks for confirmation


async def test_leaving_deals_while_joining_news_keeps_the_news_subscription(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await shop.saleor.create_customer(EMAIL, is_confirmed=True)
    await shop.work()
    await _account_page(shop, customer, deals, subscribed=True)
    await shop.work()
    assert shop.member(deals, EMAIL).status in JOINED

    await _account_page(shop, customer, news, subscribed=True)  # not applied yet
    await shop.mc("PATCH", f"/lists/{deals}/members/{EMAIL}", {"status": "unsubscribed"})
    answers = await shop.mailchimp.fire_list_webhook(
        shop.account, deals, "unsubscribe", {"email": EMAIL, "action": "unsub"}
    )
    assert [a.status_code for a in answers] == [200]
    await shop.work()

    assert shop.member(deals, EMAIL).status == "unsubscribed"
    news_member = shop.member(news, EMAIL)
    assert news_member is not None and news_member.status in JOINED
