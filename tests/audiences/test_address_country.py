"""An address goes to an address merge field only with a country Mailchimp knows: one it does
not (Saleor's "XK" for Kosovo, "EU") it would store as the USA, so the address is reported
instead, alone, and the rest of the contact is sent."""

from __future__ import annotations

import pytest

from addon.audiences.merge_values import AddressValue, MergeFieldSpec, convert
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.audiences.conftest import ADDRESS, _map, _not_sent
from tests.subscriptions.conftest import Shop

FIELD = MergeFieldSpec(tag="ADDRESS", name="Address", type="address")
PRISTINA = AddressValue(addr1="Rruga Nëna Terezë 1", city="Prishtinë", state="-", zip="10000")


@pytest.mark.parametrize("country", ["XK", "EU"])
def test_a_country_outside_iso_3166_is_reported(country: str) -> None:
    made = convert(PRISTINA.model_copy(update={"country": country}), FIELD)
    assert made.value is None
    assert made.problem is not None and f"“{country}”" in made.problem


def test_an_iso_country_is_sent() -> None:
    made = convert(PRISTINA.model_copy(update={"country": "AL"}), FIELD)
    assert made.problem is None and made.value["country"] == "AL"


async def test_a_kosovo_customer_is_subscribed_with_the_address_reported(
    newsletter: Shop,
) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    mapped = await _map(
        shop,
        news,
        [
            {"merge_tag": "ADDRESS", "source": "billing_address"},
            {"merge_tag": "FNAME", "source": "first_name"},
        ],
    )
    assert mapped.status_code == 200, mapped.text
    address = shop.saleor.store.new_address(
        **{**ADDRESS, "country": "XK", "country_area": "Prishtinë", "postal_code": "10000"}
    )
    await shop.saleor.create_customer(
        "dua@example.com",
        "Dua",
        "Berisha",
        addresses=[address],
        metadata={CONSENT_SUBSCRIBE: "true"},
    )
    await shop.work()

    member = shop.member(news, "dua@example.com")
    assert member.status == "subscribed"
    assert (member.merge_fields["FNAME"], member.merge_fields["ADDRESS"]) == ("Dua", "")
    [problem] = await _not_sent(shop)
    assert "Address (ADDRESS)" in problem and "“XK”" in problem
    assert "changed in Mailchimp" not in problem  # the field did not change: the value is wrong
