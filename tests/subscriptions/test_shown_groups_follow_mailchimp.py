"""The groups a customer's public metadata shows (`mailchimp.groups.<list id>`: what Mailchimp's
profile page would show the contact, never a hidden group) follow what Mailchimp says of the
groups: a category the admin makes hidden in Mailchimp (or shown again) is rewritten on the
customers in it once the app imports the audiences, and customers an earlier version wrote
with their hidden groups in public are written again once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from addon.audiences.models import NewsletterSettings
from addon.clock import ManualClock
from addon.subscriptions import shown_groups
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE, GROUPS_PREFIX
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_hidden_groups_metadata import _ann_chooses_veg
from tests.subscriptions.test_signup_form_known_contacts import ANN, STORE

BOB = "bob@example.com"


def _keys(shop: Shop, email: str = ANN) -> tuple[str, str]:
    """A customer's groups key of News (Ann's): public, private."""
    customer = shop.saleor.store.find_customer_by_email(email)
    assert customer is not None
    key = GROUPS_PREFIX + shop.ids["news"]
    return customer.metadata.get(key, ""), customer.private_metadata.get(key, "")


async def _import(shop: Shop) -> None:
    refreshed = await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    assert refreshed.status_code == 202, refreshed.text
    await shop.work()


async def _category(shop: Shop, title: str) -> str:
    found = await shop.mc("GET", f"/lists/{shop.ids['news']}/interest-categories")
    return next(str(c["id"]) for c in found["categories"] if c["title"] == title)


async def test_a_group_made_hidden_in_mailchimp_leaves_the_public_metadata(
    newsletter: Shop,
) -> None:
    shop = newsletter
    await _ann_chooses_veg(shop)
    news, veg, fair = shop.ids["news"], shop.ids["Veg"], shop.ids["Fair"]
    assert _keys(shop) == (veg, ",".join(sorted([veg, fair])))

    topics = await _category(shop, "Topics")
    await shop.mc("PATCH", f"/lists/{news}/interest-categories/{topics}", {"type": "hidden"})
    await _import(shop)
    assert _keys(shop) == ("", ",".join(sorted([veg, fair])))

    # Shown again (and the store's "Source" group made visible): both are public now.
    source = await _category(shop, "Source")
    await shop.mc("PATCH", f"/lists/{news}/interest-categories/{topics}", {"type": "checkboxes"})
    await shop.mc("PATCH", f"/lists/{news}/interest-categories/{source}", {"type": "checkboxes"})
    await _import(shop)
    public, private = _keys(shop)
    assert sorted(public.split(",")) == sorted([veg, fair])
    assert private == ",".join(sorted([veg, fair]))


async def test_customers_written_with_their_hidden_groups_in_public_are_written_again(
    newsletter: Shop,
) -> None:
    shop = newsletter
    await _ann_chooses_veg(shop)
    veg, fair = shop.ids["Veg"], shop.ids["Fair"]
    # As an earlier version wrote her: every group in public, no private key.
    customer = shop.saleor.store.find_customer_by_email(ANN)
    assert customer is not None
    key = GROUPS_PREFIX + shop.ids["news"]
    customer.metadata[key] = ",".join(sorted([veg, fair]))
    del customer.private_metadata[key]
    async with shop.services.db.transaction() as session:
        await session.execute(update(NewsletterSettings).values(shown_groups_revision=0))

    await _import(shop)
    assert _keys(shop) == (veg, ",".join(sorted([veg, fair])))
    # Once: the next import writes nobody again.
    customer.metadata[key] = "left as it is"
    await _import(shop)
    assert _keys(shop)[0] == "left as it is"


async def _bob_chooses_veg(shop: Shop) -> Any:
    """Bob, a confirmed customer, subscribes to News in Veg on his account page."""
    customer = await shop.saleor.create_customer(
        BOB, metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    token = shop.saleor.mint_customer_token(customer)
    chosen = {"list_id": shop.ids["news"], "subscribed": True, "groups": [shop.ids["Veg"]]}
    saved = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [chosen]},
    )
    assert saved.status_code == 202, saved.text
    await shop.work()
    return customer


async def test_customers_of_no_hidden_group_written_before_get_their_private_key(
    newsletter: Shop,
) -> None:
    """An earlier version wrote no private key at all: every customer in a group is written
    again once, not only those in a hidden one."""
    shop = newsletter
    veg = shop.ids["Veg"]
    customer = await _bob_chooses_veg(shop)
    assert _keys(shop, BOB) == (veg, veg)
    # As an earlier version wrote him: no private key.
    del customer.private_metadata[GROUPS_PREFIX + shop.ids["news"]]
    async with shop.services.db.transaction() as session:
        await session.execute(update(NewsletterSettings).values(shown_groups_revision=0))

    await _import(shop)
    assert _keys(shop, BOB) == (veg, veg)


async def _topics_hidden_paged(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Ann (Veg, Fair) and Bob (Veg) written; then Topics hidden in Mailchimp and imported, the
    rewrite a contact a page (`PAGE`): Ann's page at once. Veg's and Fair's ids."""
    monkeypatch.setattr(shown_groups, "PAGE", 1)
    await _ann_chooses_veg(shop)
    await _bob_chooses_veg(shop)
    news, veg, fair = shop.ids["news"], shop.ids["Veg"], shop.ids["Fair"]
    topics = await _category(shop, "Topics")
    await shop.mc("PATCH", f"/lists/{news}/interest-categories/{topics}", {"type": "hidden"})
    await _import(shop)
    assert _keys(shop) == ("", ",".join(sorted([veg, fair])))
    assert _keys(shop, BOB) == (veg, veg)  # his page is next
    return veg, fair


async def test_the_customers_of_a_group_are_written_again_a_page_at_a_time(
    newsletter: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs are taken oldest due first: queued all at once, the customers of a large group
    would hold the store's live changes behind them. A page of them is written at once, the
    next page as much later as its write-backs take (`WRITES_PER_SECOND`)."""
    shop = newsletter
    veg, _ = await _topics_hidden_paged(shop, monkeypatch)
    clock.advance(1 / shown_groups.WRITES_PER_SECOND)
    await shop.work()
    assert _keys(shop, BOB) == ("", veg)


async def test_a_customers_own_change_waits_for_no_page_of_the_rewrite(
    newsletter: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued for later in their lanes, the write-backs would hold each contact's own changes
    (a leaving, an erasure) until their time: Bob's leaving goes at once."""
    shop = newsletter
    news = shop.ids["news"]
    await _topics_hidden_paged(shop, monkeypatch)
    customer = shop.saleor.store.find_customer_by_email(BOB)
    assert customer is not None
    token = shop.saleor.mint_customer_token(customer)
    left = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": news, "subscribed": False}]},
    )
    assert left.status_code == 202, left.text
    await shop.work()
    assert shop.member(news, BOB).status == "unsubscribed"
