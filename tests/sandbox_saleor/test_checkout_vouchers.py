"""A voucher code on a checkout (`checkoutAddPromoCode`, `Checkout.voucherCode`), priced and
carried into the order as Saleor does (sandboxes/src/sandboxes/saleor/checkout_vouchers.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Checkout, utcnow
from sandboxes.saleor.order_models import DiscountValueType
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.voucher_models import VoucherType

from .conftest import APP_HOST, gql

ADD = """mutation($id: ID, $code: String!) {
  checkoutAddPromoCode(id: $id, promoCode: $code) {
    errors { field code message }
    checkoutErrors { code }
    checkout { voucherCode }
  }
}"""

PRICES = """query($id: ID!) { checkout(id: $id) {
  voucherCode discount { amount } discountName
  subtotalPrice { gross { amount } } totalPrice { gross { amount } }
  shippingPrice { gross { amount } }
  lines { unitPrice { gross { amount } } totalPrice { gross { amount } } } } }"""


async def _token(sandbox: SaleorSandbox) -> str:
    app = next(iter(sandbox.store.apps.values()), None)
    if app is None:
        app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    return app.auth_token


async def _shop(sandbox: SaleorSandbox, **fields: Any) -> Checkout:
    """A checkout of 2 x 10.00 and 1 x 5.00 (25.00), shipping 4.00 unless given."""
    store = sandbox.store
    shirt = store.create_product("Shirt", [VariantSpec(sku="SHIRT", price=Decimal("10.00"))])
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("5.00"))])
    fields.setdefault("shipping_price", Decimal("4.00"))
    fields.setdefault("email", "ann@example.com")
    return await sandbox.create_checkout(
        lines=[LineSpec(shirt.variants[0].id, 2), LineSpec(mug.variants[0].id, 1)], **fields
    )


async def _add(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, checkout: Checkout, code: str
) -> dict[str, Any]:
    body = await gql(
        client, ADD, {"id": checkout.global_id, "code": code}, token=await _token(sandbox)
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["checkoutAddPromoCode"]
    return result


async def _prices(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, checkout: Checkout
) -> dict[str, Any]:
    body = await gql(client, PRICES, {"id": checkout.global_id}, token=await _token(sandbox))
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["checkout"]
    return found


def _gross(value: dict[str, Any]) -> Decimal:
    return Decimal(str(value["gross"]["amount"]))


async def test_an_entire_order_voucher_is_spread_over_the_lines_and_sent_as_an_update(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any, emitted: list[str]
) -> None:
    checkout = await _shop(sandbox)
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create("Five off", ["FIVE"], channels={channel: 5})
    before = await _prices(sandbox, client, checkout)
    assert before["voucherCode"] is None and _gross(before["totalPrice"]) == Decimal("29")
    emitted.clear()
    result = await _add(sandbox, client, checkout, "FIVE")
    assert result["errors"] == [] and result["checkout"] == {"voucherCode": "FIVE"}
    assert emitted == ["CHECKOUT_UPDATED"]
    after = await _prices(sandbox, client, checkout)
    assert after["discount"] == {"amount": 5.0} and after["discountName"] == "Five off"
    # 20.00 and 5.00 share 5.00 as 4.00 and 1.00 (`_propagate_checkout_discount_...`).
    assert [_gross(ln["totalPrice"]) for ln in after["lines"]] == [Decimal(16), Decimal(4)]
    assert _gross(after["subtotalPrice"]) == Decimal(20)
    assert _gross(after["totalPrice"]) == Decimal(24)  # shipping untouched
    order = await sandbox.complete_checkout(checkout)
    assert order.voucher_code == "FIVE"
    assert order.total_gross == Decimal(24)


async def test_a_specific_product_percentage_lowers_each_line(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    checkout = await _shop(sandbox)
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Tenth",
        ["TENTH"],
        channels={channel: 10},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=DiscountValueType.PERCENTAGE,
    )
    assert (await _add(sandbox, client, checkout, "TENTH"))["errors"] == []
    after = await _prices(sandbox, client, checkout)
    assert [_gross(ln["totalPrice"]) for ln in after["lines"]] == [Decimal(18), Decimal("4.5")]
    assert [_gross(ln["unitPrice"]) for ln in after["lines"]] == [Decimal(9), Decimal("4.5")]
    assert _gross(after["subtotalPrice"]) == Decimal("22.5")
    order = await sandbox.complete_checkout(checkout)
    assert order.voucher_code == "TENTH" and order.total_gross == Decimal("26.5")
    assert {ln.voucher_code for ln in order.lines} == {"TENTH"}


async def test_apply_once_per_order_takes_one_unit_of_the_cheapest_line(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    checkout = await _shop(sandbox)
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Two off one", ["ONCE"], channels={channel: 2}, apply_once_per_order=True
    )
    assert (await _add(sandbox, client, checkout, "ONCE"))["errors"] == []
    after = await _prices(sandbox, client, checkout)
    assert [_gross(ln["totalPrice"]) for ln in after["lines"]] == [Decimal(20), Decimal(3)]
    assert after["discount"] == {"amount": 2.0}
    assert _gross(after["totalPrice"]) == Decimal(27)


async def test_a_shipping_voucher_lowers_the_delivery_price_only(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    checkout = await _shop(sandbox)
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Ship", ["SHIP"], channels={channel: 10}, type=VoucherType.SHIPPING
    )
    assert (await _add(sandbox, client, checkout, "SHIP"))["errors"] == []
    after = await _prices(sandbox, client, checkout)
    assert _gross(after["shippingPrice"]) == Decimal(0)  # never below nothing
    assert _gross(after["subtotalPrice"]) == Decimal(25)
    assert _gross(after["totalPrice"]) == Decimal(25)
    order = await sandbox.complete_checkout(checkout)
    assert order.voucher_code == "SHIP" and order.total_gross == Decimal(25)


async def test_the_orders_use_is_counted_and_a_used_up_code_is_refused_next(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    checkout = await _shop(sandbox)
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("One", ["ONE"], channels={channel: 1}, usage_limit=1)
    assert (await _add(sandbox, client, checkout, "ONE"))["errors"] == []
    await sandbox.complete_checkout(checkout)
    assert voucher.codes[0].used == 1
    again = await _shop(sandbox)
    refused = await _add(sandbox, client, again, "ONE")
    assert refused["errors"] == [
        {"field": "promoCode", "code": "INVALID", "message": "Promo code is invalid"}
    ]


INVALID = {"field": "promoCode", "code": "INVALID", "message": "Promo code is invalid"}
NOT_APPLICABLE = {
    "field": "promoCode",
    "code": "VOUCHER_NOT_APPLICABLE",
    "message": "Voucher is not applicable to this checkout.",
}


@pytest.mark.parametrize(
    ("fields", "checkout_fields", "expected"),
    [
        ({"end_date": "past"}, {}, INVALID),  # `active_in_channel`: ended
        ({"start_date": "future"}, {}, INVALID),  # not started
        ({"unlisted": True}, {}, INVALID),  # not listed in the checkout's channel
        ({"inactive_code": True}, {}, INVALID),  # the code deactivated (single use, used)
        ({"min_spent": Decimal(30)}, {}, NOT_APPLICABLE),
        ({"min_checkout_items_quantity": 4}, {}, NOT_APPLICABLE),
        ({"only_for_staff": True}, {}, NOT_APPLICABLE),
        ({"apply_once_per_customer": True, "used_by": "ann@example.com"}, {}, NOT_APPLICABLE),
        ({"type": VoucherType.SHIPPING}, {"shipping_price": Decimal(0)}, NOT_APPLICABLE),
    ],
)
async def test_refusals_are_saleors_codes_on_promo_code(
    sandbox: SaleorSandbox,
    client: httpx.AsyncClient,
    fake_app: Any,
    fields: dict[str, Any],
    checkout_fields: dict[str, Any],
    expected: dict[str, str],
) -> None:
    checkout = await _shop(sandbox, **checkout_fields)
    channel = sandbox.store.default_channel().slug
    fields = dict(fields)
    now = utcnow()
    if fields.pop("start_date", None) == "future":
        fields["start_date"] = now + timedelta(days=1)
    if fields.pop("end_date", None):
        fields["end_date"] = now - timedelta(days=1)
        fields["start_date"] = now - timedelta(days=2)
    unlisted = fields.pop("unlisted", False)
    inactive = fields.pop("inactive_code", False)
    used_by = fields.pop("used_by", None)
    type_ = fields.pop("type", VoucherType.ENTIRE_ORDER)
    min_spent = fields.pop("min_spent", None)
    voucher = await sandbox.vouchers.create(
        "V",
        ["CODE"],
        channels={} if unlisted else {channel: 1},
        type=type_,
        min_spent={channel: min_spent} if min_spent else None,
        **fields,
    )
    if inactive:
        voucher.codes[0].is_active = False
    if used_by:
        voucher.codes[0].customer_emails.add(used_by)
    result = await _add(sandbox, client, checkout, "CODE")
    assert result["errors"] == [expected] and result["checkout"] is None
    assert result["checkoutErrors"] == [{"code": expected["code"]}]
    assert (await _prices(sandbox, client, checkout))["voucherCode"] is None


async def test_an_unknown_or_gift_card_code_is_invalid(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    checkout = await _shop(sandbox)
    for code in ("NOPE", "ABCD-EFGH-IJKL"):  # gift cards are not modelled: unknown codes
        assert (await _add(sandbox, client, checkout, code))["errors"] == [INVALID]


async def test_a_voucher_that_stops_applying_leaves_the_checkout(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    checkout = await _shop(sandbox)
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create(
        "Big", ["BIG"], channels={channel: 3}, min_spent={channel: Decimal(20)}
    )
    assert (await _add(sandbox, client, checkout, "BIG"))["errors"] == []
    shirt = checkout.lines[0].variant_id
    sandbox.store.update_checkout(checkout, set_quantities={shirt: 1})  # 15.00 < 20.00
    # Read before the prices in this query, the code is still there: only a price
    # recalculation drops it.
    assert (await _prices(sandbox, client, checkout))["voucherCode"] == "BIG"
    after = await _prices(sandbox, client, checkout)
    assert after["voucherCode"] is None and _gross(after["totalPrice"]) == Decimal(19)
    order = await sandbox.complete_checkout(checkout)
    assert order.voucher_code is None
