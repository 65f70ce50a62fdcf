"""A customer whose address has an internationalised domain: Saleor holds it as typed (its
ASCII form, xn--…), the app in its own form (the Unicode one, `normalize_email`). The two are
one address: the customer's profile changes reach their contact, and the contact's status
reaches the customer."""

from __future__ import annotations

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.metadata import STATUS_PREFIX as STATUS
from addon.subscriptions.schemas import normalize_email
from tests.audiences.conftest import _map
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop, _fire, _metadata

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


async def test_the_contacts_status_reaches_the_customer_of_an_internationalised_address(
    newsletter: Shop,
) -> None:
    """Mailchimp → Saleor: the customer is found under the form Saleor holds, not only the
    contact's (Saleor finds a user by the address as it holds it)."""
    shop = newsletter
    news = shop.ids["news"]
    bob = await shop.saleor.create_customer(
        PUNY, metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    contact = normalize_email(PUNY)
    assert shop.member(news, contact).status == "subscribed"
    assert _metadata(shop, bob)[STATUS + news] == "subscribed"
    shop.mailchimp.set_member_status(shop.account, news, contact, "unsubscribed")
    await _fire(shop, "unsubscribe", {"email": contact, "reason": "manual"})
    await shop.work()
    assert _metadata(shop, bob)[STATUS + news] == "unsubscribed"
