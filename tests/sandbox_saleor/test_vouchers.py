"""Vouchers as Saleor serves them: MANAGE_DISCOUNTS on the queries and webhooks, the webhooks of
each voucher mutation, per-channel values (orders placed with a code: test_voucher_orders.py;
see the sandbox's vouchers.py)."""

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
from sandboxes.saleor.order_models import DiscountValueType
from sandboxes.saleor.voucher_input import VoucherRefused
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


async def install_voucher_app(
    sandbox: SaleorSandbox, fake_app: FakeApp, permissions: list[str]
) -> None:
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
    await install_voucher_app(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
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
    await install_voucher_app(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
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


async def test_vouchers_filtered_by_channel_status_and_search(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    """resolvers.py `resolve_vouchers` (channel, deprecated `query`), filters.py
    `filter_status` and `filter_voucher_search`."""
    await install_voucher_app(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
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
    await install_voucher_app(sandbox, fake_app, ["MANAGE_ORDERS"])
    app = next(iter(sandbox.store.apps.values()))
    channel = sandbox.store.default_channel().slug
    await sandbox.vouchers.create("Summer", ["SUMMER"], channels={channel: 5})
    assert sandbox.deliveries == []
    body = await sandbox.execute(QUERY, {"channel": channel}, app=app)
    assert body["data"]["vouchers"] is None
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"


async def test_values_per_channel_and_refusals(sandbox: SaleorSandbox, fake_app: FakeApp) -> None:
    await install_voucher_app(sandbox, fake_app, ["MANAGE_DISCOUNTS"])
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
