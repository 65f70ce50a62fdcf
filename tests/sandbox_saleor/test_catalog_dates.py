"""What moves a product's and a variant's `updatedAt` (`store_catalog.py`), as Saleor 3.20.119
and 723cd4e do alike: a stock edit, what orders allocate and a price save rows of their own and
move neither; `productVariantUpdate` moves the variant's when a field it tracks changed, and the
product's only when that is the variant's SKU or name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Product, ProductVariant
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

OLD = datetime(2024, 1, 1, tzinfo=UTC)
VERSIONS = pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])


async def _mug(version: str) -> tuple[SaleorSandbox, Product, ProductVariant]:
    """A product of one variant, both last changed at `OLD`."""
    sandbox = SaleorSandbox(version=version)
    product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG", name="Mug", quantity=5)])
    (variant,) = product.variants
    product.updated_at = variant.updated_at = OLD
    return sandbox, product, variant


def _moved(product: Product, variant: ProductVariant) -> tuple[bool, bool]:
    return product.updated_at != OLD, variant.updated_at != OLD


@VERSIONS
@pytest.mark.parametrize(
    ("changes", "moved"),
    [
        ({"quantity": 3}, (False, False)),  # productVariantStocksUpdate
        ({"quantity": 0}, (False, False)),
        ({"quantity_allocated": 2}, (False, False)),
        ({"channel_listings": []}, (False, False)),
        ({"track_inventory": False}, (False, True)),
        ({"is_preorder": True, "preorder_global_threshold": 9}, (False, True)),
        ({"quantity_limit_per_customer": 4}, (False, True)),
        ({"name": "Mug large"}, (True, True)),
        ({"sku": "MUG-L"}, (True, True)),
        ({"name": "Mug", "sku": "MUG", "track_inventory": True}, (False, False)),  # as they were
    ],
)
async def test_what_a_variant_edit_moves(
    version: str, changes: dict[str, Any], moved: tuple[bool, bool]
) -> None:
    sandbox, product, variant = await _mug(version)
    await sandbox.update_variant(variant, **changes)
    assert _moved(product, variant) == moved


@VERSIONS
async def test_stock_rows_and_a_completed_checkout_move_no_date(version: str) -> None:
    """`checkoutComplete` allocates the stock (saleor/warehouse/management.py
    `allocate_stocks`: `Stock.quantity_allocated` and `Allocation` rows only)."""
    sandbox, product, variant = await _mug(version)
    await sandbox.delete_stocks(variant)
    await sandbox.create_stocks(variant, 4)
    checkout = await sandbox.create_checkout(lines=[LineSpec(variant.id, 2)], email="a@x.test")
    await sandbox.complete_checkout(checkout)
    assert variant.quantity_allocated == 2
    assert _moved(product, variant) == (False, False)
