"""An erased shopper who shops again, and an address Mailchimp forgot: their orders reach the
store, without `opt_in_status: true` (which Mailchimp refuses for a forgotten address:
"Forgotten Email Not Subscribed"), their carts do not (Mailchimp takes a cart only from a
contact of the audience: `cart_audience.py`), and no refusal quoting the address is kept.

An erasure permanently deletes the Mailchimp member; Mailchimp then refuses to subscribe the
address through the API, an e-commerce customer's opt-in included (the sandbox's
`customers._join_audience`). The app records the addresses it erased (`addon.privacy.erased`):
its payloads never carry the opt-in for one (`payloads.OptInPolicy`); an address forgotten by
someone else is sent once more without it (`cart_pusher.opted_out_if_forgotten`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from addon.ecommerce.batch_results import classify
from addon.ecommerce.cart_audience import NOT_JOINED_FORGOTTEN
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.jobs.models import Job
from addon.mailchimp import CustomerInput, ForgottenEmailNotSubscribed
from addon.mailchimp.models import BatchOperationResult
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import dashboard_headers
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import batch_calls, bursty, direct_writes, settle  # noqa: F401
from tests.erasure.test_erasure import ANN, _customer_with_history
from tests.initial_sync.conftest import SMALL, finish, start

GONE = "gone@example.com"
CONSENT = {CONSENT_SUBSCRIBE: "true"}


def _refusals(shop: Shop, since: int = 0) -> list[str]:
    """The e-commerce writes Mailchimp refused (400) since the `since`-th request."""
    prefix = f"/ecommerce/stores/{shop.store_id}"
    return [
        f"{r.method} {r.path.split(prefix, 1)[1]}"
        for r in shop.mailchimp.requests[since:]
        if prefix in r.path and r.status == 400
    ]


def _customer_opt_in(shop: Shop, email: str) -> bool:
    [customer] = [
        c for c in shop.mailchimp.customers(shop.account, shop.store_id) if c.email_address == email
    ]
    return bool(customer.opt_in_status)


async def _record(shop: Shop, kind: EntityKind, saleor_id: str) -> SyncRecord | None:
    async with shop.services.db.session() as session:
        return await session.scalar(
            select(SyncRecord).where(SyncRecord.kind == kind, SyncRecord.saleor_id == saleor_id)
        )


async def _texts_naming(shop: Shop, email: str) -> list[str]:
    """Error texts on jobs and ledger records (what Activity shows) naming the address."""
    async with shop.services.db.session() as session:
        jobs = (await session.scalars(select(Job.last_error))).all()
        records = (await session.scalars(select(SyncRecord.last_error))).all()
    return [t for t in [*jobs, *records] if t and email.lower() in t.lower()]


async def _forgotten_in_mailchimp(shop: Shop, email: str) -> None:
    """The address subscribed, then permanently deleted in Mailchimp itself (its UI, another
    app): the app never erased it."""
    added = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members",
        body={"email_address": email, "status": "subscribed"},
    )
    assert added.status == 200, added.body
    gone = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members/{subscriber_hash(email)}/actions/delete-permanent",
    )
    assert gone.status == 204, gone.body


async def test_an_order_placed_after_a_panel_erasure_reaches_mailchimp(shop: Shop) -> None:
    """Ann, erased from the panel (Saleor keeps her, with her registration consent), orders
    again. Before, the order's customer was sent `opt_in_status: true` from that consent:
    Mailchimp refused it ("Forgotten Email Not Subscribed"), the push was retried and
    quarantined, the order never reached the store and Activity showed her address."""
    customer, _, _ = await _customer_with_history(shop)
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    erased = await shop.client.post(f"/api/erasure/customers/{customer.global_id}", headers=headers)
    assert erased.status_code == 202, erased.text
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    product = await shop.product("Fig", "3.00")
    await shop.drain()
    since = len(shop.mailchimp.requests)

    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.drain()

    record = await _record(shop, EntityKind.ORDER, order.global_id)
    assert str(order.id) in shop.orders(), record and (record.status, record.last_error)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert not _customer_opt_in(shop, ANN)
    # Never sent opted in: the app knows it erased the address.
    assert _refusals(shop, since) == []
    assert await _texts_naming(shop, ANN) == []
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None


async def test_a_new_account_at_an_erased_address_with_consent_gets_its_orders_sent(
    shop: Shop,
) -> None:
    """Ann deleted her account; later she registers again at the same address, ticking the
    newsletter box, and orders. Before, her customer and her order went with
    `opt_in_status: true`, which Mailchimp refuses for the address it forgot: both were
    retried and quarantined, and the order never reached the store."""
    customer, _, _ = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    since = len(shop.mailchimp.requests)

    again = await shop.saleor.create_customer(ANN, "Ann", "Lee", metadata=dict(CONSENT))
    product = await shop.product("Fig", "3.00")
    await shop.drain()
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=again
    )
    await shop.drain()

    record = await _record(shop, EntityKind.ORDER, order.global_id)
    assert str(order.id) in shop.orders(), record and (record.status, record.last_error)
    customer_record = await _record(shop, EntityKind.CUSTOMER, again.global_id)
    assert customer_record is not None and customer_record.status is SyncStatus.SYNCED
    assert not _customer_opt_in(shop, ANN)
    assert _refusals(shop, since) == []
    assert await _texts_naming(shop, ANN) == []


async def test_an_address_forgotten_in_mailchimp_by_someone_else_is_sent_without_opt_in(
    shop: Shop,
) -> None:
    """The safety net: an address permanently deleted in Mailchimp (not by the app, which
    does not know it as erased) registers with consent, orders, and leaves a cart with
    consent. Before, each of the customer, the order and the cart was refused for its
    opt-in, retried and quarantined, with Mailchimp's text naming the address; now the
    customer and the order are sent once more with the opt-in off and reach the store. The
    guest's cart cannot: Mailchimp takes a cart only from a contact of the audience, which a
    forgotten address cannot become through the API (`cart_audience.py`): it is not sent,
    and its record says why."""
    response = await shop.api(
        "PUT",
        "/api/audiences/settings",
        {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id},
    )
    assert response.status_code == 200, response.text
    await _forgotten_in_mailchimp(shop, GONE)
    guest = "also.gone@example.com"
    await _forgotten_in_mailchimp(shop, guest)
    product = await shop.product("Fig", "3.00")
    await shop.drain()
    since = len(shop.mailchimp.requests)

    customer = await shop.saleor.create_customer(GONE, "Gil", "One", metadata=dict(CONSENT))
    await shop.drain()
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email=guest, metadata=dict(CONSENT)
    )
    await shop.drain()

    assert str(order.id) in shop.orders()
    assert str(checkout.token) not in shop.carts()
    assert not _customer_opt_in(shop, GONE)
    for kind, saleor_id in (
        (EntityKind.CUSTOMER, customer.global_id),
        (EntityKind.ORDER, order.global_id),
    ):
        record = await _record(shop, kind, saleor_id)
        assert record is not None, kind
        assert (record.status, record.last_error) == (SyncStatus.SYNCED, None), kind
    cart = await _record(shop, EntityKind.CART, checkout.global_id)
    assert cart is not None
    assert (cart.status, cart.last_error) == (SyncStatus.REMOVED, NOT_JOINED_FORGOTTEN)
    assert shop.mailchimp.member(shop.account, shop.list_id, guest) is None
    # Mailchimp refused the opt-in (the app did not know the address), then took the rest.
    assert _refusals(shop, since)
    assert await _texts_naming(shop, GONE) == []
    assert await _texts_naming(shop, guest) == []


async def test_a_refusal_left_is_raised_without_the_address() -> None:
    """Before, Mailchimp's text quoting the forgotten address became the job's and the ledger
    record's error (shown in Activity). Refused even without the opt-in, the error is raised
    with the address cut out."""
    from addon.ecommerce.cart_pusher import opted_out_if_forgotten

    body = CustomerInput(id="c1", email_address="Gone@Example.com", opt_in_status=True)
    sent: list[bool] = []

    async def send(customer: CustomerInput) -> None:
        sent.append(customer.opt_in_status)
        raise ForgottenEmailNotSubscribed(
            "gone@example.com was permanently deleted and cannot be re-imported.",
            status=400,
            title="Forgotten Email Not Subscribed",
        )

    with pytest.raises(ForgottenEmailNotSubscribed) as raised:
        await opted_out_if_forgotten(send, body)
    assert sent == [True, False]  # once more without the opt-in, then given up
    assert "gone@example.com" not in str(raised.value).lower()
    assert "permanently deleted" in str(raised.value)


def test_a_batch_refusal_of_a_forgotten_address_goes_to_its_own_push() -> None:
    """Before, a batch operation (a burst, the initial sync) refused for a forgotten address's
    opt-in was quarantined with Mailchimp's text naming the address; its own push now sends
    it without the opt-in."""
    refused = BatchOperationResult(
        status_code=400,
        operation_id="op",
        body=(
            '{"title": "Forgotten Email Not Subscribed", "status": 400, "detail": '
            '"gone@example.com was permanently deleted and cannot be re-imported."}'
        ),
    )
    assert classify(refused) == "live"


async def test_a_new_initial_sync_sends_a_new_account_at_an_erased_address_without_opt_in(
    shop: Shop,
) -> None:
    """Ann deleted her account, then registered again with consent and ordered while the app
    did not hear of it (no webhook): a new initial sync sends her customer and order. Before,
    its batch sent them with `opt_in_status: true` and Mailchimp refused both (quarantined,
    the order never in the store)."""
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)
    customer, _, _ = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    product = await shop.product("Fig", "3.00")
    await shop.drain()
    later = datetime.now(UTC) + timedelta(minutes=5)
    again = shop.saleor.store.create_customer(ANN, "Ann", "Lee", metadata=dict(CONSENT))
    order = shop.saleor.store.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=again, created=later
    )
    since = len(shop.mailchimp.requests)

    await start(shop)
    run = await finish(shop)

    assert run.status.value == "succeeded"
    assert str(order.id) in shop.orders()
    assert not _customer_opt_in(shop, ANN)
    # Sent without the opt-in in the batch: nothing refused, nothing left to a push.
    assert _refusals(shop, since) == []
    assert await _texts_naming(shop, ANN) == []


async def test_orders_of_an_erased_address_in_a_burst_go_without_the_opt_in(
    bursty: Shop,  # noqa: F811
) -> None:
    """A flash sale's orders go out as batches (`burst_orders`): those at an address the app
    erased are built without the opt-in too, so Mailchimp refuses none of the batch's
    operations (before, each such order was refused there and sent again alone)."""
    shop = bursty
    customer, _, _ = await _customer_with_history(shop)
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    erased = await shop.client.post(f"/api/erasure/customers/{customer.global_id}", headers=headers)
    assert erased.status_code == 202, erased.text
    product = await shop.product("Fig", "3.00")
    await settle(shop)
    since = len(shop.mailchimp.requests)

    orders = [
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=False
        )
        for _ in range(6)
    ]
    await settle(shop)

    assert batch_calls(shop, since) >= 1
    held = shop.orders()
    assert all(str(order.id) in held for order in orders)
    # No order went alone after a refusal in its batch.
    assert [w for w in direct_writes(shop, since) if w.split(" ")[1].startswith("orders")] == []
    assert not _customer_opt_in(shop, ANN)
