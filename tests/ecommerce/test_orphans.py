"""Lines of deleted variants (addon/ecommerce/orphans.py): the ledger's answer to "which
Mailchimp product holds this variant", the placeholder product, and the order body."""

from __future__ import annotations

from datetime import UTC, datetime

from addon.ecommerce.fingerprints import Fingerprint, order_body
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.orphans import placeholder_product
from addon.ecommerce.payloads import OptInPolicy
from addon.ecommerce.record_states import quarantined, settled
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import GrossOnly, SaleorOrder
from addon.ecommerce.variant_ledger import VariantLedger
from addon.services import Services
from tests.ecommerce.conftest import CHANNEL
from tests.ecommerce.test_ledger import gid, order
from tests.factories import make_installation

AT = datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_ledger_finds_the_product_a_deleted_variant_was_pushed_in(
    services: Services,
) -> None:
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        ledger = LedgerRepository(session)
        records = await ledger.get_or_create_many(
            installation,
            CHANNEL,
            EntityKind.PRODUCT,
            ["p1", gid("ProductVariant", 11), gid("ProductVariant", 13), "p4", "p5"],
        )
        # Deleted in Saleor: removed, its variants' ids kept.
        settled(records["p1"], SyncStatus.REMOVED, "1", Fingerprint.unknown(["11", "12"]), AT)
        for variant in ("11", "13"):
            placeholder = Fingerprint("h", {variant: "v"})
            saleor_id = gid("ProductVariant", int(variant))
            settled(records[saleor_id], SyncStatus.SYNCED, f"deleted_{variant}", placeholder, AT)
        settled(records["p4"], SyncStatus.SYNCED, "4", Fingerprint("h", {"14": "v"}), AT)
        quarantined(records["p4"], "refused")
        settled(records["p5"], SyncStatus.SYNCED, "5", Fingerprint("h", {"111": "v"}), AT)
    async with services.db.session() as session:
        ledger = VariantLedger(session)
        found = await ledger.orphan_products(installation, CHANNEL, ["11", "13", "14", "15"])
        # The product it was pushed in wins over a placeholder; a quarantined product and an
        # id that only shares digits ("111") do not count.
        assert found == {"11": "1", "13": "deleted_13"}
        assert await ledger.orphan_products(installation, "other", ["11"]) == {}
        # A removed product is hidden in Mailchimp, not deleted: order lines still reference
        # its variants (tests/ecommerce/test_unlisted_products.py); a quarantined one's not.
        found_lines = await ledger.available_variants(installation, CHANNEL, ["p1", "p4", "p5"])
        assert found_lines == {"11", "12", "111"}


def _deleted_line_order() -> SaleorOrder:
    placed = order([(1, 11), (2, None), (3, None)])
    lines = [
        placed.lines[0],
        placed.lines[1].model_copy(
            update={
                "product_variant_id": gid("ProductVariant", 13),
                "product_name": "Basil",
                "variant_name": "",
                "product_sku": "BAS-1",
                "unit_price": GrossOnly.model_validate({"gross": {"amount": "4.5"}}),
            }
        ),
        placed.lines[2],  # no productVariantId (very old orders): cannot be referenced
    ]
    return placed.model_copy(update={"lines": lines})


def test_a_deleted_variants_line_references_the_product_that_holds_it() -> None:
    placed = _deleted_line_order()
    policy = OptInPolicy(list_id="list")
    body = order_body(placed, {"11"}, policy, order_id="1", orphans={"13": "deleted_13"})
    assert body is not None
    assert [(ln.id, ln.product_id, ln.product_variant_id) for ln in body.lines] == [
        ("1", "1", "11"),
        ("2", "deleted_13", "13"),
    ]
    without = order_body(placed, {"11"}, policy, order_id="1")
    assert without is not None and [ln.id for ln in without.lines] == ["1"]


def test_a_placeholder_is_hidden_and_out_of_stock() -> None:
    line = _deleted_line_order().lines[1]
    body = placeholder_product("13", line, "USD")
    assert (body.id, body.title, body.vendor) == ("deleted_13", "Basil", "deleted")
    [variant] = body.variants
    assert (variant.id, variant.title, variant.sku, variant.price) == ("13", "BAS-1", "BAS-1", 4.5)
    assert (variant.inventory_quantity, variant.visibility) == (0, "hidden")
