"""Vouchers as Saleor serves them: MANAGE_DISCOUNTS on the queries and webhooks, the webhooks of
each voucher mutation, per-channel values, and orders placed with a code (see the sandbox's
vouchers.py)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import DiscountValueType, OrderLine
from sandboxes.saleor.store import VariantSpec
from sandboxes.saleor.voucher_models import VoucherType
from sandboxes.saleor.vouchers import VoucherRefused

from .conftest import APP_HOST, FakeApp, default_manifest

EVENTS = """
subscription {
  event {
    ... on VoucherCreated { voucher { id name code } }
    ... on VoucherUpdated { voucher { id name } }
    ... on VoucherDeleted { voucher { id codes(first: 10) { edges { node { code } } } } }
    ... on VoucherMetadataUpdated { voucher { id metadata { key value } } }
    ... on VoucherCodesCreated { voucherCodes { id code used isActive } }
    ... on VoucherCodesDeleted { voucherCodes { id code } }
  }
}
"""

QUERY = """
query ($channel: String) {
  vouchers(first: 10, channel: $channel) {
    totalCount
    edges { node { id name type discountValueType discountValue currency used code
      minSpent { amount } channelListings { channel { slug } discountValue }
      codes(first: 10) { edges { node { code used isActive } } } } }
  }
}
"""


async def _install(sandbox: SaleorSandbox, fake_app: FakeApp, permissions: list[str]) -> None:
    manifest = default_manifest()
    manifest["permissions"] = permissions
    manifest["webhooks"] = [
        {
            "name": "Vouchers",
            "query": EVENTS,
            "targetUrl": f"http://{APP_HOST}/api/webhooks/vouchers",
            "isActive": True,
        }
    ]
    fake_app.manifest = manifest
    await sandbox.install_app(f"http://{APP_HOST}/api/manifest")


async def test_voucher_mutations_fire_their_webhooks(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    await _install(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
    sandbox.store.add_channel("web", currency_code="EUR")
    voucher = await sandbox.vouchers.create("Summer", ["SUMMER", "SUN"], channels={"web": 10})
    added = await sandbox.vouchers.add_codes(voucher, ["EXTRA"])
    await sandbox.vouchers.delete_codes(added)
    await sandbox.vouchers.update_metadata(voucher, {"mailchimp": "true"})
    await sandbox.vouchers.delete(voucher)
    assert [d.event_type for d in sandbox.deliveries] == [
        "VOUCHER_CREATED",
        "VOUCHER_CODES_CREATED",
        "VOUCHER_UPDATED",
        "VOUCHER_CODES_CREATED",
        "VOUCHER_CODES_DELETED",
        "VOUCHER_METADATA_UPDATED",
        "VOUCHER_DELETED",
    ]
    bodies = [json.loads(body) for _, body in fake_app.webhooks]
    assert bodies[0]["voucher"] == {"id": voucher.global_id, "name": "Summer", "code": "SUMMER"}
    assert [c["code"] for c in bodies[1]["voucherCodes"]] == ["SUMMER", "SUN"]
    assert bodies[3]["voucherCodes"][0]["code"] == "EXTRA"
    assert bodies[4]["voucherCodes"][0]["code"] == "EXTRA"
    deleted = bodies[6]["voucher"]["codes"]["edges"]
    assert [e["node"]["code"] for e in deleted] == ["SUMMER", "SUN"]
    assert not sandbox.store.vouchers


async def test_voucher_webhooks_and_queries_need_manage_discounts(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    await _install(sandbox, fake_app, ["MANAGE_ORDERS"])
    app = next(iter(sandbox.store.apps.values()))
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create("Summer", ["SUMMER"], channels={channel: 5})
    assert sandbox.deliveries == []
    body = await sandbox.execute(QUERY, {"channel": channel}, app=app)
    assert body["data"]["vouchers"] is None
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"


async def test_values_per_channel_and_refusals(sandbox: SaleorSandbox, fake_app: FakeApp) -> None:
    await _install(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
    app = next(iter(sandbox.store.apps.values()))
    sandbox.store.add_channel("web", currency_code="EUR")
    await sandbox.vouchers.create(
        "Ten",
        ["TEN"],
        channels={"web": 10},
        value_type=DiscountValueType.PERCENTAGE,
        min_spent={"web": Decimal("50")},
    )
    in_web = await sandbox.execute(QUERY, {"channel": "web"}, app=app)
    [node] = [e["node"] for e in in_web["data"]["vouchers"]["edges"]]
    assert (node["discountValue"], node["currency"], node["minSpent"]) == (
        10.0,
        "EUR",
        {"amount": 50.0},
    )
    assert node["channelListings"] == [{"channel": {"slug": "web"}, "discountValue": 10.0}]
    assert (node["type"], node["discountValueType"], node["used"]) == (
        "ENTIRE_ORDER",
        "PERCENTAGE",
        0,
    )
    nowhere = await sandbox.execute(QUERY, {}, app=app)
    assert nowhere["data"]["vouchers"]["edges"][0]["node"]["discountValue"] is None
    with pytest.raises(VoucherRefused, match="Promo code already exists"):
        await sandbox.vouchers.create("Again", ["TEN"], channels={"web": 1})
    with pytest.raises(VoucherRefused):
        await sandbox.vouchers.create(
            "Too much", ["X"], channels={"web": 101}, value_type=DiscountValueType.PERCENTAGE
        )


def _lines(sandbox: SaleorSandbox) -> list[OrderLine]:
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("20"))])
    cap = sandbox.store.create_product("Cap", [VariantSpec(sku="CAP", price=Decimal("10"))])
    return [sandbox.order_line(mug.variants[0], 2), sandbox.order_line(cap.variants[0], 1)]


async def test_orders_carry_the_discount_saleor_records(sandbox: SaleorSandbox) -> None:
    channel = sandbox.store.default_channel().slug
    lines = _lines(sandbox)
    pct = await sandbox.vouchers.create(
        "Pct",
        ["PCT"],
        channels={channel: 10},
        value_type=DiscountValueType.PERCENTAGE,
        usage_limit=100,
    )
    order = await sandbox.vouchers.create_order("PCT", lines=lines, email="a@x.test")
    [discount] = order.discounts
    assert (discount.amount, discount.value) == (Decimal("5.00"), Decimal("10"))
    assert order.total_gross == Decimal("45.00") and pct.codes[0].used == 1

    await sandbox.vouchers.create(
        "Ship", ["SHIP"], channels={channel: 4}, type=VoucherType.SHIPPING
    )
    shipped = await sandbox.vouchers.create_order(
        "SHIP", lines=_lines(sandbox), shipping_price=Decimal("6"), email="a@x.test"
    )
    assert shipped.shipping_price_gross == Decimal("2") and shipped.total_gross == Decimal("52")
    assert shipped.discounts[0].amount == Decimal("4")

    item = await sandbox.vouchers.create(
        "Item", ["ITEM"], channels={channel: 3}, type=VoucherType.SPECIFIC_PRODUCT
    )
    lined = await sandbox.vouchers.create_order("ITEM", lines=_lines(sandbox), email="a@x.test")
    assert lined.discounts == [] and lined.total_gross == Decimal("41")
    assert [ln.voucher_code for ln in lined.lines] == ["ITEM", "ITEM"]
    assert item.codes[0].used == 0  # no usage limit: Saleor does not count
