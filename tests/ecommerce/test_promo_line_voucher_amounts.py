"""A line-level (SPECIFIC_PRODUCT) voucher's promo amount on a line a catalogue promotion also
discounts. Before, the app added up every discount of the code's lines (undiscounted total less
total), so the promotion's discount was sent as the code's too: Saleor applies the voucher on top
of the promotion's price (saleor/discount/utils/voucher.py
`prepare_line_discount_objects_for_voucher`) and, without the channel's legacy propagation,
shows it in no order discount, only in the line's own `discounts` (3.21+)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import update

from addon.installations.models import Installation
from addon.saleor.versions import order_document, parse_version
from sandboxes.saleor.order_models import DiscountValueType, Order
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from sandboxes.saleor.voucher_models import VoucherType
from tests.ecommerce.conftest import CHANNEL, Shop, choose, run_all


async def _fig_order(
    shop: Shop, value_type: DiscountValueType = DiscountValueType.FIXED, **fields: object
) -> Order:
    """3 figs at 10.00 under a catalogue promotion of 2.00 off each, and a voucher of 1 (1.00
    or 1 %) off each on top."""
    product = await shop.product("Fig", "10.00")
    await shop.saleor.vouchers.create(
        "One off each",
        ["ITEM1"],
        channels={CHANNEL: 1},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=value_type,
    )
    line = shop.saleor.order_line(product.variants[0], 3, discount=Decimal("2"))
    return await shop.saleor.vouchers.create_order(
        "ITEM1",
        lines=[line],
        email="fig@example.com",
        checkout_token=uuid.uuid4(),
        **fields,  # type: ignore[arg-type]
    )


def _promos(shop: Shop, order: Order) -> list[tuple[str, float, str]]:
    sent = shop.orders()[str(order.number)]
    return [(p["code"], p["amount_discounted"], p["type"]) for p in sent.promos]


async def test_the_promo_carries_the_vouchers_discount_without_the_promotions(
    shop: Shop,
) -> None:
    await choose(shop, "all")
    order = await _fig_order(shop)
    await run_all(shop)
    # 3 x 1.00; the promotion's 6.00 is not the code's.
    assert _promos(shop, order) == [("ITEM1", 3.0, "fixed")]


async def test_a_percentage_line_voucher_stays_a_percentage_once_deleted(shop: Shop) -> None:
    """Without legacy propagation the line's VOUCHER discount keeps its value type when
    `order.voucher` is gone."""
    await choose(shop, "all")
    order = await _fig_order(shop, DiscountValueType.PERCENTAGE, legacy_propagation=False)
    await run_all(shop)
    # 1 % of the promotion's price, 24.00: 0.24.
    assert _promos(shop, order) == [("ITEM1", 0.24, "percentage")]
    voucher = shop.saleor.vouchers.voucher_of("ITEM1")
    await shop.saleor.vouchers.delete(voucher)
    await shop.saleor.add_order_note(order, "late")
    await run_all(shop)
    assert _promos(shop, order) == [("ITEM1", 0.24, "percentage")]


async def test_with_legacy_propagation_the_order_discount_is_the_codes(shop: Shop) -> None:
    """Legacy propagation: the voucher's discount is the order's VOUCHER discount (and not in
    the line's discounts, saleor/graphql/order/types.py `OrderLine.resolve_discounts`)."""
    await choose(shop, "all")
    order = await _fig_order(shop, legacy_propagation=True)
    await run_all(shop)
    assert _promos(shop, order) == [("ITEM1", 3.0, "fixed")]


async def test_a_saleor_without_line_discounts_is_not_asked_for_them(shop: Shop) -> None:
    """Saleor 3.20 has no `OrderLine.discounts`: the order documents without them are sent
    (a document naming the field would be refused as a whole)."""
    shop.saleor.version = OLDEST_VERSION
    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(saleor_version=OLDEST_VERSION))
    await choose(shop, "all")
    order = await _fig_order(shop, legacy_propagation=True)
    await run_all(shop)
    assert _promos(shop, order) == [("ITEM1", 3.0, "fixed")]


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_a_percentage_voucher_flattened_to_fixed_is_sent_as_a_percentage(
    shop: Shop, version: str
) -> None:
    """An order placed from a checkout stores its voucher "as a fixed value": on 3.20 every
    voucher (saleor/checkout/complete_checkout.py `_create_order_discount`), since 3.21 a
    line-level one under the channel's legacy propagation, Saleor's default. The marketer's
    promo is the voucher's own kind (`order.voucher.discountValueType`), its amount what it
    took off."""
    shop.saleor.version = version
    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(saleor_version=version))
    await choose(shop, "all")
    order = await _fig_order(shop, DiscountValueType.PERCENTAGE)
    await run_all(shop)
    assert _promos(shop, order) == [("ITEM1", 0.24, "percentage")]


def test_the_order_documents_follow_the_version() -> None:
    assert order_document("ecommerce_order", None) == "ecommerce_order"
    assert order_document("ecommerce_order", parse_version("3.20.119")) == "ecommerce_order"
    assert (
        order_document("ecommerce_order", parse_version("3.21.0"))
        == "ecommerce_order_line_discounts"
    )
    assert (
        order_document("initial_sync_orders_since_day", parse_version("3.21.5"))
        == "initial_sync_orders_since_day_line_discounts"
    )
    # Not an order document with a twin.
    assert order_document("ecommerce_customer", parse_version("3.24.0")) == "ecommerce_customer"
