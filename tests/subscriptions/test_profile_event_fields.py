"""A profile change in Mailchimp carries every merge field, changed or not. Under "Mailchimp
wins" only the fields Mailchimp changed go back to the customer: one still holding what the app
last sent the contact is not Mailchimp's change, and the customer may have changed it in Saleor
since (that newer value is on its way to Mailchimp). Before, a group ticked on Mailchimp's
preference page wrote the old name back over the customer's new one, lost on both sides."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.audiences.merge_values import MergeFieldOptions, MergeFieldSpec
from addon.audiences.merge_values_back import merge_digest
from addon.subscriptions.models import ContactState
from addon.subscriptions.profile_sync import enqueue_profile_update
from tests.audiences.conftest import _customer, _map
from tests.subscriptions.conftest import Shop


async def _group_ticked_in_mailchimp(shop: Shop, email: str, fired_at: str) -> None:
    """The contact ticks "Veg" on Mailchimp's preference page: a profile webhook, no merge
    field changed."""
    news = shop.ids["news"]
    await shop.mc("PATCH", f"/lists/{news}/members/{email}", {"interests": {shop.ids["Veg"]: True}})
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", {"email": email}, source="user", fired_at=fired_at
    )
    assert responses and all(r.status_code == 200 for r in responses)


async def test_a_group_ticked_in_mailchimp_does_not_undo_a_newer_rename(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    assert response.status_code == 200, response.text
    customer = await _customer(shop, "ann@example.com")
    await shop.work()
    assert shop.member(news, "ann@example.com").merge_fields["FNAME"] == "Ann"

    await _group_ticked_in_mailchimp(shop, "ann@example.com", "2026-12-05 10:00:00")
    # A moment later, before the worker got to it, the customer renames herself in Saleor.
    await shop.saleor.update_customer(customer, first_name="Anna")
    await shop.work()

    assert shop.saleor.store.get_customer(customer.id).first_name == "Anna"
    assert shop.member(news, "ann@example.com").merge_fields["FNAME"] == "Anna"
    assert shop.member(news, "ann@example.com").interests[shop.ids["Veg"]] is True


async def test_a_rename_held_back_by_a_group_change_goes_once_it_is_applied(
    newsletter: Shop,
) -> None:
    """The customer's update runs first and is held back while Mailchimp's change waits
    (`profile_sync`): the change, applied, writes nothing back, and the rename follows."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    customer = await _customer(shop, "bea@example.com")
    await shop.work()
    # The customer renamed in Saleor and its update queued (as its webhook does) ...
    shop.saleor.store.get_customer(customer.id).first_name = "Beatrix"
    async with shop.services.db.transaction() as session:
        contact = ContactState.email == "bea@example.com"
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None
        await enqueue_profile_update(session, state, customer.global_id)
    # ... then a group is ticked in Mailchimp before it runs.
    await _group_ticked_in_mailchimp(shop, "bea@example.com", "2026-12-05 10:00:00")
    await shop.work()

    assert shop.saleor.store.get_customer(customer.id).first_name == "Beatrix"
    assert shop.member(news, "bea@example.com").merge_fields["FNAME"] == "Beatrix"


async def test_a_value_the_app_could_not_send_is_not_overwritten_by_mailchimps_older_one(
    newsletter: Shop,
) -> None:
    """The customer's birthday key holds what no birthday field takes: not sent (reported),
    Mailchimp keeps the one sent before, which is not Mailchimp's change either."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}])
    customer = await _customer(shop, "cy@example.com", birthday="1990-12-03")
    await shop.work()
    assert shop.member(news, "cy@example.com").merge_fields["BIRTHDAY"] == "12/03"
    await shop.saleor.update_customer_metadata(customer, {"birthday": "early December"})
    await shop.work()
    assert shop.member(news, "cy@example.com").merge_fields["BIRTHDAY"] == "12/03"

    await _group_ticked_in_mailchimp(shop, "cy@example.com", "2026-12-05 10:00:00")
    await shop.work()

    assert shop.saleor.store.get_customer(customer.id).metadata["birthday"] == "early December"


async def test_a_field_changed_in_mailchimp_still_goes_back_and_only_it(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _map(
        shop,
        news,
        [
            {"merge_tag": "FNAME", "source": "first_name"},
            {"merge_tag": "LNAME", "source": "last_name"},
        ],
    )
    customer = await _customer(shop, "di@example.com")
    await shop.work()
    # The customer's new last name is on its way when she changes her first name in Mailchimp.
    shop.saleor.store.get_customer(customer.id).last_name = "Apricot"
    await shop.mc(
        "PATCH", f"/lists/{news}/members/di@example.com", {"merge_fields": {"FNAME": "Di"}}
    )
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", {"email": "di@example.com"}, source="user"
    )
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()

    saved = shop.saleor.store.get_customer(customer.id)
    assert (saved.first_name, saved.last_name) == ("Di", "Apricot")


BIRTHDAY = MergeFieldSpec(
    tag="BDAY", type="birthday", options=MergeFieldOptions(date_format="DD/MM")
)
DATE = MergeFieldSpec(tag="SINCE", type="date", options=MergeFieldOptions(date_format="MM/DD/YYYY"))
NUMBER = MergeFieldSpec(tag="VISITS", type="number")
TEXT = MergeFieldSpec(tag="FNAME", type="text")


@pytest.mark.parametrize(
    ("sent", "back", "spec", "same"),
    [
        (1234.5, "1234.5", NUMBER, True),  # a number as Mailchimp may write it back
        (7, 7.0, NUMBER, True),
        (7, 8, NUMBER, False),
        ("03/12", "03/12", BIRTHDAY, True),
        ("03/12", "04/12", BIRTHDAY, False),
        ("12/03/1990", "1990-12-03", DATE, True),  # the same day, written another way
        ("12/03/1990", "1990-12-04", DATE, False),
        ("Ann", " Ann ", TEXT, True),
        ("Ann", "ann", TEXT, False),
        ("", "", TEXT, True),  # a field the app cleared
        ("Ann", "Ann", None, True),  # a field no longer imported
    ],
)
def test_a_merge_value_sent_and_given_back_has_one_digest(
    sent: Any, back: Any, spec: MergeFieldSpec | None, same: bool
) -> None:
    assert (merge_digest(sent, spec) == merge_digest(back, spec)) is same


def test_an_address_has_no_digest() -> None:
    assert merge_digest({"addr1": "1 Main St"}, None) is None
