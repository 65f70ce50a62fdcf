"""Saleor never copies a checkout's billing name onto the user (checkout/complete_checkout.py
`_process_user_data_for_order` stores the address only; accountRegister's names are optional),
so a shopper's account often has no names while every order carries them. Without a mapping the
checkout's billing name filled FNAME/LNAME; once the admin mapped FNAME/LNAME to "First name" /
"Last name" (the obvious mapping) those names were no longer sent, and the fields stayed empty
for good, with nothing reported. A mapped name the account lacks now falls back to the name
given, else to the default billing address's (as Saleor's `User.get_full_name`); an account's
own name wins, a later customer update keeps the fallback, and the write-back leaves it alone."""

from __future__ import annotations

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.saleor import Customer
from tests.audiences.conftest import ADDRESS, _map, _not_sent
from tests.audiences.test_values_written_back import _changed_in_mailchimp
from tests.subscriptions.conftest import Shop

NAMES = [
    {"merge_tag": "FNAME", "source": "first_name"},
    {"merge_tag": "LNAME", "source": "last_name"},
]


def _address(first_name: str, last_name: str) -> dict[str, str]:
    return {**ADDRESS, "first_name": first_name, "last_name": last_name}


async def _buyer_checks_out(
    shop: Shop,
    email: str,
    *,
    names: tuple[str, str] = ("", ""),
    address_names: tuple[str, str] = ("Kim", "Lee"),
) -> Customer:
    """A customer with `names` and a default billing address of `address_names` buys, billed
    to Kim Lee, and consents at checkout."""
    if not shop.saleor.store.channels:
        await shop.saleor.add_channel("default")
    buyer = await shop.saleor.create_customer(
        email,
        *names,
        addresses=[shop.saleor.store.new_address(**_address(*address_names))],
        is_confirmed=True,
    )
    await shop.saleor.create_order(
        user=buyer,
        email=email,
        billing_address=shop.saleor.store.new_address(**_address("Kim", "Lee")),
        metadata={CONSENT_SUBSCRIBE: "true"},
    )
    await shop.work()
    return buyer


def _names(shop: Shop, email: str) -> tuple[str | None, str | None]:
    member = shop.member(shop.ids["news"], email)
    assert member is not None and member.status == "subscribed"
    return member.merge_fields.get("FNAME"), member.merge_fields.get("LNAME")


async def test_mapped_names_fall_back_to_the_checkouts(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    # Control: no mapping, the order's billing name fills the names.
    await _buyer_checks_out(shop, "before@example.com")
    assert _names(shop, "before@example.com") == ("Kim", "Lee")

    response = await _map(shop, news, NAMES)
    assert response.status_code == 200, response.text
    await shop.work()
    await _buyer_checks_out(shop, "after@example.com")
    assert (*_names(shop, "after@example.com"), await _not_sent(shop)) == ("Kim", "Lee", [])


async def test_later_update_keeps_the_checkouts_names(newsletter: Shop) -> None:
    shop = newsletter
    assert (await _map(shop, shop.ids["news"], NAMES)).status_code == 200
    # The address book's default names another: the checkout's name stays, as it was filled.
    buyer = await _buyer_checks_out(shop, "yo@example.com", address_names=("Kimberly", "Li"))
    assert _names(shop, "yo@example.com") == ("Kim", "Lee")

    await shop.saleor.update_customer(buyer, note="called")  # the account still has no names
    await shop.work()
    assert _names(shop, "yo@example.com") == ("Kim", "Lee")


async def test_billing_address_name_fills_a_nameless_account(newsletter: Shop) -> None:
    shop = newsletter
    assert (await _map(shop, shop.ids["news"], NAMES)).status_code == 200
    # Registered without names, with an address: no name is given at registration.
    address = shop.saleor.store.new_address(**_address("Kim", "Lee"))
    customer = await shop.saleor.create_customer(
        "yo@example.com",
        addresses=[address],
        metadata={CONSENT_SUBSCRIBE: "true"},
        is_confirmed=True,
    )
    await shop.work()
    assert _names(shop, "yo@example.com") == ("Kim", "Lee")

    # A profile change in Mailchimp carries the names too: they are the app's, not the
    # member's, and are not written onto the account.
    await _changed_in_mailchimp(
        shop, "yo@example.com", {"PHONE": "+1 555 0100 200"}, "2026-12-05 10:00:00"
    )
    saved = shop.saleor.store.get_customer(customer.id)
    assert (saved.first_name, saved.last_name) == ("", "")
    assert _names(shop, "yo@example.com") == ("Kim", "Lee")


async def test_account_own_name_wins_over_the_fallback(newsletter: Shop) -> None:
    shop = newsletter
    assert (await _map(shop, shop.ids["news"], NAMES)).status_code == 200
    # The account has a first name only: its own wins, the last name falls back.
    buyer = await _buyer_checks_out(shop, "yo@example.com", names=("Ann", ""))
    assert _names(shop, "yo@example.com") == ("Ann", "Lee")

    # A last name set on the account later replaces the fallback.
    await shop.saleor.update_customer(buyer, last_name="Apple")
    await shop.work()
    assert _names(shop, "yo@example.com") == ("Ann", "Apple")
