"""A late bounce (`cleaned`) of the address a customer left by changing their e-mail in Saleor:
Mailchimp retries a failed delivery for up to 75 minutes (its guide "Synchronize Audience Data
with Webhooks"), so a campaign's bounce fired before the app moved the member may arrive after.

Mailchimp decides what the old address is. Moved by PATCH (`member_move`), it holds no member
there: nothing at the old address bounced any more, and a later sign-up there (anyone's: a
guest) is a new contact, subscribed as any other. Before, the app took the event's word and
kept a `cleaned` row at the old address, no one's, which answered that address as bounced (a
consent given before the bounce's receipt dropped, staff refused). A member Mailchimp keeps at
the old address (a pending one, which it will not archive) may really bounce: then the row is
cleaned, as the member is, and a later sign-up there is asked to confirm, as Mailchimp wants.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.subscriptions.metadata import (
    CONSENT_AUDIENCES,
    CONSENT_SUBSCRIBE,
    EMAIL_PREFIX,
    STATUS_PREFIX,
)
from addon.subscriptions.models import ContactState
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop, _fire, _metadata, _subscribed_customer

OLD, NEW = "ann@example.com", "ann.lee@example.com"
BOUNCE = {"email": OLD, "reason": "hard", "campaign_id": "4fjk2ma9xd"}
STORE = {"saleor_api_url": SALEOR_API_URL}


async def _rows(shop: Shop, list_id: str) -> dict[str, tuple[str, str | None]]:
    """The app's contacts of the audience: status and customer, by address."""
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState).where(ContactState.list_id == list_id))
        return {r.email: (r.status, r.saleor_user_id) for r in rows}


def _status(shop: Shop, list_id: str, email: str) -> str | None:
    """Mailchimp's status of the member at `email` (None: no member)."""
    member = shop.member(list_id, email)
    return None if member is None else str(member.status)


async def _guest_signs_up(shop: Shop, list_id: str) -> None:
    body = {"email": OLD, "audiences": [list_id]}
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()


def _customer_has(shop: Shop, customer: Any, list_id: str, status: str) -> None:
    metadata = _metadata(shop, customer)
    assert metadata[STATUS_PREFIX + list_id] == status
    assert metadata.get(EMAIL_PREFIX + list_id, NEW) == NEW


@pytest.mark.parametrize("new_address", ["no contact", "a contact"])
async def test_a_bounce_of_an_address_moved_away_leaves_nothing_at_it(
    newsletter: Shop, new_address: str
) -> None:
    """The new address no contact: the member moves by PATCH, none is left at the old one. A
    contact already (subscribed there on its own): the two merge, the old one archived."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    if new_address == "a contact":
        body = {"email_address": NEW, "status_if_new": "subscribed"}
        await shop.mc("PUT", f"/lists/{news}/members/{NEW}", body)
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()
    left = None if new_address == "no contact" else "archived"
    assert _status(shop, news, OLD) == left
    assert shop.member(news, NEW).status == "subscribed"

    await _fire(shop, "cleaned", BOUNCE)
    await shop.work()

    assert _status(shop, news, OLD) == left  # nothing at the old address is cleaned
    assert shop.member(news, NEW).status == "subscribed"
    rows = await _rows(shop, news)
    assert rows[NEW] == ("subscribed", customer.global_id)
    assert rows.get(OLD, ("none", None))[0] != "cleaned"
    _customer_has(shop, customer, news, "subscribed")

    # A guest signs up at the address Ann left: a new contact, as Mailchimp has it (an
    # archived one, removed, is asked to confirm by e-mail when a guest brings it back:
    # `member_write`), never a bounced one.
    await _guest_signs_up(shop, news)
    joined = "subscribed" if left is None else "pending"
    assert _status(shop, news, OLD) == joined
    assert shop.member(news, NEW).status == "subscribed"
    rows = await _rows(shop, news)
    assert rows[OLD] == (joined, None)
    assert rows[NEW] == ("subscribed", customer.global_id)
    _customer_has(shop, customer, news, "subscribed")


async def test_a_bounce_of_a_member_kept_at_the_old_address_is_mailchimps(
    newsletter: Shop,
) -> None:
    """Ann registered consenting to Deals (double opt-in: pending). Mailchimp archives no
    pending member, so the move leaves it at the old address; its confirmation e-mail there
    then bounces, and Mailchimp cleans it."""
    shop = newsletter
    deals = shop.ids["deals"]
    customer = await shop.saleor.create_customer(
        OLD, metadata={CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: deals}, is_confirmed=True
    )
    await shop.work()
    assert shop.member(deals, OLD).status == "pending"
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.work()
    assert shop.member(deals, OLD).status == "pending"
    assert shop.member(deals, NEW).status == "pending"

    shop.mailchimp.set_member_status(shop.account, deals, OLD, "cleaned")
    responses = await shop.mailchimp.fire_list_webhook(shop.account, deals, "cleaned", BOUNCE)
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()

    rows = await _rows(shop, deals)
    assert rows[OLD] == ("cleaned", None)
    assert rows[NEW] == ("pending", customer.global_id)
    _customer_has(shop, customer, deals, "pending")

    # A guest's sign-up there is asked to confirm by e-mail: Mailchimp's rule for a bounced one.
    await _guest_signs_up(shop, deals)
    assert shop.member(deals, OLD).status == "pending"
    assert (await _rows(shop, deals))[OLD] == ("pending", None)
