"""The account page, a signed-in customer's own: nobody else can keep them from leaving, a
permission is withdrawn as easily as given, and their last choice stands."""

from __future__ import annotations

from typing import Any

import httpx

from addon.clock import ManualClock
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}


async def _signed_in(shop: Shop, email: str) -> dict[str, str]:
    customer = await shop.saleor.create_customer(email, is_confirmed=True)
    return {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}


async def _put(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return await shop.client.put(
        "/api/storefront/me/subscriptions", params=STORE, headers=auth, json=body
    )


async def _save(shop: Shop, auth: dict[str, str], subscribed: bool, **more: Any) -> httpx.Response:
    """The account page's save of its one audience (`more`: the body's other keys)."""
    audiences = [{"list_id": shop.ids["news"], "subscribed": subscribed}]
    return await _put(shop, auth, {"audiences": audiences, **more})


async def test_strangers_typing_a_customers_address_never_lock_their_account_page(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth = await _signed_in(shop, "max@example.com")
    assert (await _save(shop, auth, True)).status_code == 202
    await shop.work()
    # Anyone, signed in as nobody, uses up the public form's count for the address.
    for _ in range(shop.services.settings.storefront_rate_limit_per_email + 1):
        await shop.client.post(
            "/api/storefront/subscribe", params=STORE, json={"email": "max@example.com"}
        )
    # The customer's own saves count apart.
    answer = await _save(shop, auth, True, permissions=[])
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, "max@example.com").status == "subscribed"


async def test_the_account_page_counts_a_customers_saves_but_never_an_unsubscribe(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth = await _signed_in(shop, "max@example.com")
    for _ in range(shop.services.settings.storefront_rate_limit_per_email):
        assert (await _save(shop, auth, True)).status_code == 202
    refused = await _save(shop, auth, True)
    assert refused.status_code == 429 and "RATE_LIMITED" in refused.text
    assert (await _save(shop, auth, False)).status_code == 202
    await shop.work()
    assert shop.member(news, "max@example.com").status == "unsubscribed"


async def test_a_customer_withdraws_a_marketing_permission_by_unticking_it(
    newsletter: Shop,
) -> None:
    shop = newsletter
    permission = await shop.offered_permission()
    auth = await _signed_in(shop, "max@example.com")

    async def mine() -> list[str]:
        path = "/api/storefront/me/subscriptions"
        answer = await shop.client.get(path, params=STORE, headers=auth)
        permissions: list[str] = answer.json()["audiences"][0]["marketing_permissions"]
        return permissions

    assert (await _save(shop, auth, True, permissions=[permission])).status_code == 202
    await shop.work()
    assert await mine() == [permission]
    # A save that does not speak of permissions leaves them.
    assert (await _save(shop, auth, True)).status_code == 202
    await shop.work()
    assert shop.consents("max@example.com")[permission] is True
    # The box unticked: withdrawn, in Mailchimp and on the page.
    assert (await _save(shop, auth, True, permissions=[])).status_code == 202
    await shop.work()
    assert shop.consents("max@example.com")[permission] is False
    assert await mine() == []


async def test_unsubscribing_and_subscribing_again_before_the_worker_ran_keeps_the_last(
    newsletter: Shop, clock: ManualClock
) -> None:
    """The store's own unsubscribe dates the leaving when it was asked: the consent asked after
    it is the newer, though the worker applies the unsubscribe later."""
    shop = newsletter
    auth = await _signed_in(shop, "max@example.com")
    assert (await _save(shop, auth, True)).status_code == 202
    await shop.work()
    assert (await _save(shop, auth, False)).status_code == 202
    clock.advance(1)
    assert (await _save(shop, auth, True)).status_code == 202
    clock.advance(1)
    await shop.work()
    # Mailchimp asks a contact who unsubscribed to confirm by e-mail.
    assert shop.member(shop.ids["news"], "max@example.com").status == "pending"


async def test_leaving_or_withdrawing_is_never_counted(newsletter: Shop) -> None:
    """An account page sends every audience at once: unticking one, or a permission, while the
    other stays is no new subscription, whatever the count."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    permission = await shop.offered_permission()
    auth = await _signed_in(shop, "max@example.com")
    both = [{"list_id": news, "subscribed": True}, {"list_id": deals, "subscribed": True}]
    body = {"audiences": both, "permissions": [permission]}
    for _ in range(shop.services.settings.storefront_rate_limit_per_email):
        assert (await _put(shop, auth, body)).status_code == 202
    await shop.work()
    assert (await _put(shop, auth, body)).status_code == 202  # the same again adds nothing

    leave_deals = [{"list_id": news, "subscribed": True}, {"list_id": deals, "subscribed": False}]
    assert (
        await _put(shop, auth, {"audiences": leave_deals, "permissions": []})
    ).status_code == 202
    await shop.work()
    assert shop.member(deals, "max@example.com").status == "unsubscribed"
    assert shop.consents("max@example.com")[permission] is False
    # Subscribing again is counted.
    refused = await _put(shop, auth, {"audiences": both})
    assert refused.status_code == 429 and "RATE_LIMITED" in refused.text


async def test_leaving_and_coming_back_over_and_over_is_counted(newsletter: Shop) -> None:
    """Each return asks Mailchimp to send a confirmation e-mail: it counts, though the contact
    the app holds is subscribed until the worker runs the leaving before it."""
    shop = newsletter
    auth = await _signed_in(shop, "max@example.com")
    assert (await _save(shop, auth, True)).status_code == 202
    await shop.work()
    answers = []
    for _ in range(shop.services.settings.storefront_rate_limit_per_email):
        assert (await _save(shop, auth, False)).status_code == 202
        answers.append((await _save(shop, auth, True)).status_code)
    assert answers[:-1] == [202] * (len(answers) - 1) and answers[-1] == 429
