"""A variant's stock row made, changed and removed, with the events Saleor sends for each
(`sandbox_catalog.py`): productVariantStocksCreate / productVariantStocksDelete send
BACK_IN_STOCK / OUT_OF_STOCK alone; productVariantStocksUpdate sends them by each version's rule
before STOCK_UPDATED."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

from .conftest import gql
from .test_webhooks import install

STOCKS = """query($id: ID!) { productVariant(id: $id) { stocks { quantity quantityAllocated } } }"""


async def _stocks(client: httpx.AsyncClient, token: str, variant_id: str) -> object:
    body = await gql(client, STOCKS, {"id": variant_id}, token=token)
    return body["data"]["productVariant"]["stocks"]


def _recording(sandbox: SaleorSandbox) -> list[str]:
    """The event types the sandbox emits from now on (the `emitted` fixture's, for a sandbox
    of another version)."""
    seen: list[str] = []
    emit = sandbox.emit

    async def recorded(event_type: str, root: object, **kwargs: object) -> object:
        seen.append(event_type)
        return await emit(event_type, root, **kwargs)

    sandbox.emit = recorded  # type: ignore[method-assign]
    return seen


async def test_a_row_removed_then_made_sends_out_of_stock_then_back_in_stock_alone(
    sandbox: SaleorSandbox, emitted: list[str], client: httpx.AsyncClient, fake_app: object
) -> None:
    token = (await install(sandbox, permissions=["MANAGE_PRODUCTS"])).auth_token
    product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG", quantity=5)])
    (variant,) = product.variants
    emitted.clear()
    await sandbox.delete_stocks(variant)
    assert emitted == ["PRODUCT_VARIANT_OUT_OF_STOCK"]
    assert await _stocks(client, token, variant.global_id) == []
    await sandbox.delete_stocks(variant)  # no row left: nothing deleted, nothing sent
    assert emitted == ["PRODUCT_VARIANT_OUT_OF_STOCK"]

    await sandbox.create_stocks(variant, 0)  # whatever the quantity, 0 too
    assert emitted == ["PRODUCT_VARIANT_OUT_OF_STOCK", "PRODUCT_VARIANT_BACK_IN_STOCK"]
    assert await _stocks(client, token, variant.global_id) == [
        {"quantity": 0, "quantityAllocated": 0}
    ]
    with pytest.raises(ValueError, match="already exists"):
        await sandbox.create_stocks(variant, 3)


@pytest.mark.parametrize(
    ("version", "quantities", "events"),
    [
        # 3.20.119: out of stock whenever the new quantity leaves nothing to sell.
        (OLDEST_VERSION, (5, 0), ["OUT", "UPDATED"]),
        (OLDEST_VERSION, (0, 0), ["OUT", "UPDATED"]),
        (OLDEST_VERSION, (0, 4), ["BACK", "UPDATED"]),
        (OLDEST_VERSION, (5, 7), ["UPDATED"]),
        # Since 3.23.2: only a change between none and some.
        (CURRENT_VERSION, (5, 0), ["OUT", "UPDATED"]),
        (CURRENT_VERSION, (0, 0), ["UPDATED"]),
        (CURRENT_VERSION, (0, 4), ["BACK", "UPDATED"]),
        (CURRENT_VERSION, (5, 7), ["UPDATED"]),
    ],
)
async def test_a_stock_edit_sends_its_version_s_events(
    version: str, quantities: tuple[int, int], events: list[str]
) -> None:
    sandbox = SaleorSandbox(version=version)
    seen = _recording(sandbox)
    start, end = quantities
    product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG", quantity=start)])
    seen.clear()
    await sandbox.update_variant(product.variants[0], quantity=end)
    names = {"BACK": "BACK_IN_STOCK", "OUT": "OUT_OF_STOCK", "UPDATED": "STOCK_UPDATED"}
    assert seen == [f"PRODUCT_VARIANT_{names[e]}" for e in events]


async def test_a_stock_edit_of_a_removed_row_makes_it_again() -> None:
    """`get_or_create`: on 3.20.119 a new row is back in stock, and out of stock at 0."""
    for version, events in (
        (OLDEST_VERSION, ["BACK_IN_STOCK", "OUT_OF_STOCK", "STOCK_UPDATED"]),
        (CURRENT_VERSION, ["STOCK_UPDATED"]),
    ):
        sandbox = SaleorSandbox(version=version)
        product = await sandbox.create_product("Mug", [VariantSpec(sku="MUG", quantity=5)])
        (variant,) = product.variants
        sandbox.store.delete_stocks(variant)
        seen = _recording(sandbox)
        await sandbox.update_variant(variant, quantity=0)
        assert seen == [f"PRODUCT_VARIANT_{e}" for e in events]
        assert sandbox.store.get_variant(variant.id).stocked
