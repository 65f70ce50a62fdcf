"""A contact whose address the member changed in Mailchimp (`upemail`, from a campaign's "update
your profile" link) stays the customer's, whose Saleor address is still the old one: the
account page and the customer panel show and change it at its new address, and the customer's
profile goes on reaching it. Before, the store side looked the contact up by the customer's
address only: the page showed `none`, an unsubscribe made an empty contact at the old address
while Mailchimp kept the new one subscribed, and a name changed in Saleor never reached it."""

from __future__ import annotations

from typing import Any

from addon.subscriptions.metadata import EMAIL_PREFIX
from sandboxes.saleor.models import Customer
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop, _fire, _metadata

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
OLD, NEW = "ann@example.com", "ann@new.example"


async def _moved(shop: Shop) -> Customer:
    """Ann, subscribed to News with her first name mapped, changed her address in Mailchimp."""
    news = shop.ids["news"]
    fields = [{"merge_tag": "FNAME", "source": "first_name"}]
    r = await shop.client.put(
        f"/api/audiences/{news}/mapping", json={"fields": fields}, headers=shop.headers
    )
    assert r.status_code == 200, r.text
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={"mailchimp.consent.subscribe": "true"}, is_confirmed=True
    )
    await shop.work()
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"email_address": NEW})
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    await shop.work()
    assert shop.member(news, OLD) is None and shop.member(news, NEW).status == "subscribed"
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == NEW
    return customer


def _auth(shop: Shop, customer: Customer) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}


def _audience(page: dict[str, Any], list_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in page["audiences"] if a["list_id"] == list_id)
    return found


async def test_the_account_page_shows_and_changes_the_contact_at_its_new_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _moved(shop)
    auth = _auth(shop, customer)

    page = (await shop.client.get(PAGE, params=STORE, headers=auth)).json()
    seen = _audience(page, news)
    assert (page["email"], seen["status"], seen["contact_email"]) == (OLD, "subscribed", NEW)

    body = {"audiences": [{"list_id": news, "subscribed": False}]}
    answer = await shop.client.put(PAGE, params=STORE, headers=auth, json=body)
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, NEW).status == "unsubscribed"
    assert shop.member(news, OLD) is None  # nothing made at the address she gave up
    page = (await shop.client.get(PAGE, params=STORE, headers=auth)).json()
    assert _audience(page, news)["status"] == "unsubscribed"

    # She renames herself (its webhook not delivered yet) and subscribes again: her profile
    # goes with the change, although its address is not her Saleor one.
    shop.saleor.store.update_customer(customer, first_name="Anna")
    body = {"audiences": [{"list_id": news, "subscribed": True}]}
    answer = await shop.client.put(PAGE, params=STORE, headers=auth, json=body)
    assert answer.status_code == 202, answer.text
    await shop.work()
    member = shop.member(news, NEW)
    assert (member.status, member.merge_fields["FNAME"]) == ("pending", "Anna")  # re-confirms
    assert shop.member(news, OLD) is None


async def test_the_customer_panel_unsubscribes_the_contact_at_its_new_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _moved(shop)

    url = f"/api/subscriptions/customers/{customer.global_id}"
    shown = await shop.client.get(url, headers=shop.headers)
    assert shown.status_code == 200, shown.text
    assert _audience(shown.json(), news)["status"] == "subscribed"
    body = {"list_id": news, "action": "unsubscribe"}
    answer = await shop.client.post(url, json=body, headers=shop.headers)
    assert answer.status_code == 202, answer.text
    await shop.work()
    assert shop.member(news, NEW).status == "unsubscribed"
    assert shop.member(news, OLD) is None


async def test_a_name_changed_in_saleor_reaches_the_contact_at_its_new_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _moved(shop)

    await shop.saleor.update_customer(customer, first_name="Anna")
    await shop.work()
    assert shop.member(news, NEW).merge_fields["FNAME"] == "Anna"
    assert shop.member(news, OLD) is None


async def test_a_change_saved_while_the_move_waited_follows_the_contact(newsletter: Shop) -> None:
    """Saved on the account page while the `upemail` waited in the contact's lane: the change
    was asked of the old address, and runs after the move; it follows the contact rather than
    make a new member of the address she gave up."""
    shop = newsletter
    news, veg = shop.ids["news"], shop.ids["Veg"]
    customer = await shop.saleor.create_customer(
        OLD, "Ann", "Lee", metadata={"mailchimp.consent.subscribe": "true"}, is_confirmed=True
    )
    await shop.work()
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"email_address": NEW})
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    body = {"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]}
    auth = _auth(shop, customer)
    answer = await shop.client.put(PAGE, params=STORE, headers=auth, json=body)
    assert answer.status_code == 202, answer.text
    await shop.work()

    assert shop.member(news, OLD) is None
    member = shop.member(news, NEW)
    assert (member.status, member.interests[veg]) == ("subscribed", True)
    page = (await shop.client.get(PAGE, params=STORE, headers=auth)).json()
    assert (_audience(page, news)["contact_email"], _audience(page, news)["groups"]) == (NEW, [veg])
