"""A customer whose address has an internationalised domain: Saleor holds it as typed (its
ASCII form, xn--…), the app in its own form (the Unicode one, `normalize_email`). The two are
one address: the customer's profile changes reach their contact."""

from __future__ import annotations

from addon.subscriptions.schemas import normalize_email
from tests.audiences.conftest import _map
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

PUNY = "bob@xn--bcher-kva.de"


async def test_a_name_change_reaches_the_contact_of_an_internationalised_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    mapped = await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    assert mapped.status_code == 200, mapped.text
    joined = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"email": PUNY},
    )
    assert joined.status_code == 202, joined.text
    await shop.work()
    bob = await shop.saleor.create_customer(PUNY, "Bob", "B", is_confirmed=True)
    await shop.work()
    # The newsletter's contact takes the account's profile once the account is made.
    assert shop.member(news, normalize_email(PUNY)).merge_fields["FNAME"] == "Bob"
    await shop.saleor.update_customer(bob, first_name="Robert")
    await shop.work()
    assert shop.member(news, normalize_email(PUNY)).merge_fields["FNAME"] == "Robert"
