"""A registered customer's order reaches the merge fields that map an address or a phone.

Completing a checkout stores the order's addresses as the customer's default ones where there
were none, with a plain save and no CUSTOMER_UPDATED or ADDRESS_* event
(saleor/checkout/complete_checkout.py `_process_user_data_for_order` → saleor/account/utils.py
`store_user_address`). Before, ORDER_CREATED did anything only for an order carrying a
newsletter tick, so a subscriber's first order left their mapped ADDRESS and PHONE empty until
the customer next changed otherwise."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.profile_sync import UPDATE_PROFILE_JOB
from sandboxes.saleor import Customer
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from tests.audiences.conftest import ADDRESS, _map
from tests.subscriptions.conftest import Shop

EMAIL = "ann@example.com"


async def _subscriber_without_address(shop: Shop, fields: list[dict[str, Any]]) -> Customer:
    """News maps `fields`; Ann registers and subscribes without an address (a storefront's
    sign-up asks none)."""
    response = await _map(shop, shop.ids["news"], fields)
    assert response.status_code == 200, response.text
    buyer = await shop.saleor.create_customer(
        EMAIL, "Ann", "Apple", metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    assert shop.member(shop.ids["news"], EMAIL).status == "subscribed"
    return buyer


async def _first_order(shop: Shop, buyer: Customer) -> None:
    """Her first order, signed in and without a newsletter tick (she is subscribed already)."""
    if not shop.saleor.store.channels:
        await shop.saleor.add_channel("default")
    store = shop.saleor.store
    product = store.create_product("Mug", [VariantSpec(sku=None, price=Decimal("5.00"))])
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], customer=buyer
    )
    await shop.saleor.update_checkout(checkout, billing_address=store.new_address(**ADDRESS))
    await shop.saleor.complete_checkout(checkout)
    assert store.get_customer(buyer.id).default_billing_address_id is not None


async def _profile_updates(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == UPDATE_PROFILE_JOB)
        )
    return count or 0


async def test_a_first_orders_billing_address_and_phone_reach_the_member(
    newsletter: Shop,
) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    fields = [
        {"merge_tag": "ADDRESS", "source": "billing_address"},
        {"merge_tag": "PHONE", "source": "billing_phone"},
    ]
    buyer = await _subscriber_without_address(shop, fields)
    assert shop.member(news, EMAIL).merge_fields.get("PHONE") in (None, "")

    await _first_order(shop, buyer)
    await shop.work()

    member = shop.member(news, EMAIL)
    assert member.merge_fields["PHONE"] == "+14155552671"
    assert member.merge_fields["ADDRESS"]["addr1"] == "1 Main St"


async def test_without_an_address_or_phone_mapped_an_order_queues_no_profile_update(
    newsletter: Shop,
) -> None:
    shop = newsletter
    buyer = await _subscriber_without_address(
        shop, [{"merge_tag": "FNAME", "source": "first_name"}]
    )
    before = await _profile_updates(shop)

    await _first_order(shop, buyer)
    await shop.work()

    assert await _profile_updates(shop) == before


async def test_a_returning_customers_order_queues_no_profile_update(newsletter: Shop) -> None:
    """An order sets a default address only where the customer has none, and saves the
    customer then only: a customer with both defaults, not saved since yesterday, gets no
    profile update (and no Saleor read) for each order. Before, every order of a registered
    subscriber queued one."""
    shop = newsletter
    fields = [{"merge_tag": "PHONE", "source": "billing_phone"}]
    buyer = await _subscriber_without_address(shop, fields)
    await _first_order(shop, buyer)
    await shop.work()
    customer = shop.saleor.store.get_customer(buyer.id)
    customer.default_shipping_address_id = customer.default_billing_address_id
    customer.updated_at -= timedelta(days=1)  # her first order was yesterday
    before = await _profile_updates(shop)

    await _first_order(shop, buyer)  # the same address again
    await shop.work()

    assert await _profile_updates(shop) == before
