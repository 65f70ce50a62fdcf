"""`productTypeDelete` in the sandbox: the type's products go by CASCADE with not one webhook;
checkout lines go with their variants, order lines keep their copies with no variant, a draft's
lines of them are deleted (saleor/graphql/product/mutations/product_type/
product_type_delete.py, 3.20.119 and 3.23.28)."""

from __future__ import annotations

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.store_base import NotFound
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec


async def test_a_product_type_deleted_takes_its_products_silently(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    await sandbox.add_channel("default-channel")
    basil = await sandbox.create_product("Basil", [VariantSpec(sku="BAS")], product_type="Herbs")
    thyme = await sandbox.create_product("Thyme", [VariantSpec(sku="THY")], product_type="Herbs")
    kale = await sandbox.create_product("Kale", [VariantSpec(sku="KAL")])
    variant = basil.variants[0]
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(variant.id, 1), LineSpec(kale.variants[0].id, 1)], email="a@x.test"
    )
    order = await sandbox.create_order(lines=[sandbox.order_line(variant, 2)], email="a@x.test")
    draft = await sandbox.create_order(
        lines=[sandbox.order_line(variant, 1), sandbox.order_line(kale.variants[0], 1)],
        email="a@x.test",
        status=OrderStatus.DRAFT,
    )
    emitted.clear()

    deleted = await sandbox.delete_product_type(basil)
    assert {p.id for p in deleted} == {basil.id, thyme.id}
    assert emitted == []
    store = sandbox.store
    assert set(store.products) == {kale.id}
    assert variant.id not in store.variants
    assert [line.variant_id for line in store.get_checkout(checkout.token).lines] == [
        kale.variants[0].id
    ]
    [line] = store.get_order(order.id).lines
    assert (line.variant_id, line.product_sku, line.quantity) == (None, "BAS", 2)
    assert [ln.variant_id for ln in store.get_order(draft.id).lines] == [kale.variants[0].id]
    with pytest.raises(NotFound):
        await sandbox.delete_product_type(basil)  # the type is gone
