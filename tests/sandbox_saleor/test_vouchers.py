"""Vouchers as Saleor serves them: MANAGE_DISCOUNTS on the queries and webhooks, the webhooks of
each voucher mutation, per-channel values, and orders placed with a code (see the sandbox's
vouchers.py)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import DiscountValueType, OrderLine, OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.voucher_input import VoucherRefused
from sandboxes.saleor.voucher_models import VoucherType
from sandboxes.saleor.vouchers import VoucherDeleteCrashed

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
    """As saleor/graphql/discount/mutations/voucher/*.py `post_save_action` call them."""
    await _install(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
    sandbox.store.add_channel("web", currency_code="EUR")
    voucher = await sandbox.vouchers.create("Summer", ["SUMMER", "SUN"], channels={"web": 10})
    added = await sandbox.vouchers.add_codes(voucher, ["EXTRA"])
    await sandbox.vouchers.update(voucher)  # an empty input: `if cleaned_input:` is false
    await sandbox.vouchers.delete_codes(added)
    await sandbox.vouchers.delete_codes(added)  # gone already: fired all the same, empty
    await sandbox.vouchers.update_metadata(voucher, {"mailchimp": "true"})
    await sandbox.vouchers.delete(voucher)
    assert [d.event_type for d in sandbox.deliveries] == [
        "VOUCHER_CODES_CREATED",  # voucherCreate: the codes first,
        "VOUCHER_CREATED",  # then the voucher,
        "VOUCHER_UPDATED",  # voucherChannelListingUpdate
        "VOUCHER_CODES_CREATED",  # voucherUpdate(addCodes) alone: no VOUCHER_UPDATED
        "VOUCHER_CODES_DELETED",
        "VOUCHER_CODES_DELETED",
        "VOUCHER_METADATA_UPDATED",
        "VOUCHER_DELETED",
    ]
    bodies = [json.loads(body) for _, body in fake_app.webhooks]
    assert [c["code"] for c in bodies[0]["voucherCodes"]] == ["SUMMER", "SUN"]
    assert bodies[1]["voucher"] == {"id": voucher.global_id, "name": "Summer", "code": "SUMMER"}
    assert bodies[3]["voucherCodes"][0]["code"] == "EXTRA"
    assert bodies[4]["voucherCodes"][0]["code"] == "EXTRA"
    assert bodies[5]["voucherCodes"] == []
    # The payload is rendered after the delete cascaded to the codes.
    assert bodies[7]["voucher"] == {"id": voucher.global_id, "codes": {"edges": []}}
    assert not sandbox.store.vouchers


async def test_a_voucher_without_codes_cannot_be_deleted(sandbox: SaleorSandbox) -> None:
    """voucher_delete.py reads `instance.codes.first().code` before deleting."""
    voucher = await sandbox.vouchers.create("Bare", ["BARE"], channels={})
    await sandbox.vouchers.delete_codes(voucher.codes)
    with pytest.raises(VoucherDeleteCrashed):
        await sandbox.vouchers.delete(voucher)
    assert voucher.id in sandbox.store.vouchers


CODES = """
query ($id: ID!) {
  voucher(id: $id) { code codes(first: 10) { edges { node { id code } } } }
}
"""


async def test_codes_have_uuid_ids_and_come_newest_first(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    """`VoucherCode.id` is a UUIDField; `Meta.ordering = ("-created_at", "code")`;
    `Voucher.code` is what `CodeByVoucherIDLoader` leaves last: the oldest code."""
    await _install(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
    app = next(iter(sandbox.store.apps.values()))
    voucher = await sandbox.vouchers.create("Multi", ["FIRST"], channels={})
    await sandbox.vouchers.add_codes(voucher, ["SECOND"])
    body = await sandbox.execute(CODES, {"id": voucher.global_id}, app=app)
    found = body["data"]["voucher"]
    assert found["code"] == "FIRST"
    nodes = [e["node"] for e in found["codes"]["edges"]]
    assert [n["code"] for n in nodes] == ["SECOND", "FIRST"]
    type_name, pk = base64.b64decode(nodes[0]["id"]).decode().split(":")
    assert type_name == "VoucherCode" and uuid.UUID(pk)


async def test_code_input_is_checked_as_saleor_does(sandbox: SaleorSandbox) -> None:
    """voucher_create.py `clean_codes` and `_clean_new_codes`, the model's max lengths."""
    with pytest.raises(VoucherRefused, match="Duplicated promo codes provided") as dup:
        await sandbox.vouchers.create("Dup", ["A", " A "], channels={})
    assert (dup.value.field, dup.value.code) == ("codes", "DUPLICATED_INPUT_ITEM")
    with pytest.raises(VoucherRefused, match="At least one of arguments is required"):
        await sandbox.vouchers.create("None", [], channels={})
    with pytest.raises(VoucherRefused) as long_code:
        await sandbox.vouchers.create("Long", ["X" * 256], channels={})
    assert (long_code.value.field, long_code.value.code) == ("code", "INVALID")
    with pytest.raises(VoucherRefused) as long_name:
        await sandbox.vouchers.create("N" * 256, ["N"], channels={})
    assert (long_name.value.field, long_name.value.code) == ("name", "INVALID")
    with pytest.raises(VoucherRefused) as negative:
        await sandbox.vouchers.create("Neg", ["NEG"], channels={}, usage_limit=-1)
    assert negative.value.field == "usageLimit"
    with pytest.raises(TypeError):  # not a VoucherInput field
        await sandbox.vouchers.create("Odd", ["ODD"], channels={}, used=3)
    blank = await sandbox.vouchers.create("Blank", ["  "], channels={})
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", blank.codes[0].code)
    assert not sandbox.store.vouchers.keys() - {blank.id}


async def test_dates_refused_only_when_the_end_precedes_the_start(
    sandbox: SaleorSandbox,
) -> None:
    """`validate_end_is_after_start`: `start_date > end_date` only."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    same = await sandbox.vouchers.create(
        "Same", ["SAME"], channels={}, start_date=start, end_date=start
    )
    assert same.end_date == start
    with pytest.raises(VoucherRefused, match="End date cannot be before the start date"):
        await sandbox.vouchers.update(same, end_date=start - timedelta(seconds=1))


async def test_channel_listings_are_checked_as_saleor_does(sandbox: SaleorSandbox) -> None:
    """voucher_channel_listing_update.py: PositiveDecimal values, the currency's precision,
    at most 100 percent, a value for a new channel, `update_or_create` keeping the rest."""
    sandbox.store.add_channel("web", currency_code="EUR")
    sandbox.store.add_channel("jp", currency_code="JPY")
    voucher = await sandbox.vouchers.create("Fixed", ["FIXED"], channels={})
    for channel, value, min_spent, message in (
        ("web", "-1", None, "PositiveDecimal"),
        ("web", "1.005", None, "Invalid amount precision"),
        ("jp", "1.5", None, "Invalid amount precision"),
        ("web", "0", None, "Value is required"),
        ("web", "1", Decimal("10.001"), "Invalid amount precision"),
        ("web", "1", Decimal("-5"), "PositiveDecimal"),
    ):
        with pytest.raises(VoucherRefused, match=message):
            await sandbox.vouchers.set_channel(voucher, channel, value, min_spent)
    await sandbox.vouchers.set_channel(voucher, "web", "5", Decimal("20"))
    [listing] = voucher.channel_listings
    await sandbox.vouchers.set_channel(voucher, "web", "0")  # an existing channel may hold 0
    [changed] = voucher.channel_listings
    assert (changed.id, changed.discount_value, changed.min_spent) == (
        listing.id,
        Decimal("0"),
        Decimal("20"),
    )
    pct = await sandbox.vouchers.create(
        "Pct", ["PCT"], channels={}, value_type=DiscountValueType.PERCENTAGE
    )
    with pytest.raises(VoucherRefused, match="Invalid percentage value"):
        await sandbox.vouchers.set_channel(pct, "web", "100.5")
    await sandbox.vouchers.set_channel(pct, "web", "12.5")


async def test_usage_settings_are_fixed_once_a_code_was_used(sandbox: SaleorSandbox) -> None:
    """voucher_update.py `clean_voucher_usage_setting`: VOUCHER_ALREADY_USED."""
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("Once", ["ONCE"], channels={channel: 1})
    await sandbox.vouchers.update(voucher, usage_limit=10)  # not used yet: allowed
    await sandbox.vouchers.create_order("ONCE", lines=_lines(sandbox), email="a@x.test")
    for field, value in (("usage_limit", 20), ("single_use", True)):
        with pytest.raises(VoucherRefused) as refused:
            await sandbox.vouchers.update(voucher, **{field: value})
        assert refused.value.code == "VOUCHER_ALREADY_USED"
    await sandbox.vouchers.update(voucher, usage_limit=10)  # unchanged: allowed
    assert voucher.usage_limit == 10 and not voucher.single_use


async def test_orders_refuse_a_voucher_saleor_would_not_apply(sandbox: SaleorSandbox) -> None:
    """`get_voucher_for_checkout` (active code, `active_in_channel`) and `validate_voucher`."""
    channel = sandbox.store.default_channel().slug
    sandbox.store.add_channel("other")
    now = datetime.now(UTC)
    staff = sandbox.store.create_customer("staff@x.test", is_staff=True)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("LATER", {"start_date": now + timedelta(days=1)}),
        ("ENDED", {"start_date": now - timedelta(days=2), "end_date": now - timedelta(days=1)}),
        ("LIMIT", {"usage_limit": 1}),
        ("SINGLE", {"single_use": True}),
        ("ONCE", {"apply_once_per_customer": True}),
        ("STAFF", {"only_for_staff": True}),
        ("QTY", {"min_checkout_items_quantity": 4}),
    ]
    for code, fields in cases:
        await sandbox.vouchers.create(code, [code], channels={channel: 1}, **fields)
    await sandbox.vouchers.create(
        "Spend", ["SPEND"], channels={channel: 1}, min_spent={channel: Decimal("50.01")}
    )
    await sandbox.vouchers.create("Elsewhere", ["ELSEWHERE"], channels={"other": 1})
    for code in ("LIMIT", "SINGLE", "ONCE"):  # their first use is fine
        await sandbox.vouchers.create_order(code, lines=_lines(sandbox), email="a@x.test")
    await sandbox.vouchers.create_order(
        "STAFF", lines=_lines(sandbox), user=staff, email=staff.email
    )
    for code in ("LATER", "ENDED", "LIMIT", "SINGLE", "ONCE", "STAFF", "QTY", "SPEND", "ELSEWHERE"):
        with pytest.raises(VoucherRefused, match="Voucher not applicable") as refused:
            await sandbox.vouchers.create_order(code, lines=_lines(sandbox), email="a@x.test")
        assert refused.value.code == "VOUCHER_NOT_APPLICABLE", code
    assert sandbox.vouchers.voucher_of("LIMIT").codes[0].used == 1
    assert sandbox.vouchers.voucher_of("SINGLE").codes[0].is_active is False


async def test_percentages_round_half_up_on_line_totals(sandbox: SaleorSandbox) -> None:
    """`percentage_discount(..., rounding=ROUND_HALF_UP)` (saleor/discount/models.py), taken
    off a line's total for SPECIFIC_PRODUCT (`calculate_line_discount_amount_from_voucher`)."""
    channel = sandbox.store.default_channel().slug
    odd = sandbox.store.create_product("Odd", [VariantSpec(sku="ODD", price=Decimal("20.05"))])
    tiny = sandbox.store.create_product("Tiny", [VariantSpec(sku="TINY", price=Decimal("0.05"))])
    for code, kind in (
        ("ORDER10", VoucherType.ENTIRE_ORDER),
        ("LINE10", VoucherType.SPECIFIC_PRODUCT),
    ):
        await sandbox.vouchers.create(
            code,
            [code],
            channels={channel: 10},
            type=kind,
            value_type=DiscountValueType.PERCENTAGE,
        )
    order = await sandbox.vouchers.create_order(
        "ORDER10", lines=[sandbox.order_line(odd.variants[0], 1)], email="a@x.test"
    )
    assert order.discounts[0].amount == Decimal("2.01")  # 2.005, half up
    lined = await sandbox.vouchers.create_order(
        "LINE10",
        lines=[sandbox.order_line(tiny.variants[0], 3)],
        email="a@x.test",
        legacy_propagation=True,
    )
    assert lined.discounts[0].amount == Decimal("0.02")  # 10% of 0.15, not 3 x 10% of 0.05


async def test_a_line_level_voucher_comes_off_the_lines_total(sandbox: SaleorSandbox) -> None:
    """saleor/checkout/base_calculations.py `calculate_base_line_total_price`: the base total
    less the voucher's discount, and the unit price that total over the quantity, rounded
    (`calculate_base_line_unit_price`); not a rounded unit price times the quantity."""
    channel = sandbox.store.default_channel().slug
    mug = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("9.99"))])
    await sandbox.vouchers.create(
        "One off",
        ["ONEOFF"],
        channels={channel: 10},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=DiscountValueType.PERCENTAGE,
        apply_once_per_order=True,
    )
    order = await sandbox.vouchers.create_order(
        "ONEOFF",
        lines=[sandbox.order_line(mug.variants[0], 3)],
        email="a@x.test",
        checkout_token=uuid.uuid4(),
    )
    [line] = order.lines
    # 10 % of one unit: 0.999, so 1.00 off 29.97. Spread over the units first, 0.33 each, it
    # would have made 28.98.
    assert line.total_gross == Decimal("28.97")
    assert line.price_gross(order.step) == Decimal("9.66")  # 9.6566…, half up
    assert line.unit_discount(order.step, placed_from_checkout=True) == Decimal("0.33")
    assert order.subtotal_gross == Decimal("28.97")


async def test_vouchers_filtered_by_channel_status_and_search(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    """resolvers.py `resolve_vouchers` (channel, deprecated `query`), filters.py
    `filter_status` and `filter_voucher_search`."""
    await _install(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
    app = next(iter(sandbox.store.apps.values()))
    sandbox.store.add_channel("web", currency_code="EUR")
    sandbox.store.add_channel("shop")
    now = datetime.now(UTC)
    await sandbox.vouchers.create("Web now", ["WEBNOW"], channels={"web": 1})
    await sandbox.vouchers.create(
        "Web soon", ["WEBSOON"], channels={"web": 1}, start_date=now + timedelta(days=1)
    )
    await sandbox.vouchers.create(
        "Shop past",
        ["SHOPPAST"],
        channels={"shop": 1},
        start_date=now - timedelta(days=2),
        end_date=now - timedelta(days=1),
    )

    async def names(filter: dict[str, Any], **args: Any) -> list[str]:
        query = """query ($filter: VoucherFilterInput, $channel: String, $query: String) {
          vouchers(first: 10, filter: $filter, channel: $channel, query: $query) {
            edges { node { name } } } }"""
        body = await sandbox.execute(query, {"filter": filter, **args}, app=app)
        return [e["node"]["name"] for e in body["data"]["vouchers"]["edges"]]

    assert await names({}, channel="web") == ["Web now", "Web soon"]
    assert await names({"status": ["ACTIVE"]}) == ["Web now"]
    # By name (`Voucher.Meta.ordering`), not in the order they were made.
    assert await names({"status": ["SCHEDULED", "EXPIRED"]}) == ["Shop past", "Web soon"]
    assert await names({"search": "web"}, query="soon") == ["Web soon"]


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
    with pytest.raises(VoucherRefused, match="Invalid percentage value"):
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


async def test_an_order_keeps_its_voucher_when_the_code_is_deleted(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    """`Order.voucher` is a foreign key set when the order is placed, SET_NULL when the voucher
    is deleted (saleor/order/models.py): deleting the order's code alone keeps it."""
    await _install(sandbox, fake_app, ["MANAGE_DISCOUNTS", "MANAGE_ORDERS"])
    app = next(iter(sandbox.store.apps.values()))
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("Keep", ["KEEP", "SPARE"], channels={channel: 5})
    order = await sandbox.vouchers.create_order("KEEP", lines=_lines(sandbox), email="a@x.test")
    query = "query ($id: ID!) { order(id: $id) { voucherCode voucher { id } } }"

    async def held() -> dict[str, Any]:
        body = await sandbox.execute(query, {"id": order.global_id}, app=app)
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["order"]
        return found

    code = voucher.code_named("KEEP")
    assert code is not None
    await sandbox.vouchers.delete_codes([code])
    assert await held() == {"voucherCode": "KEEP", "voucher": {"id": voucher.global_id}}
    await sandbox.vouchers.delete(voucher)
    assert await held() == {"voucherCode": "KEEP", "voucher": None}


async def test_an_expired_order_gives_its_codes_use_back(sandbox: SaleorSandbox) -> None:
    """saleor/order/tasks.py `_expire_orders`: an unconfirmed order never paid expires, and
    `_bulk_release_voucher_usage` takes its use off the code (never below 0)."""
    channel = sandbox.store.default_channel().slug
    voucher = await sandbox.vouchers.create("Once", ["ONCE"], channels={channel: 1}, usage_limit=5)
    order = await sandbox.vouchers.create_order(
        "ONCE",
        lines=_lines(sandbox),
        email="a@x.test",
        paid=False,
        status=OrderStatus.UNCONFIRMED,
    )
    assert voucher.codes[0].used == 1
    edited = sandbox.store.get_order(order.id).updated_at
    expired = await sandbox.expire_order(order)
    assert expired.status is OrderStatus.EXPIRED and voucher.codes[0].used == 0
    assert expired.updated_at == edited  # a queryset update(): `auto_now` is not applied
    paid = await sandbox.vouchers.create_order("ONCE", lines=_lines(sandbox), email="b@x.test")
    with pytest.raises(ValueError, match="unconfirmed orders without payments"):
        await sandbox.expire_order(paid)
