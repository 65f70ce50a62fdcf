"""Customers when channels are tracked later, untracked, moved to another audience, or when
Saleor gives a customer orders with no order webhook (addon/ecommerce/customer_stores.py
`stores_of`, `buyer_rule`; the rule itself: tests/ecommerce/test_customer_stores.py)."""

from __future__ import annotations

from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.second_channel import EU, track_eu
from tests.sandbox_mailchimp.helpers import list_body


def _emails(shop: Shop, store_id: str) -> set[str]:
    return {c.email_address for c in shop.mailchimp.customers(shop.account, store_id)}


async def test_a_buyer_the_first_store_holds_follows_to_a_channel_tracked_later(
    shop: Shop,
) -> None:
    """`default-channel` tracked alone: every customer goes to its store. Bob buys in `eu`, not
    tracked yet; then `eu` is tracked, with no initial sync. His next change reaches `eu`'s store
    too: Saleor says he bought there."""
    await shop.saleor.add_channel(EU, "Europe", "EUR")
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    bob = await shop.saleor.create_customer("bob@example.com", "Bob", "Brown", is_confirmed=True)
    await shop.drain()
    assert _emails(shop, shop.store_id) == {"bob@example.com"}  # one channel: everyone
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=bob)
    await shop.drain()
    eu = await track_eu(shop, added=True)
    # (The new store takes a buyer's record: Cy buys there once it is tracked.)
    cy = await shop.saleor.create_customer("cy@example.com", "Cy", "Ng", is_confirmed=True)
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=cy)
    await shop.drain()
    assert _emails(shop, eu) == {"cy@example.com"}
    await shop.saleor.update_customer(bob, last_name="Browne")
    await shop.drain()
    held = {(c.email_address, c.last_name) for c in shop.mailchimp.customers(shop.account, eu)}
    assert ("bob@example.com", "Browne") in held


async def test_a_buyer_of_both_channels_follows_to_a_store_moved_to_another_audience(
    shop: Shop,
) -> None:
    """Dee bought in both channels. `eu` is moved to another audience, so another store, sent
    everything afresh: her next change reaches the new store."""
    await shop.saleor.add_channel(EU, "Europe", "EUR")
    await track_eu(shop, added=True)
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    dee = await shop.saleor.create_customer("dee@example.com", "Dee", "Day", is_confirmed=True)
    await shop.drain()
    for channel in (CHANNEL, EU):
        await shop.saleor.create_order(
            channel, [shop.saleor.order_line(pear.variants[0], 1)], user=dee
        )
    await shop.drain()
    created = await shop.mailchimp.call(shop.account, "POST", "/lists", body=list_body("EU news 2"))
    new_list = str(created.body["id"])
    response = await shop.api(
        "PUT", f"/api/ecommerce/channels/{EU}", {"tracked": True, "list_id": new_list}
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    [store] = [s for s in shop.mailchimp.stores(shop.account) if s.list_id == new_list]
    # (The new store takes a buyer's record: Fay buys there after the switch.)
    fay = await shop.saleor.create_customer("fay@example.com", "Fay", "Fox", is_confirmed=True)
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=fay)
    await shop.drain()
    assert _emails(shop, str(store.id)) == {"fay@example.com"}
    await shop.saleor.update_customer(dee, last_name="Daly")
    await shop.drain()
    held = {
        (c.email_address, c.last_name) for c in shop.mailchimp.customers(shop.account, store.id)
    }
    assert ("dee@example.com", "Daly") in held


async def test_untracking_a_channel_does_not_put_its_buyers_in_the_other_store(
    shop: Shop,
) -> None:
    """Eve bought only in `eu`. `eu` is untracked, one channel left: her next change still does
    not put her into the default channel's store and audience, where she never shopped."""
    await shop.saleor.add_channel(EU, "Europe", "EUR")
    eu = await track_eu(shop, added=True)
    pear = await shop.product("Pear", "2.00", channels=[EU])
    eve = await shop.saleor.create_customer("eve@example.com", "Eve", "Ng", is_confirmed=True)
    await shop.drain()
    await shop.saleor.create_order(EU, [shop.saleor.order_line(pear.variants[0], 1)], user=eve)
    await shop.drain()
    assert _emails(shop, eu) == {"eve@example.com"}
    assert _emails(shop, shop.store_id) == set()
    response = await shop.api("PUT", f"/api/ecommerce/channels/{EU}", {"tracked": False})
    assert response.status_code == 200, response.text
    await shop.drain()
    await shop.saleor.update_customer(eve, last_name="Ong")
    await shop.drain()
    assert _emails(shop, shop.store_id) == set()


async def test_an_email_change_that_brings_guest_orders_of_another_channel_brings_her_there(
    shop: Shop,
) -> None:
    """Ann bought in `default-channel`. Earlier, a guest order in `eu` was placed with her work
    address. She changes her address to it: Saleor gives her that order, with no order webhook
    (saleor/graphql/account/mutations/staff/customer_update.py, `match_orders_with_new_user`),
    so her record follows to `eu`'s store (onto the guest customer holding the address there)."""
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    await shop.drain()
    guest = await shop.saleor.create_order(
        EU, [shop.saleor.order_line(pear.variants[0], 1)], email="ann.work@example.com"
    )
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee", is_confirmed=True)
    await shop.saleor.create_order(CHANNEL, [shop.saleor.order_line(pear.variants[0], 1)], user=ann)
    await shop.drain()
    ann = await shop.saleor.update_customer(ann, email="ann.work@example.com", last_name="Worker")
    await shop.drain()
    # Saleor gave her the guest order.
    assert guest.id in {o.id for o in shop.saleor.store.orders.values() if o.user_id == ann.id}
    home = shop.mailchimp.customers(shop.account, shop.store_id)
    assert ("ann.work@example.com", "Worker") in {(c.email_address, c.last_name) for c in home}
    held = {(c.email_address, c.last_name) for c in shop.mailchimp.customers(shop.account, eu)}
    assert ("ann.work@example.com", "Worker") in held
