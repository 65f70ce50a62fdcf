"""Carts of shoppers not yet in the store's audience: Mailchimp refuses such a cart ("not found
in audience", the sandbox's `carts.py`), so the app adds the contact as a non-subscribed
(`transactional`) contact and posts the cart again, once; never for an address the app erased,
nor one Mailchimp keeps out (archived, forgotten): that cart is not sent, and its record says
why (`addon/ecommerce/cart_audience.py`)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.ecommerce.cart_audience import NOT_JOINED_ARCHIVED, NOT_JOINED_ERASED
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.mailchimp import BadRequest, Cart, CartInput, MailchimpClient
from addon.subscriptions.checkout_consent import consent_key
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import Source
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_erased_shopper_orders import _texts_naming
from tests.ecommerce.test_webhooks_together import statements
from tests.erasure.test_erasure import ANN, _customer_with_history

GUEST = "first.time@example.com"


def _member_writes(shop: Shop, email: str) -> list[str]:
    path = f"/lists/{shop.list_id}/members/{subscriber_hash(email)}"
    return [
        r.method for r in shop.mailchimp.requests if r.path.endswith(path) and r.method != "GET"
    ]


async def test_a_first_time_guest_s_cart_reaches_mailchimp(shop: Shop) -> None:
    """Before, the cart's POST was refused, retried and quarantined: a new shopper's
    abandoned cart never reached Mailchimp, so no abandoned-cart e-mail."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST
    )
    await shop.drain()

    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and (record.status, record.last_error) == (SyncStatus.SYNCED, None)
    assert str(checkout.token) in shop.carts()
    member = shop.mailchimp.member(shop.account, shop.list_id, GUEST)
    assert member is not None and member.status == "transactional"  # no subscription
    assert _member_writes(shop, GUEST) == ["PUT"]
    assert shop.writes().count("POST /carts") == 2  # refused, then taken
    assert await _texts_naming(shop, GUEST) == []


async def test_an_erased_address_is_not_added_again_for_a_cart(shop: Shop) -> None:
    """Ann's account was deleted (so erased in Mailchimp); she leaves a cart as a guest. The
    app does not put her back in the audience: the cart is not sent, and its record says why."""
    customer, _, _ = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    fig = await shop.product("Fig", "2.00")
    writes = len(_member_writes(shop, ANN))

    checkout = await shop.saleor.create_checkout(lines=[LineSpec(fig.variants[0].id, 1)], email=ANN)
    await shop.drain()

    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    assert len(_member_writes(shop, ANN)) == writes  # never asked to add her
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, NOT_JOINED_ERASED)
    assert await _texts_naming(shop, ANN) == []


async def test_an_archived_contact_stays_archived_and_its_cart_is_not_sent(shop: Shop) -> None:
    """An admin archived the contact in Mailchimp: adding it `status_if_new` leaves it
    archived (no status changed), so the cart is not sent, and the record says so."""
    fig = await shop.product("Fig", "2.00")
    added = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members",
        body={"email_address": GUEST, "status": "transactional"},
    )
    assert added.status == 200, added.body
    path = f"/lists/{shop.list_id}/members/{subscriber_hash(GUEST)}"
    assert (await shop.mailchimp.call(shop.account, "DELETE", path)).status == 204

    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST
    )
    await shop.drain()

    assert shop.mailchimp.member(shop.account, shop.list_id, GUEST).status == "archived"
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, NOT_JOINED_ARCHIVED)


CONSENT = {"mailchimp.consent.subscribe": "true"}


async def _offered(shop: Shop) -> None:
    body = {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id}
    response = await shop.api("PUT", "/api/audiences/settings", body)
    assert response.status_code == 200, response.text


async def test_an_opted_in_first_time_guest_joins_subscribed_in_one_put(shop: Shop) -> None:
    """The cart's opt-in applies to the contact added for it, at its creation only
    (`status_if_new`), as Mailchimp's e-commerce opt-in did: no GET, no PATCH of the member."""
    await _offered(shop)
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST, metadata=dict(CONSENT)
    )
    await shop.drain()

    assert str(checkout.token) in shop.carts()
    assert shop.mailchimp.member(shop.account, shop.list_id, GUEST).status == "subscribed"
    assert _member_writes(shop, GUEST) == ["PUT"]  # no PATCH after it


async def test_a_cart_s_consent_to_a_contact_someone_else_added_is_the_subscriptions(
    shop: Shop,
) -> None:
    """The spec's `opt_in_status` "will never overwrite the opt-in status of a pre-existing
    Mailchimp list member": the checkout's consent to a contact another tool added as
    transactional goes through the subscriptions capability (`checkout_consent.py`), whose
    contact record knows it, never through a member PATCH of the cart's own."""
    await _offered(shop)
    added = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members",
        body={"email_address": GUEST, "status": "transactional"},
    )
    assert added.status == 200, added.body
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST, metadata=dict(CONSENT)
    )
    await shop.drain()

    assert str(checkout.token) in shop.carts()
    assert shop.mailchimp.member(shop.account, shop.list_id, GUEST).status == "subscribed"
    async with shop.services.db.session() as session:
        states = (await session.scalars(select(ContactState))).all()
    assert [(s.email, s.list_id, s.status, s.last_change_source) for s in states] == [
        (GUEST, shop.list_id, "subscribed", Source.CHECKOUT.value)
    ]


async def test_a_checkout_typed_with_another_address_gives_the_account_s_no_consent(
    shop: Shop,
) -> None:
    """A signed-in shopper's cart names their account's address; the consent ticked on a
    checkout typed with another address is that address's (the order applies it there), so the
    account's contact is not subscribed by it (found by review)."""
    await _offered(shop)
    bob = await shop.saleor.create_customer("bob@example.com", "Bob", "Brown")
    added = await shop.mailchimp.call(
        shop.account,
        "POST",
        f"/lists/{shop.list_id}/members",
        body={"email_address": "bob@example.com", "status": "transactional"},
    )
    assert added.status == 200, added.body
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)],
        email="bob.at.work@example.com",
        customer=bob,
        metadata=dict(CONSENT),
    )
    await shop.drain()

    assert str(checkout.token) in shop.carts()
    member = shop.mailchimp.member(shop.account, shop.list_id, "bob@example.com")
    assert member.status == "transactional"


def test_the_consent_job_s_key_fits_its_column() -> None:
    """A Saleor checkout id is 60 characters (base64 of "Checkout:" and a UUID) and the jobs'
    dedupe key 128 (found by review: PostgreSQL refused the key, and with it the cart's push)."""
    checkout_id = "Q2hlY2tvdXQ6" + "x" * 48
    key = consent_key(checkout_id, "someone.with.a.long.address@example.com")
    assert len(key) <= 128
    assert key != consent_key(checkout_id, "other@example.com")


async def test_nothing_after_the_cart_s_post_can_fail_it_into_a_replacement(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the cart was taken made the retry's POST meet "already exists", delete
    the cart and post it again, restarting its abandonment clock. Mailchimp is unavailable
    from the moment the cart is taken (the next request fails, every retry of it too): that
    request (the checkout consent's, applied by the subscriptions capability) fails its own
    job, never the push."""
    await _offered(shop)
    real = MailchimpClient.create_cart
    attempts = shop.services.settings.mailchimp_max_attempts
    taken: list[Cart] = []

    async def then_unavailable(self: MailchimpClient, store_id: str, cart: CartInput) -> Cart:
        answer = await real(self, store_id, cart)
        if not taken:
            shop.mailchimp.faults.fail_next(attempts, 503, account=shop.account)
        taken.append(answer)
        return answer

    monkeypatch.setattr(MailchimpClient, "create_cart", then_unavailable)
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST, metadata=dict(CONSENT)
    )
    await shop.drain()

    assert [w for w in shop.writes() if "/carts" in w] == ["POST /carts", "POST /carts"]
    assert [r.status for r in shop.mailchimp.requests].count(503) == attempts  # it did fail
    assert str(checkout.token) in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_cart_s_creation_asks_once_whether_its_address_was_erased(shop: Shop) -> None:
    """The opt-in's policy asks it of the checkout's addresses, and the POST's guard has the
    answer already (found by review: two reads of the erased addresses for one cart)."""
    await _offered(shop)  # an audience asking no confirmation: the policy asks
    fig = await shop.product("Fig", "2.00")
    await shop.drain()

    with statements(shop) as seen:
        checkout = await shop.saleor.create_checkout(
            lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST
        )
        await shop.drain()

    assert str(checkout.token) in shop.carts()
    assert len([s for s in seen if "ecommerce_erased_addresses" in s]) == 1


async def test_an_erased_address_is_never_posted_in_a_cart(shop: Shop) -> None:
    """The app knows it erased the address: the cart is not sent, before any POST, and not
    again at the checkout's next update."""
    customer, _, _ = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    fig = await shop.product("Fig", "2.00")
    posts = shop.writes().count("POST /carts")

    checkout = await shop.saleor.create_checkout(lines=[LineSpec(fig.variants[0].id, 1)], email=ANN)
    await shop.drain()
    updated = shop.saleor.store.update_checkout(checkout, metadata={"note": "again"})
    await shop.saleor.emit("CHECKOUT_METADATA_UPDATED", updated)
    await shop.drain()

    assert shop.writes().count("POST /carts") == posts
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, NOT_JOINED_ERASED)


async def test_a_cart_patch_refused_for_a_contact_gone_from_the_audience(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contact was archived after its cart was taken, and Mailchimp refuses the cart's
    PATCH as "not found in audience" (a one-off refusal: nothing published says a PATCH is
    refused so, the sandbox's `carts.py`): handled as at the creation, the cart is not sent
    (the contact stays archived), and no text names the address."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=GUEST
    )
    await shop.drain()
    assert str(checkout.token) in shop.carts()
    path = f"/lists/{shop.list_id}/members/{subscriber_hash(GUEST)}"
    assert (await shop.mailchimp.call(shop.account, "DELETE", path)).status == 204

    async def refused(self: MailchimpClient, store_id: str, cart_id: str, patch: object) -> None:
        raise BadRequest(f"{GUEST} not found in audience.", status=400, title="Bad Request")

    monkeypatch.setattr(MailchimpClient, "update_cart", refused)
    updated = shop.saleor.store.update_checkout(checkout, metadata={"note": "again"})
    await shop.saleor.emit("CHECKOUT_METADATA_UPDATED", updated)
    await shop.drain()

    assert shop.mailchimp.member(shop.account, shop.list_id, GUEST).status == "archived"
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None
    assert (record.status, record.last_error) == (SyncStatus.REMOVED, NOT_JOINED_ARCHIVED)
    assert await _texts_naming(shop, GUEST) == []
