"""A checkout's lines against its variants' stock, as Saleor checks them (stock_checks.py;
saleor/warehouse/availability.py `check_stock_and_preorder_quantity_bulk` when lines are added,
saleor/warehouse/management.py `allocate_stocks` / `allocate_preorders` at checkoutComplete,
tag 3.20.119 and commit 723cd4e)."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.stock_checks import InsufficientStock, QuantityOverLimit
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import gql, stocked_variant


async def test_checkout_create_and_lines_add_refuse_more_than_the_stock(
    sandbox: SaleorSandbox,
) -> None:
    """`checkoutCreate` checks what it is asked; `checkoutLinesAdd` the line's quantity with the
    one added (`existing_lines`, not `replace`); nothing changes when refused."""
    mug = stocked_variant(sandbox, "MUG", 3)
    with pytest.raises(InsufficientStock) as refused:
        await sandbox.create_checkout(lines=[LineSpec(mug.id, 4)], email="kim@example.com")
    assert refused.value.code == "INSUFFICIENT_STOCK"
    assert str(refused.value) == "Could not add items MUG. Only 3 remaining in stock."
    assert not sandbox.store.checkouts
    checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id, 2)], email="kim@ex.com")
    with pytest.raises(InsufficientStock):
        await sandbox.update_checkout(checkout, add_lines=[LineSpec(mug.id, 2)])
    assert [line.quantity for line in checkout.lines] == [2]
    await sandbox.update_checkout(checkout, add_lines=[LineSpec(mug.id, 1)])
    assert [line.quantity for line in checkout.lines] == [3]


async def test_lines_update_checks_the_new_quantity_and_zero_removes(
    sandbox: SaleorSandbox,
) -> None:
    """`checkoutLinesUpdate` (`replace=True`): the quantity set, not added; 0 is not checked."""
    mug = stocked_variant(sandbox, "MUG", 3)
    checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id, 2)], email="kim@ex.com")
    await sandbox.update_checkout(checkout, set_quantities={mug.id: 3})
    with pytest.raises(InsufficientStock):
        await sandbox.update_checkout(checkout, set_quantities={mug.id: 4})
    mug.quantity = 0
    await sandbox.update_checkout(checkout, set_quantities={mug.id: 0})
    assert checkout.lines == []


async def test_what_others_allocated_and_a_missing_row_count(sandbox: SaleorSandbox) -> None:
    """Available is the row's quantity less its allocations; a tracked variant without a stock
    row has none (`if not stocks: insufficient`); an untracked one is never short."""
    mug = stocked_variant(sandbox, "MUG", 3, quantity_allocated=2)
    bare = stocked_variant(sandbox, "BARE", 0, stocked=False)
    free = stocked_variant(sandbox, "FREE", 0, track_inventory=False)
    with pytest.raises(InsufficientStock) as refused:
        await sandbox.create_checkout(
            lines=[LineSpec(mug.id, 2), LineSpec(bare.id, 1), LineSpec(free.id, 9)]
        )
    assert refused.value.variants == [mug, bare]  # every line short, one each
    assert refused.value.available == [1, 0]
    await sandbox.create_checkout(lines=[LineSpec(mug.id, 1), LineSpec(free.id, 9)])


async def test_the_limit_per_checkout_counts_the_lines_total(sandbox: SaleorSandbox) -> None:
    mug = stocked_variant(sandbox, "MUG", 100, quantity_limit_per_customer=4)
    checkout = await sandbox.create_checkout(lines=[LineSpec(mug.id, 3)])
    with pytest.raises(QuantityOverLimit, match=r"Cannot add more than 4 times this item: MUG\."):
        await sandbox.update_checkout(checkout, add_lines=[LineSpec(mug.id, 2)])


async def test_a_preorder_checks_its_thresholds_not_the_stock(sandbox: SaleorSandbox) -> None:
    """`check_preorder_threshold_bulk`: the channel listing's threshold less its sold units, and
    the global one less all sold; it compares the quantity added, not the line's total."""
    later = stocked_variant(sandbox, "LATER", 0, is_preorder=True, preorder_global_threshold=5)
    await sandbox.set_preorder_threshold(later, "default-channel", 3)
    checkout = await sandbox.create_checkout(lines=[LineSpec(later.id, 3)])
    with pytest.raises(InsufficientStock):
        await sandbox.create_checkout(lines=[LineSpec(later.id, 4)])
    await sandbox.update_checkout(checkout, add_lines=[LineSpec(later.id, 2)])  # 5 in the line
    assert [line.quantity for line in checkout.lines] == [5]


async def test_complete_refuses_lines_the_stock_no_longer_covers(sandbox: SaleorSandbox) -> None:
    """`allocate_stocks` raises `InsufficientStock`; checkoutComplete answers
    INSUFFICIENT_STOCK "Insufficient product stock: ...": no order, the checkout kept."""
    mug = stocked_variant(sandbox, "MUG", 2)
    cup = stocked_variant(sandbox, "CUP", 2)
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(mug.id, 2), LineSpec(cup.id, 1)], email="kim@example.com"
    )
    other = await sandbox.create_checkout(lines=[LineSpec(mug.id, 1)], email="lee@example.com")
    await sandbox.complete_checkout(other)  # takes one of the two mugs
    with pytest.raises(InsufficientStock, match=r"^Insufficient product stock: MUG$"):
        await sandbox.complete_checkout(checkout)
    assert sandbox.store.get_checkout(checkout.token) is checkout
    assert (mug.quantity_allocated, cup.quantity_allocated) == (1, 0)
    assert len(sandbox.store.orders) == 1
    await sandbox.update_checkout(checkout, set_quantities={mug.id: 1})
    order = await sandbox.complete_checkout(checkout)
    assert [line.quantity_allocated for line in order.lines] == [1, 1]


async def test_complete_allocates_a_preorder_against_its_thresholds(
    sandbox: SaleorSandbox,
) -> None:
    """`allocate_preorders`: a preorder line adds to its channel listing's sold units (its
    `PreorderAllocation`), refused once a threshold would be passed."""
    later = stocked_variant(sandbox, "LATER", 0, is_preorder=True, preorder_global_threshold=3)
    first = await sandbox.create_checkout(lines=[LineSpec(later.id, 2)], email="a@example.com")
    second = await sandbox.create_checkout(lines=[LineSpec(later.id, 2)], email="b@example.com")
    await sandbox.complete_checkout(first)
    assert [listing.preorder_sold for listing in later.channel_listings] == [2]
    with pytest.raises(InsufficientStock):
        await sandbox.complete_checkout(second)
    assert [listing.preorder_sold for listing in later.channel_listings] == [2]


CREATE = """mutation($input: CheckoutCreateInput!) { checkoutCreate(input: $input) {
  errors { field code message } checkout { id } } }"""


async def test_checkout_create_reports_a_variant_without_a_stock_row(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    """Over the API too: a tracked variant without a row is INSUFFICIENT_STOCK, a preorder is
    judged by its thresholds alone."""
    bare = stocked_variant(sandbox, "BARE", 0, stocked=False)
    later = stocked_variant(sandbox, "LATER", 0, is_preorder=True)
    lines = [{"variantId": v.global_id, "quantity": 1} for v in (bare, later)]
    body = await gql(client, CREATE, {"input": {"lines": lines}})
    assert body["data"]["checkoutCreate"]["errors"] == [
        {
            "field": "quantity",
            "code": "INSUFFICIENT_STOCK",
            "message": "Could not add items BARE. Only 0 remaining in stock.",
        }
    ]
    body = await gql(client, CREATE, {"input": {"lines": lines[1:]}})
    assert body["data"]["checkoutCreate"]["errors"] == []


async def test_a_preorders_quantity_available_is_what_its_thresholds_leave(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    """`resolve_quantity_available` for an active preorder, stock unread: the channel
    listing's threshold less its sold units alone when it has one (the global one then does
    not count), else the global one less every channel's units, else the site's limit."""
    later = stocked_variant(sandbox, "LATER", 0, is_preorder=True, preorder_global_threshold=2)
    query = """query($id: ID!) { productVariant(id: $id, channel: "default-channel") {
      quantityAvailable } }"""

    async def available() -> int:
        body = await gql(client, query, {"id": later.global_id})
        return int(body["data"]["productVariant"]["quantityAvailable"])

    assert await available() == 2  # the global threshold, nothing sold
    await sandbox.set_preorder_threshold(later, "default-channel", 3)
    assert await available() == 3  # the channel's alone
    await sandbox.set_preorder_threshold(later, "default-channel", None)
    later.channel_listings[0].preorder_sold = 1
    assert await available() == 1  # the global 2, less 1 sold
    later.preorder_global_threshold = None
    assert await available() == 50  # no threshold: the site's limit
    later.is_preorder = False
    assert await available() == 0  # no stock
