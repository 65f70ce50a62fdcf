"""An order an app placed from a checkout proves its address when the checkout's consent was
given by its own customer, signed in.

`orderCreateFromCheckout` (an app's token: a payment or an order-management app) and Saleor's
automatic completion record no user on the order's PLACED event, whoever shopped, as for a
guest's checkout Saleor gives to the account holding the address typed
(`assign_checkout_user`). Saleor gives a checkout an account only then, and only when it has
none: a user on it when the storefront wrote the consent (`updateMetadata`, which sends
CHECKOUT_METADATA_UPDATED; or `checkoutCreate`, CHECKOUT_CREATED) was its shopper, signed in.
Before, every such order counted as a guest's: a signed-in customer's marketing permission was
never granted, and their contact not linked to their account."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.jobs.models import Job
from addon.subscriptions.checkout_owner import checkout_user, remember
from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_PERMISSIONS, CONSENT_SUBSCRIBE
from addon.subscriptions.models import SignedInCheckout
from addon.subscriptions.service import APPLY_JOB
from sandboxes.saleor import Checkout, Customer, LineSpec, VariantSpec
from tests.conftest import RecordingTransport
from tests.deliveries import post_signed
from tests.erasure.scan import rows_naming
from tests.subscriptions.conftest import Shop

ANN = "ann@example.com"
UPDATE_METADATA = (
    "mutation($id: ID!, $input: [MetadataInput!]!) "
    "{ updateMetadata(id: $id, input: $input) { errors { code } } }"
)


async def _checkout(shop: Shop, customer: Customer | None, email: str = ANN) -> Checkout:
    """A checkout typed with `email`, by the signed-in `customer` (None: a guest)."""
    saleor = shop.saleor
    if not saleor.store.channels:
        await saleor.add_channel("default")
    product = await saleor.create_product("Apple", [VariantSpec(sku=None)])
    return await saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email=email, customer=customer
    )


async def _ticked(shop: Shop, subscribe: str = "true") -> dict[str, str]:
    """The newsletter box and News's first GDPR permission ticked, as metadata."""
    return {
        CONSENT_SUBSCRIBE: subscribe,
        CONSENT_AUDIENCES: shop.ids["news"],
        CONSENT_PERMISSIONS: await shop.offered_permission(),
    }


async def _consent(shop: Shop, checkout: Checkout, subscribe: str = "true") -> None:
    """The storefront records the consent (`_ticked`) on the checkout, as
    docs/storefront-api.md says: `updateMetadata`, with the checkout's id (no token: anyone
    holding it may write its public metadata)."""
    consent = await _ticked(shop, subscribe)
    body = await shop.saleor.execute(
        UPDATE_METADATA,
        {"id": checkout.global_id, "input": [{"key": k, "value": v} for k, v in consent.items()]},
    )
    assert body == {"data": {"updateMetadata": {"errors": []}}}, body
    await shop.work()


async def _confirmed_ann(shop: Shop) -> Customer:
    """Ann's confirmed account, her contact in "News" added by someone else (a buyer's)."""
    ann = await shop.saleor.create_customer(ANN, "Ann", "Apple", is_confirmed=True)
    await shop.work()
    await shop.mc(
        "PUT",
        f"/lists/{shop.ids['news']}/members/{ANN}",
        {"email_address": ANN, "status_if_new": "transactional"},
    )
    return ann


async def _order_changes(shop: Shop) -> list[dict[str, Any]]:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == APPLY_JOB).order_by(Job.id))
        return [j.payload for j in jobs if j.payload["source"] == "checkout"]


async def test_an_app_s_order_from_a_signed_in_customer_s_checkout_proves_their_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    ann = await _confirmed_ann(shop)
    checkout = await _checkout(shop, customer=ann)
    await _consent(shop, checkout)

    order = await shop.saleor.complete_checkout(checkout, by_app=True)
    await shop.work()

    assert [e.user_id for e in order.events if e.type.value == "PLACED"] == [None]
    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] == ann.global_id
    assert shop.member(shop.ids["news"], ANN).status == "subscribed"
    assert shop.consents(ANN)[await shop.offered_permission()] is True


async def test_a_consent_given_when_the_signed_in_customer_s_checkout_was_made_proves_it_too(
    newsletter: Shop,
) -> None:
    """`checkoutCreate` takes metadata after 3.20: CHECKOUT_CREATED carries the consent."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    product = await shop.saleor.create_product("Apple", [VariantSpec(sku=None)])
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email=ANN,
        customer=ann,
        metadata=await _ticked(shop),
    )
    await shop.work()

    await shop.saleor.complete_checkout(checkout, by_app=True)
    await shop.work()

    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] == ann.global_id
    assert shop.consents(ANN)[await shop.offered_permission()] is True


async def test_an_app_s_order_from_a_guest_s_checkout_still_proves_nothing(
    newsletter: Shop,
) -> None:
    """A stranger typing Ann's address: Saleor gives the order to Ann's account at completion,
    but nobody was signed in on the checkout."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    checkout = await _checkout(shop, customer=None)
    await _consent(shop, checkout)

    order = await shop.saleor.complete_checkout(checkout, by_app=True)
    await shop.work()

    assert order.user_id == ann.id  # Saleor gave the guest's order to Ann's account
    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] is None
    assert set(shop.consents(ANN).values()) == {False}


async def test_a_signed_in_customer_s_checkout_under_another_address_proves_nothing(
    newsletter: Shop,
) -> None:
    """Bob, signed in, types Ann's address: the consent is for an address that is not his."""
    shop = newsletter
    await _confirmed_ann(shop)
    bob = await shop.saleor.create_customer("bob@example.com", is_confirmed=True)
    await shop.work()
    checkout = await _checkout(shop, customer=bob, email=ANN)
    await _consent(shop, checkout)

    await shop.saleor.complete_checkout(checkout, by_app=True)
    await shop.work()

    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] is None
    assert set(shop.consents(ANN).values()) == {False}


async def test_the_latest_read_says_whose_consent_it_is_whatever_the_order_of_writing(
    newsletter: Shop,
) -> None:
    """Two jobs of one checkout may read Saleor in one order and write in the other: an older
    read written late changes nothing, whether it saw the customer's consent or nobody's."""
    shop = newsletter
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        now = utcnow()
        await remember(session, installation_id, "c1", "ann", now)
        await remember(session, installation_id, "c1", None, now - timedelta(seconds=1))
        assert await checkout_user(session, installation_id, "c1") == "ann"
        await remember(session, installation_id, "c1", None, now + timedelta(seconds=1))
        await remember(session, installation_id, "c1", "ann", now)
        assert await checkout_user(session, installation_id, "c1") is None
        # Nobody's read first, then an older read of Ann's.
        await remember(session, installation_id, "c2", None, now)
        await remember(session, installation_id, "c2", "ann", now - timedelta(seconds=1))
        assert await checkout_user(session, installation_id, "c2") is None


async def test_a_checkout_remembered_past_saleor_s_lifetime_of_one_is_forgotten(
    newsletter: Shop, clock: ManualClock
) -> None:
    shop = newsletter
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        await remember(session, installation_id, "old", "ann", clock.now())
        clock.advance(timedelta(days=180, seconds=1).total_seconds())
        await remember(session, installation_id, "new", "bob", clock.now())
        kept = await session.scalars(select(SignedInCheckout.checkout_id))
        assert set(kept) == {"new"}


async def test_a_body_naming_a_customer_is_not_believed(newsletter: Shop) -> None:
    """Saleor signs a delivery's body alone: another webhook's body, shaped as this one's
    (GraphQL aliases), could put Ann's account on a stranger's checkout. The checkout is read
    from Saleor instead, which shows no user on it."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    checkout = await _checkout(shop, customer=None)
    await _consent(shop, checkout)  # the stranger ticks the box
    consent = [{"key": k, "value": v} for k, v in (await _ticked(shop)).items()]
    forged = {
        "issuedAt": utcnow().isoformat(),
        "checkout": {
            "id": checkout.global_id,
            "email": ANN,
            "user": {"id": ann.global_id, "email": ANN},
            "metadata": consent,
        },
    }
    answer = await post_signed(
        shop.client, shop.saleor, "subscriptions-checkout-owner", "CHECKOUT_METADATA_UPDATED",
        json.dumps(forged).encode(),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    await shop.work()
    async with shop.services.db.session() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        assert await checkout_user(session, installation_id, checkout.global_id) is None

    await shop.saleor.complete_checkout(checkout, by_app=True)
    await shop.work()
    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] is None
    assert set(shop.consents(ANN).values()) == {False}


async def test_a_consent_taken_back_on_the_checkout_is_not_the_customer_s_any_more(
    newsletter: Shop,
) -> None:
    """Ann unticks the box: the latest metadata event, without her consent, marks the checkout
    nobody's."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    checkout = await _checkout(shop, customer=ann)
    await _consent(shop, checkout)
    await _consent(shop, checkout, subscribe="false")
    async with shop.services.db.session() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        assert await checkout_user(session, installation_id, checkout.global_id) is None


async def test_the_customer_s_erasure_forgets_their_checkouts(newsletter: Shop) -> None:
    shop = newsletter
    ann = await _confirmed_ann(shop)
    checkout = await _checkout(shop, customer=ann)
    await _consent(shop, checkout)
    assert "signed_in_checkouts.saleor_user_id" in await rows_naming(shop.services, ann.global_id)

    await shop.saleor.delete_account(ann)
    await shop.work()

    # (Finished jobs' payloads keep naming her until they are pruned, as for any customer.)
    assert "signed_in_checkouts.saleor_user_id" not in await rows_naming(
        shop.services, ann.global_id
    )


async def test_a_body_naming_no_checkout_is_not_looked_up(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    """Whatever else a signed body names (here a customer's id as the checkout's), with a
    consent in it, costs no read of Saleor."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    consent = [{"key": k, "value": v} for k, v in (await _ticked(shop)).items()]
    body = {"checkout": {"id": ann.global_id, "email": ANN, "metadata": consent}}
    sent_before = len(outbound.requests)
    answer = await post_signed(
        shop.client, shop.saleor, "subscriptions-checkout-owner", "CHECKOUT_METADATA_UPDATED",
        json.dumps(body).encode(),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    await shop.work()
    assert not [r for r in outbound.requests[sent_before:] if b"SignupCheckout" in r.content]
