"""Staff's edits of an order as Saleor makes them (`sandbox_order_edits.py`, `order_update.py`):
`orderUpdate(userEmail)` gives the order the active user of exactly that address, or none; a
call that changes nothing sends no ORDER_UPDATED since 3.21.0 (3.20.119 sends it, leaving
`updatedAt` alone); line edits only of unconfirmed orders and drafts; notes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import Order, OrderStatus
from sandboxes.saleor.order_update import OrderUpdateRefused
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.versions import (
    CURRENT_VERSION,
    OLDEST_VERSION,
    order_addresses_tracked,
    order_line_update_saves_updated,
    order_note_saves_order,
    order_update_only_changes,
    order_update_takes_language,
)

VERSIONS = pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])


def test_the_versions_are_those_of_the_tags() -> None:
    # order_update.py at 3.20.119 keeps "the webhhok is always called in 3.20"; 3.21.0 calls it
    # inside `if update_fields:`.
    assert not order_update_only_changes("3.20.119")
    assert order_update_only_changes("3.21.0")
    assert not order_update_takes_language("3.20.119")
    assert order_update_takes_language("3.21.0")
    assert not order_addresses_tracked("3.21.69")
    assert order_addresses_tracked("3.22.0")
    assert not order_note_saves_order("3.21.69")
    assert order_note_saves_order("3.22.0")
    assert not order_line_update_saves_updated("3.22.22")
    assert order_line_update_saves_updated("3.22.23")
    assert order_line_update_saves_updated("3.23.0")
    assert not order_line_update_saves_updated("3.20.119")


def _aged(order: Order) -> datetime:
    """The order last saved a day ago: a save shows."""
    order.updated_at -= timedelta(days=1)
    return order.updated_at


async def _order(sandbox: SaleorSandbox, version: str, **fields: object) -> Order:
    sandbox.version = version
    product = sandbox.store.create_product("Fig", [VariantSpec(sku="FIG", price=Decimal(2))])
    lines = [sandbox.order_line(product.variants[0], 1)]
    return sandbox.store.create_order(lines=lines, **fields)  # type: ignore[arg-type]


@VERSIONS
async def test_a_corrected_address_gives_the_order_to_its_user_or_to_nobody(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    ann = sandbox.store.create_customer("ann@example.com")
    bo = sandbox.store.create_customer("bo@example.com")
    order = await _order(sandbox, version, user=ann)
    before = _aged(order)

    await sandbox.update_order(order, user_email="bo@example.com")
    assert (order.user_id, order.user_email) == (bo.id, "bo@example.com")
    assert order.updated_at > before and emitted == ["ORDER_UPDATED"]

    # An address nobody has: the order is a guest's, the address stored as given.
    await sandbox.update_order(order, user_email="Bo.Ray@Example.net")
    assert (order.user_id, order.user_email) == (None, "Bo.Ray@Example.net")

    # Back to Ann's: hers again.
    await sandbox.update_order(order, user_email="ann@example.com")
    assert order.user_id == ann.id
    assert emitted == ["ORDER_UPDATED"] * 3


@VERSIONS
async def test_users_are_matched_by_the_exact_address_and_only_when_active(
    sandbox: SaleorSandbox, version: str
) -> None:
    """`User.objects.get(email=email, is_active=True)`: Ann's address in capitals is nobody's
    (Saleor stores its users' addresses lower-cased), nor is an inactive user's."""
    ann = sandbox.store.create_customer("ann@example.com")
    sandbox.store.create_customer("cy@example.com", is_active=False)
    order = await _order(sandbox, version, user=ann)

    await sandbox.update_order(order, user_email="Ann@Example.com")
    assert (order.user_id, order.user_email) == (None, "Ann@Example.com")
    await sandbox.update_order(order, user_email="ann@example.com")
    assert order.user_id == ann.id
    await sandbox.update_order(order, user_email="cy@example.com")
    assert (order.user_id, order.user_email) == (None, "cy@example.com")


@VERSIONS
async def test_the_same_address_links_a_guests_order_to_its_user(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    """The user is looked up even when the address is the order's own (`clean_input` pops
    `user_email` then, not the lookup): a guest order of a registered address becomes theirs."""
    ann = sandbox.store.create_customer("ann@example.com")
    order = await _order(sandbox, version, email="ann@example.com")
    await sandbox.update_order(order, user_email="ann@example.com")
    assert (order.user_id, emitted) == (ann.id, ["ORDER_UPDATED"])


@VERSIONS
async def test_a_call_that_changes_nothing_is_announced_only_by_3_20(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    ann = sandbox.store.create_customer("ann@example.com")
    order = await _order(sandbox, version, user=ann)
    before = _aged(order)

    await sandbox.update_order(order, user_email="ann@example.com")
    await sandbox.update_order(order)
    assert order.updated_at == before  # not saved, at either version
    assert emitted == ([] if version == CURRENT_VERSION else ["ORDER_UPDATED"] * 2)


@VERSIONS
async def test_the_same_address_is_no_change_since_3_22(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    shipping = sandbox.address(first_name="Ann", city="Oslo", country="NO")
    order = await _order(sandbox, version, shipping_address=shipping)
    before = _aged(order)

    same = sandbox.address(first_name="Ann", city="Oslo", country="NO")
    await sandbox.update_order(order, shipping_address=same)
    assert order.shipping_address is not None
    if version == CURRENT_VERSION:  # compared field by field: nothing changed
        assert (order.shipping_address.id, order.updated_at, emitted) == (shipping.id, before, [])
    else:  # saved as a new address
        assert order.shipping_address.id != shipping.id
        assert order.updated_at > before and emitted == ["ORDER_UPDATED"]

    await sandbox.update_order(order, shipping_address=same.model_copy(update={"city": "Bergen"}))
    assert (order.shipping_address.city, order.shipping_address.country) == ("Bergen", "NO")
    assert emitted[-1] == "ORDER_UPDATED"


@VERSIONS
async def test_what_order_update_refuses(sandbox: SaleorSandbox, version: str) -> None:
    order = await _order(sandbox, version, email="ann@example.com")
    with pytest.raises(OrderUpdateRefused, match="valid email"):
        await sandbox.update_order(order, user_email="ann@example")
    with pytest.raises(TypeError, match="customer_note"):
        await sandbox.update_order(order, customer_note="hi")
    if version == OLDEST_VERSION:  # no `languageCode` in the 3.20 input
        with pytest.raises(TypeError, match="language_code"):
            await sandbox.update_order(order, language_code="de")
    else:
        await sandbox.update_order(order, language_code="de")
        assert order.language_code == "de"
    draft = await _order(sandbox, version, status=OrderStatus.DRAFT, paid=False)
    with pytest.raises(OrderUpdateRefused, match="draftOrderUpdate"):
        await sandbox.update_order(draft, user_email="bo@example.com")
    assert order.user_email == "ann@example.com" and draft.user_email is None


@VERSIONS
async def test_lines_change_only_on_unconfirmed_orders_and_drafts(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    order = await _order(sandbox, version, email="ann@example.com")
    variant = sandbox.store.products[order.lines[0].product_id or 0].variants[0]
    with pytest.raises(OrderUpdateRefused, match="Only draft and unconfirmed"):
        await sandbox.add_order_lines(order, [sandbox.order_line(variant, 1)])
    with pytest.raises(OrderUpdateRefused, match="Only draft and unconfirmed"):
        await sandbox.delete_order_line(order, order.lines[0].id)
    assert emitted == [] and len(order.lines) == 1

    draft = await _order(sandbox, version, status=OrderStatus.DRAFT, paid=False)
    await sandbox.add_order_lines(draft, [sandbox.order_line(variant, 1)])
    assert emitted == ["DRAFT_ORDER_UPDATED"]


@VERSIONS
async def test_line_edits_of_an_unconfirmed_order(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    order = await _order(sandbox, version, status=OrderStatus.UNCONFIRMED)
    [fig] = order.lines
    variant = sandbox.store.products[fig.product_id or 0].variants[0]
    before = _aged(order)

    # The variant of a line adds to it; a new line only when asked.
    await sandbox.add_order_lines(order, [sandbox.order_line(variant, 2)])
    assert [(ln.id, ln.quantity) for ln in order.lines] == [(fig.id, 3)]
    assert order.updated_at > before
    await sandbox.add_order_lines(order, [sandbox.order_line(variant, 1)], force_new_line=True)
    assert [ln.quantity for ln in order.lines] == [3, 1]

    before = _aged(order)
    await sandbox.update_order_line(order, fig.id, 5)
    assert order.lines[0].quantity == 5
    assert (order.updated_at > before) is (version == CURRENT_VERSION)
    with pytest.raises(OrderUpdateRefused, match="greater than 0"):
        await sandbox.update_order_line(order, fig.id, 0)

    await sandbox.delete_order_line(order, fig.id)
    assert [ln.quantity for ln in order.lines] == [1]
    assert emitted == ["ORDER_UPDATED"] * 4


@VERSIONS
async def test_a_note_is_announced_and_saves_the_order_since_3_22(
    sandbox: SaleorSandbox, emitted: list[str], version: str
) -> None:
    order = await _order(sandbox, version, status=OrderStatus.FULFILLED)
    before = _aged(order)
    await sandbox.add_order_note(order, "Called the shopper")
    assert emitted == ["ORDER_UPDATED"]
    assert (order.updated_at > before) is (version == CURRENT_VERSION)
    with pytest.raises(OrderUpdateRefused, match="can't be empty"):
        await sandbox.add_order_note(order, "  ")
