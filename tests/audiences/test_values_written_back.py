"""A profile change in Mailchimp carries every merge field, changed or not: the values that are
only Mailchimp's rendering of a customer's metadata leave it alone (a birthday sent as MM/DD
never costs its year), and a changed date is written in the shape the key holds."""

from __future__ import annotations

from typing import Any

import pytest

from addon.audiences.merge_values import MergeFieldOptions, MergeFieldSpec, convert
from addon.audiences.merge_values_back import metadata_value
from tests.audiences.conftest import _birthday_and_visits, _customer
from tests.subscriptions.conftest import Shop


async def _changed_in_mailchimp(
    shop: Shop, email: str, merge_fields: dict[str, Any], fired_at: str
) -> None:
    """A profile change on Mailchimp's preference page, and its webhook (fired at a second of
    its own: a delivery of the same event in the same second is a redelivery)."""
    news = shop.ids["news"]
    await shop.mc("PATCH", f"/lists/{news}/members/{email}", {"merge_fields": merge_fields})
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", {"email": email}, source="user", fired_at=fired_at
    )
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()


async def test_values_mailchimp_only_rendered_leave_the_metadata_alone(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _birthday_and_visits(shop, {"merge_tag": "FNAME", "source": "first_name"})
    assert response.status_code == 200, response.text
    customer = await _customer(shop, "yo@example.com", birthday="1990-12-03", visits="1.234,5")
    await shop.work()
    member = shop.member(news, "yo@example.com")
    assert (member.merge_fields["BIRTHDAY"], member.merge_fields["VISITS"]) == ("12/03", 1234.5)

    # Only the first name changes on Mailchimp's profile page.
    await _changed_in_mailchimp(shop, "yo@example.com", {"FNAME": "Yo"}, "2026-12-05 10:00:00")
    saved = shop.saleor.store.get_customer(customer.id)
    assert saved.first_name == "Yo"
    assert (saved.metadata["birthday"], saved.metadata["visits"]) == ("1990-12-03", "1.234,5")

    # The birthday itself changes: the key keeps its ISO shape and its year.
    await _changed_in_mailchimp(
        shop, "yo@example.com", {"BIRTHDAY": "01/15", "VISITS": 7}, "2026-12-05 10:00:01"
    )
    saved = shop.saleor.store.get_customer(customer.id)
    assert (saved.metadata["birthday"], saved.metadata["visits"]) == ("1990-01-15", "7")


BIRTHDAY = MergeFieldSpec(
    tag="BDAY", type="birthday", options=MergeFieldOptions(date_format="DD/MM")
)
DATE = MergeFieldSpec(tag="SINCE", type="date", options=MergeFieldOptions(date_format="MM/DD/YYYY"))
CHOICE = MergeFieldSpec(
    tag="SIZE", type="dropdown", options=MergeFieldOptions(choices=["Small", "Large"])
)


@pytest.mark.parametrize(
    ("incoming", "current", "spec", "written"),
    [
        ("03/12", "1990-12-03", BIRTHDAY, None),  # DD/MM of the key's date: unchanged
        ("04/12", "1990-12-03", BIRTHDAY, "1990-12-04"),
        ("04/12", "03/12", BIRTHDAY, "04/12"),  # the key holds the field's format: kept so
        ("29/02", "1991-05-01", BIRTHDAY, "29/02"),  # no 29 February in 1991: as Mailchimp has it
        ("12/03/1990", "1990-12-03T08:00:00+00:00", DATE, None),
        ("12/04/1990", "1990-12-03", DATE, "1990-12-04"),
        ("Large", "large", CHOICE, None),  # the choice in Mailchimp's case
        ("Small", "large", CHOICE, "Small"),
        ("", "large", CHOICE, ""),  # cleared in Mailchimp: cleared in Saleor
        ("", None, CHOICE, None),  # nothing there to clear
        ("Large", None, CHOICE, "Large"),
        ("Large", "large", None, "Large"),  # a field no longer imported: as it came
        ({"addr1": "1 Main St"}, "x", None, None),  # no address in a metadata key
    ],
)
def test_a_metadata_value_is_written_only_when_mailchimp_changed_it(
    incoming: Any, current: str | None, spec: MergeFieldSpec | None, written: str | None
) -> None:
    assert metadata_value(incoming, current, spec) == written


def test_a_birthday_on_29_february_in_the_fields_own_format_is_sent() -> None:
    assert convert("29/02", BIRTHDAY).value == "29/02"
    us = BIRTHDAY.model_copy(update={"options": MergeFieldOptions(date_format="MM/DD")})
    assert convert("02/29", us).value == "02/29"
