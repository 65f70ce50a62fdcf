"""With several channels tracked, each into an audience of its own, a registered customer's record
goes only to the stores of the channels where they bought or left a cart: a Saleor customer
belongs to no channel, and Mailchimp makes every store customer a contact of the store's
audience (billed per audience). See addon/ecommerce/customer_stores.py; the initial sync:
tests/initial_sync/test_customer_stores.py."""

from __future__ import annotations

from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.second_channel import EU, track_eu
from tests.ecommerce.test_burst import batch_calls, bursty, settle  # noqa: F401


def _emails(shop: Shop, store_id: str) -> set[str]:
    return {c.email_address for c in shop.mailchimp.customers(shop.account, store_id)}


def _members(shop: Shop, store_id: str) -> set[str]:
    [store] = [s for s in shop.mailchimp.stores(shop.account) if s.id == store_id]
    return {m.email_address for m in shop.mailchimp.members(shop.account, store.list_id)}


async def test_a_customer_who_never_shopped_is_in_no_store_until_they_do(shop: Shop) -> None:
    eu = await track_eu(shop)
    fig = await shop.product("Fig", "2.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee", is_confirmed=True)
    await shop.drain()
    assert _emails(shop, shop.store_id) == _emails(shop, eu) == set()
    assert "ann@example.com" not in _members(shop, eu)  # no contact in either audience
    assert "ann@example.com" not in _members(shop, shop.store_id)
    await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="ann@example.com", customer=ann
    )
    await shop.make_due()
    await shop.drain()
    assert _emails(shop, shop.store_id) == {"ann@example.com"}
    assert _emails(shop, eu) == set()


async def test_a_customer_goes_where_they_buy_and_their_changes_follow(shop: Shop) -> None:
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee", is_confirmed=True)
    await shop.drain()
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=ann)
    await shop.drain()
    assert _emails(shop, eu) == {"ann@example.com"}
    ann = await shop.saleor.update_customer(ann, first_name="Annie")
    await shop.drain()
    [customer] = shop.mailchimp.customers(shop.account, eu)
    assert customer.first_name == "Annie"
    assert _emails(shop, shop.store_id) == set()
    # An order in the other channel brings her there too; both stores follow her from then on.
    await shop.saleor.create_order(lines=[shop.saleor.order_line(pear.variants[0], 1)], user=ann)
    await shop.drain()
    await shop.saleor.update_customer(ann, last_name="Li")
    await shop.drain()
    for store_id in (shop.store_id, eu):
        [customer] = shop.mailchimp.customers(shop.account, store_id)
        assert (customer.first_name, customer.last_name) == ("Annie", "Li"), store_id


async def test_a_customer_who_bought_only_in_another_channel_stays_there(shop: Shop) -> None:
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[EU])
    # Created in Saleor before the app heard of her: her first order in `eu` comes first.
    bob = shop.saleor.store.create_customer("bob@example.com", "Bob", "Brown", is_confirmed=True)
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=bob)
    await shop.drain()
    await shop.saleor.update_customer(bob, last_name="Browne")
    await shop.drain()
    assert _emails(shop, shop.store_id) == set()
    [customer] = shop.mailchimp.customers(shop.account, eu)
    assert (customer.email_address, customer.last_name) == ("bob@example.com", "Browne")


async def test_a_registered_shoppers_cart_brings_them_to_its_store(shop: Shop) -> None:
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[EU])
    cy = shop.saleor.store.create_customer("cy@example.com", "Cy", "Ng", is_confirmed=True)
    await shop.saleor.create_checkout(
        EU, lines=[LineSpec(pear.variants[0].id, 1)], email="cy@example.com", customer=cy
    )
    await shop.drain()
    await shop.make_due()
    await shop.drain()
    await shop.saleor.update_customer(cy, first_name="Cyrus")
    await shop.drain()
    assert _emails(shop, shop.store_id) == set()
    [customer] = shop.mailchimp.customers(shop.account, eu)
    assert customer.first_name == "Cyrus"


async def test_with_one_channel_tracked_every_customer_goes_to_its_store(shop: Shop) -> None:
    await shop.saleor.add_channel(EU, "Europe", "EUR")  # not tracked
    pear = await shop.product("Pear", "2.00", channels=[EU])
    dee = await shop.saleor.create_customer("dee@example.com", "Dee", is_confirmed=True)
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=dee)
    await shop.drain()
    assert _emails(shop, shop.store_id) == {"dee@example.com"}


async def test_buyers_of_orders_sent_in_a_burst_come_to_its_store(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    await settle(shop)
    buyers = [
        shop.saleor.store.create_customer(f"b{i}@example.com", "B", is_confirmed=True)
        for i in range(6)
    ]
    for buyer in buyers:
        line = shop.saleor.order_line(pear.variants[0], 1)
        await shop.saleor.create_order(EU, [line], user=buyer, paid=False)
    start = batch_calls(shop)
    await settle(shop)
    assert batch_calls(shop, start) > 0  # they went out as a burst
    for buyer in buyers:
        await shop.saleor.update_customer(buyer, last_name="Later")
    await settle(shop)
    assert {(c.email_address, c.last_name) for c in shop.mailchimp.customers(shop.account, eu)} == {
        (b.email, "Later") for b in buyers
    }
    assert _emails(shop, shop.store_id) == set()


async def test_a_customer_no_store_holds_goes_where_saleor_says_they_bought(shop: Shop) -> None:
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    await shop.drain()
    # Her order in `eu` was placed as a guest; her account, made later, got it when she
    # confirmed it (Saleor's `match_orders_with_new_user`), with no order webhook.
    await shop.saleor.create_order(
        EU, [shop.saleor.order_line(pear.variants[0], 1)], email="gus@example.com"
    )
    await shop.drain()
    gus = await shop.saleor.create_customer("gus@example.com", "Gus")
    gus = await shop.saleor.confirm_account(gus)
    await shop.saleor.update_customer(gus, last_name="Green")
    await shop.drain()
    assert _emails(shop, shop.store_id) == set()
    # (On the customer holding the address already, her guest one: `email_holder.py`.)
    held = {(c.email_address, c.last_name) for c in shop.mailchimp.customers(shop.account, eu)}
    assert held == {("gus@example.com", "Green")}
