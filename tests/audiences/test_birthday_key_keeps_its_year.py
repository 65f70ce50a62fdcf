"""A birthday key holding a full date in the field's own order (`12/03/1990` for MM/DD, which
the docs say a birthday takes) lost its year for good when the birthday was changed in
Mailchimp: the write-back read the key's current value as ISO only, so it wrote Mailchimp's
`01/15` over it, although the docs promise "a birthday keeps the key's year"."""

from __future__ import annotations

import pytest

from addon.audiences.merge_values import MergeFieldOptions, MergeFieldSpec
from addon.audiences.merge_values_back import metadata_value
from tests.audiences.conftest import _birthday_and_visits, _customer
from tests.audiences.test_values_written_back import _changed_in_mailchimp
from tests.subscriptions.conftest import Shop


async def test_birthday_key_in_field_order_keeps_its_year(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _birthday_and_visits(shop)
    assert response.status_code == 200, response.text
    customer = await _customer(shop, "yo@example.com", birthday="12/03/1990", visits="3")
    await shop.work()
    member = shop.member(news, "yo@example.com")
    assert member.merge_fields["BIRTHDAY"] == "12/03"  # accepted, year dropped for Mailchimp

    await _changed_in_mailchimp(
        shop, "yo@example.com", {"BIRTHDAY": "01/15"}, "2026-12-05 10:00:00"
    )
    saved = shop.saleor.store.get_customer(customer.id)
    assert saved.metadata["birthday"] == "01/15/1990"  # the key's year, in its own shape


def _spec(kind: str, date_format: str) -> MergeFieldSpec:
    return MergeFieldSpec(tag="DAY", type=kind, options=MergeFieldOptions(date_format=date_format))


@pytest.mark.parametrize(
    ("incoming", "current", "spec", "written"),
    [
        # Day first: the key's year and order kept.
        ("15/01", "03/12/1990", _spec("birthday", "DD/MM"), "15/01/1990"),
        # ISO stays ISO.
        ("15/01", "1990-12-03", _spec("birthday", "DD/MM"), "1990-01-15"),
        # A key without a year has none to keep: as Mailchimp wrote it.
        ("01/15", "12/03", _spec("birthday", "MM/DD"), "01/15"),
        # A date field's key in its own order stays in it.
        ("31/01/2001", "03/12/1990", _spec("date", "DD/MM/YYYY"), "31/01/2001"),
    ],
)
def test_changed_date_written_in_the_keys_shape(
    incoming: str, current: str, spec: MergeFieldSpec, written: str
) -> None:
    assert metadata_value(incoming, current, spec) == written
