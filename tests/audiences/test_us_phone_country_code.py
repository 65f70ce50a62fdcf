"""A US-format phone field takes US numbers only. Saleor keeps an address's phone in E.164
(`+4532123456`: Denmark's +45 and eight digits). Before, everything but the digits was dropped
and any ten digits were taken, so many countries' numbers (Denmark, Norway, Singapore,
Estonia...) reached Mailchimp as made-up US numbers (`453-212-3456`) instead of being reported.
"""

from __future__ import annotations

import pytest

from addon.audiences.merge_values import MergeFieldOptions, MergeFieldSpec, convert
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.audiences.conftest import ADDRESS, _create_field, _map, _not_sent
from tests.subscriptions.conftest import Shop

US_PHONE = MergeFieldSpec(tag="MOBILE", type="phone", options=MergeFieldOptions(phone_format="US"))


@pytest.mark.parametrize(
    "number",
    [
        "+4532123456",  # Denmark
        "+4722123456",  # Norway
        "+6561234567",  # Singapore
        "+3725123456",  # Estonia
        "004532123456",  # Denmark, dialled with 00
        "+44 20 7946 0958",  # the UK (eleven digits with its code)
        "+2 415 555 2671",  # a country code other than 1, then ten digits
    ],
)
def test_a_number_with_another_country_code_is_reported(number: str) -> None:
    result = convert(number, US_PHONE)
    assert result.value is None
    assert result.problem == f"“{number}” is not a US phone number (the field's format)"


@pytest.mark.parametrize(
    "number",
    ["+14155552671", "+1 (415) 555-2671", "0014155552671", "1-415-555-2671", "415 555 2671"],
)
def test_a_us_number_is_sent_in_the_fields_format(number: str) -> None:
    assert convert(number, US_PHONE).value == "415-555-2671"


async def test_a_danish_customers_phone_is_reported_not_sent(newsletter: Shop) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    await _create_field(shop, news, name="Mobile", tag="MOBILE", type="phone", phone_format="US")
    response = await _map(shop, news, [{"merge_tag": "MOBILE", "source": "billing_phone"}])
    assert response.status_code == 200, response.text
    address = shop.saleor.store.new_address(**{**ADDRESS, "phone": "+4532123456"})
    await shop.saleor.create_customer(
        "ann@example.com",
        "Ann",
        "Apple",
        addresses=[address],
        metadata={CONSENT_SUBSCRIBE: "true"},
        is_confirmed=True,
    )
    await shop.work()

    member = shop.member(news, "ann@example.com")
    assert member.status == "subscribed"
    assert member.merge_fields.get("MOBILE") in (None, "")
    [problem] = await _not_sent(shop)
    assert "“+4532123456” is not a US phone number" in problem
