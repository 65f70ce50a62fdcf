"""What a profile changed in Mailchimp never writes back (Mailchimp wins, two-way on): the ""
Mailchimp answers for an empty field the app never filled (no value, not a clearing), and
anything at all onto an unconfirmed account that merely registered the member's address. A
field the app filled and the member emptied in Mailchimp is still cleared."""

from __future__ import annotations

from tests.audiences.conftest import _customer, _fire, _map
from tests.subscriptions.conftest import Shop

NAMES_AND_PHONE = [
    {"merge_tag": "FNAME", "source": "first_name"},
    {"merge_tag": "LNAME", "source": "last_name"},
    {"merge_tag": "PHONE", "source": "metadata", "key": "phone"},
]


async def test_empty_fields_the_app_never_filled_clear_nothing(newsletter: Shop) -> None:
    """Ann, a customer who never consented, joins through Mailchimp's own form (her merge
    fields empty), then ticks a group there: Mailchimp's "" for her names and phone is no
    value, so her Saleor names and `phone` stay. Before, they were wiped."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, NAMES_AND_PHONE)
    ann = await shop.saleor.create_customer(
        "ann@example.com", "Ann", "Lee", is_confirmed=True, metadata={"phone": "555 0100"}
    )
    await shop.work()
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/ann@example.com",
        {"email_address": "ann@example.com", "status_if_new": "subscribed"},
    )
    await _fire(shop, "subscribe", {"email": "ann@example.com"})
    await shop.work()

    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/ann@example.com",
        {"interests": {shop.ids["Fruit"]: True}},
    )
    await _fire(shop, "profile", {"email": "ann@example.com"})
    await shop.work()

    saved = shop.saleor.store.get_customer(ann.id)
    assert (saved.first_name, saved.last_name) == ("Ann", "Lee")
    assert saved.metadata["phone"] == "555 0100"


async def test_fields_the_app_filled_and_mailchimp_emptied_are_cleared(newsletter: Shop) -> None:
    """The other side of the rule above: a field the app sent (in `sent_merge_digests`) that
    the member empties in Mailchimp is a real clearing, and reaches the customer."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, NAMES_AND_PHONE)
    customer = await _customer(shop, "cal@example.com", confirmed=True, phone="555 0100")
    await shop.work()
    assert shop.member(news, "cal@example.com").merge_fields["PHONE"] == "555 0100"

    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/cal@example.com",
        {"merge_fields": {"LNAME": "", "PHONE": ""}},
    )
    await _fire(shop, "profile", {"email": "cal@example.com"})
    await shop.work()

    saved = shop.saleor.store.get_customer(customer.id)
    assert (saved.first_name, saved.last_name) == ("Ann", "")
    assert saved.metadata["phone"] == ""


async def test_nothing_is_written_on_an_unconfirmed_account_at_the_members_address(
    newsletter: Shop,
) -> None:
    """Vic is a Mailchimp member; someone registers vic@example.com in Saleor without
    confirming it. Vic's profile edit in Mailchimp is not theirs to receive (the status
    write-back's rule, `writeback.may_write_to`). Before, the account took Vic's names and
    phone."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, NAMES_AND_PHONE)
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/vic@example.com",
        {
            "email_address": "vic@example.com",
            "status_if_new": "subscribed",
            "merge_fields": {"FNAME": "Victoria", "LNAME": "Real", "PHONE": "555 0100"},
        },
    )
    await _fire(shop, "subscribe", {"email": "vic@example.com"})
    await shop.work()
    squatter = await shop.saleor.create_customer("vic@example.com", "x", "y", is_confirmed=False)
    await shop.work()

    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/vic@example.com",
        {"merge_fields": {"PHONE": "555 0199"}},
    )
    await _fire(shop, "profile", {"email": "vic@example.com"})
    await shop.work()

    saved = shop.saleor.store.get_customer(squatter.id)
    assert (saved.first_name, saved.last_name) == ("x", "y")
    assert "phone" not in saved.metadata
