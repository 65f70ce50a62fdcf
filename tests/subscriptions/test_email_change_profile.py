"""The contact's profile follows an e-mail change: the merge fields and language of a contact
carried to the new address (not subscribed: Mailchimp changes no other's address), and those
the new address's contact lacks when the two merge. The app's record of what it sent is
reset after a merge, so the customer's next update sends their values to the merged contact."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from sandboxes.mailchimp.state import subscriber_hash
from tests.audiences.conftest import ADDRESS
from tests.subscriptions.conftest import Shop

OLD, NEW = "ann@example.com", "ann.lee@example.com"
PHONE = "+14155552671"  # ADDRESS's phone, as the mapping sends it


async def _ann(shop: Shop) -> object:
    """Ann subscribed to News at OLD, her first name and billing phone mapped, in French."""
    news = shop.ids["news"]
    fields = [
        {"merge_tag": "FNAME", "source": "first_name"},
        {"merge_tag": "PHONE", "source": "billing_phone"},
    ]
    r = await shop.client.put(
        f"/api/audiences/{news}/mapping", json={"fields": fields}, headers=shop.headers
    )
    assert r.status_code == 200, r.text
    customer = await shop.saleor.create_customer(
        OLD,
        "Ann",
        "Lee",
        addresses=[shop.saleor.store.new_address(**ADDRESS)],
        metadata={CONSENT_SUBSCRIBE: "true"},
        is_confirmed=True,
    )
    await shop.work()
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"language": "fr"})
    member = shop.member(news, OLD)
    assert (member.merge_fields["FNAME"], member.merge_fields["PHONE"]) == ("Ann", PHONE)
    return customer


@pytest.mark.parametrize("status", ["pending", "unsubscribed"])
async def test_a_carried_contact_keeps_its_merge_fields_and_language(
    newsletter: Shop, status: str
) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    customer = await _ann(shop)
    with shop.mailchimp.state.lock:  # Mailchimp set it (no confirmation yet / an unsubscribe)
        shop.mailchimp._data(shop.account).lists[news].members[subscriber_hash(OLD)].status = status
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()
    moved = shop.member(news, NEW)
    assert moved.status == status
    assert (moved.merge_fields["FNAME"], moved.merge_fields["PHONE"]) == ("Ann", PHONE)
    assert moved.language == "fr"


async def test_a_merged_contact_gets_the_fields_it_lacks_and_keeps_its_own(
    newsletter: Shop,
) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    customer = await _ann(shop)
    # NEW is a contact already (transactional, as the e-commerce API adds one), named by hand.
    body = {"email_address": NEW, "status": "transactional", "merge_fields": {"FNAME": "Annie"}}
    await shop.mc("POST", f"/lists/{news}/members", body)

    customer = await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()

    merged = shop.member(news, NEW)
    assert merged.status == "subscribed"
    assert (merged.merge_fields["FNAME"], merged.merge_fields["PHONE"]) == ("Annie", PHONE)
    assert merged.language == "fr"
    async with shop.services.db.session() as session:
        row = await session.scalar(
            select(ContactState).where(ContactState.list_id == news, ContactState.email == NEW)
        )
    assert row is not None and row.profile_digest is None  # sent again at the next update

    # Her next update (her mapped fields unchanged) sends her own values to the merged contact.
    await shop.saleor.update_customer(customer, last_name="Leigh")
    await shop.work()
    assert shop.member(news, NEW).merge_fields["FNAME"] == "Ann"
