"""Staff correct the e-mail address of a registered customer's order (`orderUpdate(userEmail)`):
Saleor gives the order to the active user of exactly that address, or to nobody
(saleor/graphql/order/mutations/order_update.py `clean_input`, 3.20.119 as 3.24). Mailchimp's
order must end under the right customer, Activity must say so, and nobody may get its e-mails
twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from addon.ecommerce.models import EntityKind
from addon.ecommerce.payloads import guest_customer_id, mailchimp_id
from addon.ecommerce.sale_sender import ORDER_MOVED_NOTE
from addon.installations.models import Installation
from addon.jobs.models import Job
from sandboxes.saleor.order_models import Order
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests.ecommerce.conftest import Shop

VERSIONS = pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])


def _sent(shop: Shop) -> list[tuple[str, str]]:
    return shop.mailchimp.notifications(shop.account, shop.store_id)


async def _notes(shop: Shop) -> list[str]:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == ORDER_MOVED_NOTE))
        return [job.last_error or "" for job in jobs]


async def _anns_order(shop: Shop, version: str) -> Order:
    """Ann's paid order, in Mailchimp with its Confirmation and Invoice."""
    shop.saleor.version = version
    # As the app would have read it from that Saleor (`shop { version }`): which order
    # documents it sends follows it (addon/saleor/versions.py `order_document`).
    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(saleor_version=version))
    fig = await shop.product("Fig", "2.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)], user=ann, paid=True
    )
    await shop.drain()
    number = str(order.number)
    assert shop.orders()[number].customer.id == mailchimp_id(ann.global_id)
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]
    return order


@VERSIONS
async def test_corrected_to_another_customers_address_it_moves_to_that_customer(
    shop: Shop, version: str
) -> None:
    order = await _anns_order(shop, version)
    number = str(order.number)
    bo = await shop.saleor.create_customer("bo@example.com", "Bo", "Ray")
    await shop.drain()

    await shop.saleor.update_order(order, user_email="bo@example.com")
    assert shop.saleor.store.get_order(order.id).user_id == bo.id
    await shop.drain()

    held = shop.orders()[number]
    assert (held.customer.id, held.customer.email_address) == (
        mailchimp_id(bo.global_id),
        "bo@example.com",
    )
    # Bo gets the e-mail of its status (paid), Ann nothing more.
    assert _sent(shop)[2:] == [(number, "order_invoice")]
    [note] = await _notes(shop)
    assert f"Order #{number} moved from ann@example.com to bo@example.com" in note


@VERSIONS
async def test_corrected_to_an_unregistered_address_it_becomes_a_guests(
    shop: Shop, version: str
) -> None:
    order = await _anns_order(shop, version)
    number = str(order.number)

    await shop.saleor.update_order(order, user_email="ann.lee@example.net")
    assert shop.saleor.store.get_order(order.id).user_id is None
    await shop.drain()

    held = shop.orders()[number]
    assert (held.customer.id, held.customer.email_address) == (
        guest_customer_id("ann.lee@example.net"),
        "ann.lee@example.net",
    )
    assert _sent(shop)[2:] == [(number, "order_invoice")]
    [note] = await _notes(shop)
    assert "moved from ann@example.com to ann.lee@example.net" in note


@VERSIONS
async def test_her_own_address_in_capitals_leaves_the_order_where_it_is(
    shop: Shop, version: str
) -> None:
    """Saleor matches users by the exact address: "Ann@Example.com" is nobody's, and the order
    becomes a guest's at Ann's address. Mailchimp holds it on Ann's customer already, which
    holds that address: nothing re-created, nothing sent again."""
    order = await _anns_order(shop, version)
    number = str(order.number)
    held_by = shop.orders()[number].customer.id
    start = len(shop.writes())

    await shop.saleor.update_order(order, user_email="Ann@Example.com")
    assert shop.saleor.store.get_order(order.id).user_id is None
    await shop.drain()

    assert not any(w.startswith(("DELETE", "POST")) for w in shop.writes()[start:])
    assert shop.orders()[number].customer.id == held_by
    assert len(_sent(shop)) == 2
    assert await _notes(shop) == []


@VERSIONS
async def test_an_update_that_changes_nothing_changes_nothing_in_mailchimp(
    shop: Shop, version: str
) -> None:
    """3.20 still sends ORDER_UPDATED for it; nothing is written."""
    order = await _anns_order(shop, version)
    before = shop.saleor.store.get_order(order.id).updated_at
    start, delivered = len(shop.writes()), len(shop.saleor.deliveries)

    await shop.saleor.update_order(order, user_email="ann@example.com")
    await shop.drain()

    events = [d.event_type for d in shop.saleor.deliveries[delivered:]]
    assert events == ([] if version == CURRENT_VERSION else ["ORDER_UPDATED"])
    assert shop.saleor.store.get_order(order.id).updated_at == before
    assert shop.writes()[start:] == []
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.mailchimp_id == str(order.number)
