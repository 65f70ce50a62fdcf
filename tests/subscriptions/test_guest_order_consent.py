"""An order's consent proves its address only when its own customer placed it signed in.

Saleor gives a guest's checkout to the active account holding the e-mail the guest typed
(saleor/checkout/complete_checkout.py `assign_checkout_user`): the order's `user` is that
account although nobody signed in. Its PLACED event records who completed it
(`order_created_event(user=...)`): the signed-in customer, none for a guest. So a stranger
typing Ann's address with the newsletter box and a GDPR permission ticked consents as any guest
(`ContactChange.address_proven` off): the change names no account, the permission is not
granted, and Ann, who left or was removed, is asked to confirm by e-mail, never subscribed again
by it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_PERMISSIONS, CONSENT_SUBSCRIBE
from addon.subscriptions.service import APPLY_JOB
from sandboxes.saleor import Customer, LineSpec, Order, VariantSpec
from tests.subscriptions.conftest import (
    Shop,
    _fire,
    _subscribed_customer,
    _unsubscribed_in_mailchimp,
)

ANN = "ann@example.com"


async def _order(shop: Shop, customer: Customer | None) -> Order:
    """An order typed with Ann's address, the newsletter box and News's first GDPR permission
    ticked: by a guest (`customer` None), or by the signed-in `customer`."""
    saleor = shop.saleor
    if not saleor.store.channels:
        await saleor.add_channel("default")
    product = await saleor.create_product("Apple", [VariantSpec(sku=None)])
    consent = {
        CONSENT_SUBSCRIBE: "true",
        CONSENT_AUDIENCES: shop.ids["news"],
        CONSENT_PERMISSIONS: await shop.offered_permission(),
    }
    checkout = await saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email=ANN, customer=customer, metadata=consent
    )
    return await saleor.complete_checkout(checkout)


async def _contact(shop: Shop) -> None:
    """A contact someone else added to "News" (a buyer's: `transactional`)."""
    await shop.mc(
        "PUT",
        f"/lists/{shop.ids['news']}/members/{ANN}",
        {"email_address": ANN, "status_if_new": "transactional"},
    )


async def _order_changes(shop: Shop) -> list[dict[str, Any]]:
    """The contact changes the order's consent asked (source `checkout`)."""
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == APPLY_JOB).order_by(Job.id))
        return [j.payload for j in jobs if j.payload["source"] == "checkout"]


async def _confirmed_ann(shop: Shop) -> Customer:
    ann = await shop.saleor.create_customer(ANN, "Ann", "Apple", is_confirmed=True)
    await shop.work()
    await _contact(shop)
    return ann


async def test_a_guest_s_order_given_to_an_account_proves_nothing(newsletter: Shop) -> None:
    """Before, the order's `user` (Ann's, by Saleor's assignment) counted as who consented: the
    change named her account, proven, and granted the permission the stranger ticked."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    order = await _order(shop, customer=None)
    assert order.user_id == ann.id  # Saleor gave the guest's order to Ann's account
    await shop.work()

    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] is None
    assert shop.member(shop.ids["news"], ANN).status == "subscribed"  # as any guest's consent
    assert set(shop.consents(ANN).values()) == {False}


async def test_the_account_owner_s_own_order_proves_their_address(newsletter: Shop) -> None:
    shop = newsletter
    ann = await _confirmed_ann(shop)
    await _order(shop, customer=ann)
    await shop.work()

    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] == ann.global_id
    assert shop.member(shop.ids["news"], ANN).status == "subscribed"
    assert shop.consents(ANN)[await shop.offered_permission()] is True


async def test_a_guest_s_order_does_not_give_an_account_that_left_the_permission(
    newsletter: Shop,
) -> None:
    """Ann unsubscribed; a guest's order typed with her address asks her to confirm by e-mail,
    as any guest's consent does, with none of what the guest ticked besides."""
    shop = newsletter
    await _unsubscribed_in_mailchimp(shop, ANN)
    await _order(shop, customer=None)
    await shop.work()

    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] is None
    assert shop.member(shop.ids["news"], ANN).status == "pending"
    assert set(shop.consents(ANN).values()) == {False}


async def test_a_guest_s_order_does_not_subscribe_an_account_removed_from_the_audience(
    newsletter: Shop,
) -> None:
    """Ann's contact archived (removed from "News"): before, the guest's order, counted as
    hers, added her back subscribed with the stranger's permission; as any guest's consent it
    asks her to confirm by e-mail."""
    shop = newsletter
    await _subscribed_customer(shop, ANN)
    await shop.mc("DELETE", f"/lists/{shop.ids['news']}/members/{ANN}")
    await _fire(shop, "unsubscribe", {"email": ANN, "action": "delete"}, source="admin")
    await shop.work()
    assert shop.member(shop.ids["news"], ANN).status == "archived"
    await _order(shop, customer=None)
    await shop.work()

    assert shop.member(shop.ids["news"], ANN).status == "pending"
    assert set(shop.consents(ANN).values()) == {False}
