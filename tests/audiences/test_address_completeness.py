"""Mailchimp's address field takes a street, city, state and zip together (the Marketing API's
definition requires all four: mailchimp/mailchimp-marketing-typescript-sdk,
CreateMemberListsRequestMergeFieldsValueAddr1.ts). Most European addresses have no state in
Saleor (no country area), some countries no postal code: such an address is reported, saying
what it lacks in Saleor's words and that a text field takes it as one line."""

from __future__ import annotations

import pytest

from addon.audiences.merge_values import AddressValue, MergeFieldSpec, convert
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.audiences.conftest import ADDRESS, _map, _not_sent
from tests.subscriptions.conftest import Shop

FIELD = MergeFieldSpec(tag="ADDRESS", name="Address", type="address")
TEXT = MergeFieldSpec(tag="HOME", name="Home", type="text")
BERLIN = AddressValue(addr1="Unter den Linden 1", city="Berlin", zip="10117", country="DE")
LONDON = AddressValue(addr1="10 Downing St", city="London", zip="SW1A 2AA", country="GB")
HONG_KONG = AddressValue(addr1="1 Queen's Road Central", city="Hong Kong", country="HK")


@pytest.mark.parametrize("address", [BERLIN, LONDON])
def test_an_address_without_a_region_says_so_in_saleors_words(address: AddressValue) -> None:
    made = convert(address, FIELD)
    assert made.value is None
    assert made.problem is not None
    assert "has no state/region (Saleor's country area)" in made.problem
    assert "postal code" not in made.problem.split("—")[0]  # it has one
    assert "text field" in made.problem


def test_an_address_without_a_region_or_postal_code_names_both() -> None:
    made = convert(HONG_KONG, FIELD)
    assert made.problem is not None
    assert "has no state/region (Saleor's country area) or postal code" in made.problem


def test_a_text_field_takes_the_address_as_one_line() -> None:
    made = convert(BERLIN, TEXT)
    assert (made.problem, made.value) == (None, "Unter den Linden 1, Berlin, 10117, DE")


async def test_a_german_customer_is_subscribed_with_the_address_reported(
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
        **{
            **ADDRESS,
            "street_address_1": "Unter den Linden 1",
            "city": "Berlin",
            "country": "DE",
            "country_area": "",
            "postal_code": "10117",
        }
    )
    await shop.saleor.create_customer(
        "lena@example.com",
        "Lena",
        "Schmidt",
        addresses=[address],
        metadata={CONSENT_SUBSCRIBE: "true"},
    )
    await shop.work()

    member = shop.member(news, "lena@example.com")
    assert member.status == "subscribed"
    assert (member.merge_fields["FNAME"], member.merge_fields["ADDRESS"]) == ("Lena", "")
    [problem] = await _not_sent(shop)
    assert "Address (ADDRESS)" in problem
    assert "state/region (Saleor's country area)" in problem and "text field" in problem
