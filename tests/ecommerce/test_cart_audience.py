"""Carts of shoppers not yet in the store's audience: Mailchimp refuses such a cart ("not found
in audience", the sandbox's `carts.py`), so the app adds the contact as a non-subscribed
(`transactional`) contact and posts the cart again, once; never for an address the app erased,
nor one Mailchimp keeps out (archived, forgotten): that cart is not sent, and its record says
why (`addon/ecommerce/cart_audience.py`)."""

from __future__ import annotations

from addon.ecommerce.cart_audience import NOT_JOINED_ARCHIVED, NOT_JOINED_ERASED
from addon.ecommerce.models import EntityKind, SyncStatus
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_erased_shopper_orders import _texts_naming
from tests.erasure.test_erasure import ANN, _customer_with_history

GUEST = "first.time@example.com"


def _member_writes(shop: Shop, email: str) -> list[str]:
    path = f"/lists/{shop.list_id}/members/{subscriber_hash(email)}"
    return [
        r.method for r in shop.mailchimp.requests if r.path.endswith(path) and r.method != "GET"
    ]


async def test_a_first_time_guest_s_cart_reaches_mailchimp(shop: Shop) -> None:
    """Before, the cart's POST was refused, retried and quarantined: a new shopper's
    abandoned cart never reached Mailchimp, so no abandoned-cart e-mail."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST
    )
    await shop.drain()

    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and (record.status, record.last_error) == (SyncStatus.SYNCED, None)
    assert str(checkout.token) in shop.carts()
    member = shop.mailchimp.member(shop.account, shop.list_id, GUEST)
    assert member is not None and member.status == "transactional"  # no subscription
    assert _member_writes(shop, GUEST) == ["PUT"]
    assert shop.writes().count("POST /carts") == 2  # refused, then taken
    assert await _texts_naming(shop, GUEST) == []


async def test_an_erased_address_is_not_added_again_for_a_cart(shop: Shop) -> None:
    """Ann's account was deleted (so erased in Mailchimp); she leaves a cart as a guest. The
    app does not put her back in the audience: the cart is not sent, and its record says why."""
    customer, _, _ = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    fig = await shop.product("Fig", "2.00")
    writes = len(_member_writes(shop, ANN))

    checkout = await shop.saleor.create_checkout(lines=[LineSpec(fig.variants[0].id, 1)], email=ANN)
    await shop.drain()

    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    assert len(_member_writes(shop, ANN)) == writes  # never asked to add her
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, NOT_JOINED_ERASED)
    assert await _texts_naming(shop, ANN) == []


async def test_an_archived_contact_stays_archived_and_its_cart_is_not_sent(shop: Shop) -> None:
    """An admin archived the contact in Mailchimp: adding it `status_if_new` leaves it
    archived (no status changed), so the cart is not sent, and the record says so."""
    fig = await shop.product("Fig", "2.00")
    added = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members",
        body={"email_address": GUEST, "status": "transactional"},
    )
    assert added.status == 200, added.body
    path = f"/lists/{shop.list_id}/members/{subscriber_hash(GUEST)}"
    assert (await shop.mailchimp.call(shop.account, "DELETE", path)).status == 204

    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST
    )
    await shop.drain()

    assert shop.mailchimp.member(shop.account, shop.list_id, GUEST).status == "archived"
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, NOT_JOINED_ARCHIVED)
