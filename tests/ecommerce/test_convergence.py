"""After any history of Saleor changes, Mailchimp's e-commerce state equals Saleor's.

A property test: Hypothesis draws histories of changes (products, stock, customers, orders and
their payments, fulfilments, cancellations and refunds, checkouts; the worker catching up at
points the history chooses), each replayed against its own fresh app, sandboxes and tables
(`fresh_shop.py`), so a failing history replays and shrinks alone. `make test` runs a few short
histories; the `slow` run (.ci/run) many long ones. Both are derandomized (the same examples on
every run, CI stays deterministic) and use no example database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from addon.config import Settings
from addon.ecommerce.payloads import mailchimp_id
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.payments import is_paid, total_refunded
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop
from tests.ecommerce.fresh_shop import fresh_shop

OPS = 13  # the branches of `_apply`; the last one lets the worker catch up mid-history

Step = tuple[int, int]
# `make test`: a few short histories (about 10 changes each; 10-25 s on a loaded 2-core
# machine); `--slow`: more, longer ones (about 60 changes each; well within 3 minutes).
EXAMPLES, MIN_STEPS, MAX_STEPS = 6, 5, 20
SLOW_EXAMPLES, SLOW_MIN_STEPS, SLOW_MAX_STEPS = 10, 30, 100


def histories(min_size: int, max_size: int) -> st.SearchStrategy[list[Step]]:
    """Histories of `min_size` to `max_size` changes (Hypothesis draws about twice `min_size`
    on average, far fewer without one)."""
    step = st.tuples(st.integers(0, OPS - 1), st.integers(0, 10**6))
    return st.lists(step, min_size=min_size, max_size=max_size)


def _budget(max_examples: int) -> hypothesis_settings:
    """Derandomized: the same examples on every run (CI stays deterministic), several of them;
    no example database, so a run never depends on what an earlier one stored."""
    return hypothesis_settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_budget(EXAMPLES)
@given(steps=histories(MIN_STEPS, MAX_STEPS))
async def test_mailchimp_converges_to_saleor(
    settings: Settings, saleor_signing_key: Any, mailchimp_contract: Any, steps: list[Step]
) -> None:
    await _replay(settings, saleor_signing_key, mailchimp_contract, steps)


@pytest.mark.slow
@_budget(SLOW_EXAMPLES)
@given(steps=histories(SLOW_MIN_STEPS, SLOW_MAX_STEPS))
async def test_mailchimp_converges_to_saleor_after_long_histories(
    settings: Settings, saleor_signing_key: Any, mailchimp_contract: Any, steps: list[Step]
) -> None:
    await _replay(settings, saleor_signing_key, mailchimp_contract, steps)


async def _replay(settings: Settings, signing_key: Any, contract: Any, steps: list[Step]) -> None:
    """Apply the history to a shop of its own, then compare Mailchimp with Saleor."""
    note(f"steps={steps!r}")  # the falsifying example's report leaves the value out
    async with fresh_shop(settings, signing_key, contract) as shop:
        await _apply(shop, steps)
        _assert_converged(shop)


async def test_stock_allocated_by_an_order_reaches_mailchimp(shop: Shop) -> None:
    product = await shop.product("Basil", "5", "6")
    variant = product.variants[0]
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(variant.id, 2)], email="kim@example.com"
    )
    await shop.drain()
    await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    [held] = [
        v.inventory_quantity
        for v in shop.products()[str(product.id)].variants
        if v.id == str(variant.id)
    ]
    assert held == variant.quantity_available == variant.quantity - 2


async def test_stock_released_by_a_cancelled_order_reaches_mailchimp(shop: Shop) -> None:
    """Cancelling gives the order's allocation back (saleor/order/actions.py `cancel_order` →
    `deallocate_stock_for_orders`), again with no product webhook."""
    product = await shop.product("Basil", "5")
    variant = product.variants[0]
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(variant.id, 2)], email="kim@example.com"
    )
    order = await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    await shop.saleor.cancel_order(order)
    await shop.drain()
    [held] = [v.inventory_quantity for v in shop.products()[str(product.id)].variants]
    assert held == variant.quantity


async def test_a_deleted_product_leaves_the_carts_that_held_it(shop: Shop) -> None:
    """Saleor deletes a deleted variant's checkout lines with no webhook (CASCADE): the
    product's push re-pushes the carts, so Mailchimp loses the line, or the cart once empty."""
    basil, mint = await shop.product("Basil", "5"), await shop.product("Mint", "3")
    both = await shop.saleor.create_checkout(
        lines=[LineSpec(basil.variants[0].id, 1), LineSpec(mint.variants[0].id, 2)],
        email="kim@example.com",
    )
    only_basil = await shop.saleor.create_checkout(
        lines=[LineSpec(basil.variants[0].id, 1)], email="lee@example.com"
    )
    await shop.drain()
    assert set(shop.carts()) == {str(both.token), str(only_basil.token)}
    await shop.saleor.delete_product(basil)
    await shop.drain()
    carts = shop.carts()
    assert set(carts) == {str(both.token)}
    assert [ln.product_variant_id for ln in carts[str(both.token)].lines] == [
        str(mint.variants[0].id)
    ]


async def test_an_order_whose_products_were_deleted_still_follows_saleor(shop: Shop) -> None:
    """Its lines no longer name a variant (Saleor's `OrderLine.variant` is SET_NULL), but
    Mailchimp holds the order: a later cancellation still reaches it, as a PATCH."""
    basil = await shop.product("Basil", "5")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(basil.variants[0], 2)], email="kim@example.com"
    )
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "paid"
    await shop.saleor.delete_product(basil)
    await shop.drain()
    await shop.saleor.cancel_order(order)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, len(mc.lines)) == ("cancelled", 1)
    assert shop.writes()[-1] == f"PATCH /orders/{order.id}"


async def _apply(shop: Shop, steps: list[Step]) -> None:
    """Make the changes in Saleor, the worker catching up where the history says, then drain."""
    saleor = shop.saleor
    store = saleor.store
    for index, (op, n) in enumerate(steps):
        products = list(store.products.values())
        orders = [o for o in store.orders.values()]
        checkouts = list(store.checkouts.values())
        customers = list(store.customers.values())
        if op == 0 or not products:
            await shop.product(f"P{index}", str(1 + n % 20), str(2 + n % 7))
        elif op == 1:
            variant = products[n % len(products)].variants[n % 2]
            await saleor.update_variant(variant, quantity=n % 40)
        elif op == 2:
            await saleor.update_product(products[n % len(products)], name=f"Renamed {index}")
        elif op == 3 and len(products) > 1:
            # Often the product of the latest order, whether or not the worker pushed that order
            # yet: an order whose product is deleted before its first push reaches Mailchimp
            # too (addon/ecommerce/orphans.py).
            product = products[n % len(products)]
            bought = [ln.product_id for ln in orders[-1].lines] if orders and n % 2 == 0 else []
            product = next((p for p in products if p.id in bought), product)
            await saleor.delete_product(product)
        elif op == 4 or not customers:
            await saleor.create_customer(f"c{index}@example.com", f"F{index}", "L")
        elif op == 5:
            await saleor.update_customer(customers[n % len(customers)], email=f"x{index}@ex.com")
        elif op == 6:
            variant = products[n % len(products)].variants[0]
            user = customers[n % len(customers)] if n % 2 else None
            await saleor.create_order(
                lines=[saleor.order_line(variant, 1 + n % 3)],
                user=user,
                email=None if user else f"g{index}@example.com",
                paid=bool(n % 3),
                legacy_payment=n % 5 == 0,  # both of Saleor's payment models
            )
        elif op == 7 and orders:
            order = orders[n % len(orders)]
            action = n % 4
            if order.status is OrderStatus.CANCELED:
                continue
            fulfilled = any(line.quantity_fulfilled for line in order.lines)
            if action == 0 and not order.transactions and not order.payments:
                await saleor.mark_order_paid(order, legacy_payment=n % 5 == 0)
            elif action == 1 and any(ln.quantity_fulfilled < ln.quantity for ln in order.lines):
                # Saleor fulfils only what is left (orderFulfill refuses a fulfilled order).
                await saleor.fulfill_order(order)
            elif action == 2 and not fulfilled:  # Saleor cancels no fulfilled order
                await saleor.cancel_order(order)
            elif action == 3 and order.total_charged > 0:
                amount = Decimal("1.00") if n % 2 else None
                if order.payments:
                    await saleor.refund_payment(order, amount)
                else:
                    await saleor.refund_transaction(order, amount)
        elif op in (8, 9):
            variant = products[n % len(products)].variants[n % 2]
            await saleor.create_checkout(
                lines=[LineSpec(variant.id, 1)], email=f"k{index}@example.com" if n % 5 else None
            )
        elif op == 10 and checkouts:
            checkout = checkouts[n % len(checkouts)]
            variant = products[n % len(products)].variants[0]
            await saleor.update_checkout(checkout, set_quantities={variant.id: n % 4})
        elif op == 11 and checkouts:
            checkout = checkouts[n % len(checkouts)]
            if checkout.lines and checkout.email:
                await saleor.complete_checkout(checkout)
        elif op == 12:
            await shop.drain()
    await shop.drain()


def _assert_converged(shop: Shop) -> None:
    store = shop.saleor.store
    mc_products = shop.products()
    for product in store.products.values():
        mc = mc_products[str(product.id)]
        assert mc.title == product.name
        prices = {v.id: (v.price, v.inventory_quantity, v.visibility) for v in mc.variants}
        for variant in product.variants:
            [listing] = variant.channel_listings
            assert prices[str(variant.id)] == (
                float(listing.price),
                variant.quantity_available,
                "visible",
            )
    live = {str(p.id) for p in store.products.values()}
    for gone in set(mc_products) - live:
        assert all(v.visibility == "hidden" for v in mc_products[gone].variants)
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    for customer in store.customers.values():
        if str(customer.id) in customers:
            assert customers[str(customer.id)].email_address == customer.email
    mc_orders = shop.orders()
    assert set(mc_orders) == {str(o.id) for o in store.orders.values()}
    for order in store.orders.values():
        mc = mc_orders[str(order.id)]
        # Mailchimp's revenue: what was refunded is taken off, and a cancelled order is none.
        kept = max(order.total_gross - total_refunded(order), Decimal(0))
        if order.status is OrderStatus.CANCELED:
            kept = Decimal(0)
        assert mc.order_total == float(round(kept, 2))
        # Every line, those of deleted products too, under the variant id it was bought as.
        assert sorted(ln.product_variant_id for ln in mc.lines) == sorted(
            mailchimp_id(ln.product_variant_id or "") for ln in order.lines
        )
        if order.status is OrderStatus.CANCELED:
            assert mc.financial_status == "cancelled"
        elif total_refunded(order) > 0:
            full = order.total_charged == 0
            assert mc.financial_status == ("refunded" if full else "partially_refunded")
        else:
            assert mc.financial_status == ("paid" if is_paid(order) else "pending")
        assert mc.fulfillment_status == ("shipped" if order.status is OrderStatus.FULFILLED else "")
    expected_carts = {
        str(c.token): {str(ln.variant_id): ln.quantity for ln in c.lines}
        for c in store.checkouts.values()
        if c.email and c.lines
    }
    carts = {
        cid: {ln.product_variant_id: ln.quantity for ln in cart.lines}
        for cid, cart in shop.carts().items()
    }
    assert carts == expected_carts
