"""A registered customer changes to an address a guest's Mailchimp customer holds: her data goes
to that customer (`email_holder.py`), and stays stable there. Her own customer is not deleted
to be re-created and put back under her old address on every push (Mailchimp refuses its new
address as the guest's), and her later orders, carts and updates go straight to the holder."""

from __future__ import annotations

from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop

A, G = "ann@example.com", "ann.g@example.com"


def _customer_calls(shop: Shop, since: int) -> list[tuple[str, str]]:
    return [
        (r.method, r.path.rsplit("/ecommerce/", 1)[-1])
        for r in shop.mailchimp.requests[since:]
        if "/customers" in r.path
    ]


async def _changed_to_a_guests_address(shop: Shop) -> tuple[object, object, str]:
    fig = await shop.product("Fig", "2.00")
    await shop.saleor.create_order(lines=[shop.saleor.order_line(fig.variants[0], 1)], email=G)
    ann = await shop.saleor.create_customer(A, "Ann", "Lee")
    await shop.saleor.create_order(lines=[shop.saleor.order_line(fig.variants[0], 1)], user=ann)
    await shop.drain()
    guest = next(
        c for c in shop.mailchimp.customers(shop.account, shop.store_id) if c.email_address == G
    )
    before = len(shop.mailchimp.requests)
    ann = await shop.saleor.confirm_email_change(ann, G)
    await shop.drain()
    # Asked before deleting: her customer stays as it is, her data goes to the guest's.
    assert ("DELETE", f"stores/{shop.store_id}/customers/{ann.id}") not in _customer_calls(
        shop, before
    )
    held = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert held[str(ann.id)].email_address == A
    assert (held[guest.id].email_address, held[guest.id].first_name) == (G, "Ann")
    return ann, fig, guest.id


async def test_later_orders_go_straight_to_the_holder(shop: Shop) -> None:
    ann, fig, guest = await _changed_to_a_guests_address(shop)
    before = len(shop.mailchimp.requests)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)], user=ann
    )
    await shop.drain()
    assert shop.orders()[str(order.id)].customer.id == guest
    order_calls = [
        (r.method, r.status)
        for r in shop.mailchimp.requests[before:]
        if "/orders" in r.path or "/customers" in r.path
    ]
    assert all(status < 400 for _, status in order_calls), order_calls
    assert _customer_calls(shop, before) == []


async def test_later_updates_and_carts_go_straight_to_the_holder(shop: Shop) -> None:
    ann, fig, guest = await _changed_to_a_guests_address(shop)
    before = len(shop.mailchimp.requests)
    await shop.saleor.update_customer(ann, last_name="Oak")
    await shop.drain()
    held = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert held[guest].last_name == "Oak" and held[str(ann.id)].email_address == A
    # Found by the address, then updated: no refusal of her own customer first.
    assert [m for m, _ in _customer_calls(shop, before)] == ["GET", "PUT"]

    before = len(shop.mailchimp.requests)
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], customer=ann, email=G
    )
    await shop.drain()
    assert shop.carts()[str(checkout.token)].customer.id == guest
    assert _customer_calls(shop, before) == []
