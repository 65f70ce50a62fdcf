"""One Mailchimp customer per e-mail address in a store (`addon/ecommerce/email_holder.py`):
Mailchimp refuses a second customer with an address another customer holds
(mailchimp/mc-magento#58), and one shopper is often a guest and a registered customer."""

from __future__ import annotations

from addon.ecommerce.models import EntityKind, SyncStatus
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def test_an_account_opened_after_guest_orders_joins_the_guest_customer(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    line = shop.saleor.order_line(fig.variants[0], 1)
    guest_order = await shop.saleor.create_order(lines=[line], email="ann@example.com")
    await shop.drain()
    [guest] = shop.mailchimp.customers(shop.account, shop.store_id)
    # Saleor's accountRegister does not give the guest orders to the new account.
    ann = await shop.saleor.create_customer("Ann@Example.com", "Ann", "Lee")
    await shop.drain()
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (held.id, held.email_address, held.first_name) == (guest.id, "ann@example.com", "Ann")
    record = await shop.record(EntityKind.CUSTOMER, ann.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert record.mailchimp_id == guest.id  # an erasure, and the next push, find it there
    # Her next change reaches that customer too (her own id tried first, then the holder's).
    await shop.saleor.update_customer(ann, last_name="Oak")
    await shop.drain()
    [held] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert held.last_name == "Oak"
    # Her orders as a customer land on the same customer, beside the guest one.
    order = await shop.saleor.create_order(lines=[line], user=ann)
    await shop.drain()
    orders = shop.orders()
    assert orders[str(order.id)].customer.id == orders[str(guest_order.id)].customer.id == guest.id
    assert len(shop.mailchimp.customers(shop.account, shop.store_id)) == 1


async def test_a_signed_out_customers_cart_names_their_customer(shop: Shop) -> None:
    """A checkout started without signing in, with the account's address: Saleor gives it the
    user only when it completes (`assign_checkout_user`)."""
    fig = await shop.product("Fig", "2.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="ANN@example.com"
    )
    await shop.drain()
    cart = shop.carts()[str(checkout.token)]
    assert (cart.customer.id, cart.customer.email_address) == (str(ann.id), "ann@example.com")
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    # Its lines change: the cart is created again, on the same customer.
    await shop.saleor.update_checkout(checkout, add_lines=[LineSpec(fig.variants[0].id, 2)])
    await shop.drain()
    assert shop.carts()[str(checkout.token)].customer.id == str(ann.id)
    # Completed, the order is hers in Saleor too.
    order = await shop.saleor.complete_checkout(checkout)
    assert order.user_id == ann.id
    await shop.drain()
    assert shop.orders()[str(order.id)].customer.id == str(ann.id)
    assert str(checkout.token) not in shop.carts()
    assert len(shop.mailchimp.customers(shop.account, shop.store_id)) == 1


async def test_an_address_changed_to_one_a_guest_holds_moves_onto_that_customer(
    shop: Shop,
) -> None:
    fig = await shop.product("Fig", "2.00")
    line = shop.saleor.order_line(fig.variants[0], 1)
    await shop.saleor.create_order(lines=[line], email="bo@example.com")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    order = await shop.saleor.create_order(lines=[line], user=ann)
    await shop.drain()
    await shop.saleor.update_customer(ann, email="bo@example.com")
    await shop.drain()
    held = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    # Her customer stays under the address her order was placed with; her data now lives on
    # the customer holding her new address.
    assert held[str(ann.id)].email_address == "ann@example.com"
    assert shop.orders()[str(order.id)].customer.id == str(ann.id)
    record = await shop.record(EntityKind.CUSTOMER, ann.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert record.mailchimp_id is not None and record.mailchimp_id != str(ann.id)
    assert (held[record.mailchimp_id].email_address, held[record.mailchimp_id].first_name) == (
        "bo@example.com",
        "Ann",
    )


async def test_a_registered_customers_new_address_never_moves_the_guest_customer(
    shop: Shop,
) -> None:
    """Her data went to the guest customer holding her address; her address then changes. The
    guest customer keeps the guest's address and orders; she becomes a customer of her own."""
    fig = await shop.product("Fig", "2.00")
    line = shop.saleor.order_line(fig.variants[0], 1)
    guest_order = await shop.saleor.create_order(lines=[line], email="ann@example.com")
    await shop.drain()
    [guest] = shop.mailchimp.customers(shop.account, shop.store_id)
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    await shop.saleor.update_customer(ann, email="ann.lee@example.com")
    await shop.drain()
    held = {c.id: c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert held == {guest.id: "ann@example.com", str(ann.id): "ann.lee@example.com"}
    assert shop.orders()[str(guest_order.id)].customer.id == guest.id
