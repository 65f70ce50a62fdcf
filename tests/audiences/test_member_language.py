"""A member's language, sent without any mapping: the customer's own (a registration, or the
customer whose address the storefront form names), or a guest order's."""

from __future__ import annotations

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop


async def test_members_get_the_language_of_the_customer_without_any_mapping(
    newsletter: Shop,
) -> None:
    shop = newsletter
    await shop.saleor.create_customer(
        "gil@example.com", metadata={CONSENT_SUBSCRIBE: "true"}, language_code="pt-br"
    )
    await shop.work()
    assert shop.member(shop.ids["news"], "gil@example.com").language == "pt"

    # The storefront form names no customer: the address's own customer gives the language.
    await shop.saleor.create_customer("hal@example.com", language_code="de")
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"email": "hal@example.com"},
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(shop.ids["news"], "hal@example.com").language == "de"


async def test_a_guest_order_gives_its_own_language(newsletter: Shop) -> None:
    shop = newsletter
    if not shop.saleor.store.channels:
        await shop.saleor.add_channel("default")
    await shop.saleor.create_order(
        email="ivy@example.com",
        metadata={CONSENT_SUBSCRIBE: "true"},
        language_code="fr-ca",
    )
    await shop.work()
    assert shop.member(shop.ids["news"], "ivy@example.com").language == "fr_CA"
