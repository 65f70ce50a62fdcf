"""The restore link in a cart's `checkout_url` (`restore_tokens.py`): the same within its hour,
so a cart pushed again keeps its fingerprint; refused when changed, made with another
installation's key, sent from another origin or expired. Carts ordered or emptied leave
Mailchimp, their links answering CART_GONE. Every Mailchimp request and answer is checked
against the contract (the `outbound` and `mailchimp_responses` fixtures)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from addon.clock import ManualClock
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.restore_tokens import TIME_STEP, make_link_token, read_link_token
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop, _link, _restore

pytestmark = pytest.mark.usefixtures("restore_links")


def test_a_link_is_the_same_within_its_hour(clock: ManualClock) -> None:
    """An unchanged cart pushed again within the hour keeps its `checkout_url` (and so its
    ledger fingerprint); the link's time is the hour's start, so it never outlives its
    lifetime."""
    key = SecretStr(base64.urlsafe_b64encode(bytes(range(32))).decode())
    hour = (clock.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    clock.set(hour + timedelta(seconds=5))
    first = make_link_token(key, "Q2hlY2tvdXQ6MQ==", "token-1", CHANNEL)
    clock.advance(TIME_STEP - 10)
    assert make_link_token(key, "Q2hlY2tvdXQ6MQ==", "token-1", CHANNEL) == first
    assert make_link_token(key, "Q2hlY2tvdXQ6Mg==", "token-2", CHANNEL) != first
    clock.advance(10)
    assert make_link_token(key, "Q2hlY2tvdXQ6MQ==", "token-1", CHANNEL) != first
    made = Fernet(key.get_secret_value()).extract_timestamp(first.encode())
    assert made == int(hour.timestamp())
    cart = read_link_token(key, first, lifetime_seconds=2 * TIME_STEP)
    assert (cart.checkout_id, cart.checkout_token) == ("Q2hlY2tvdXQ6MQ==", "token-1")


async def test_a_changed_or_foreign_link_is_refused(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    middle = len(link) // 2
    tampered = link[:middle] + ("A" if link[middle] != "A" else "B") + link[middle + 1 :]
    # A link made with another installation's key (well formed, signed, just not ours).
    foreign_key = SecretStr(base64.urlsafe_b64encode(bytes(range(32))).decode())
    foreign = make_link_token(foreign_key, checkout.global_id, str(checkout.token), CHANNEL)
    for bad in (tampered, str(checkout.token), "not a link", foreign):
        refused = await _restore(shop, bad)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "RESTORE_LINK_INVALID"
    elsewhere = await _restore(shop, link, origin="https://evil.example")
    assert elsewhere.status_code == 403
    assert len(shop.saleor.store.checkouts) == 1  # nothing was restored


async def test_an_expired_link_is_refused(shop: Shop, clock: ManualClock) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    lifetime = shop.services.settings.cart_restore_link_hours * 3600
    # A link's time is its hour's start: it lasts at least the lifetime less an hour ...
    clock.advance(lifetime - TIME_STEP - 60)
    assert (await _restore(shop, link)).status_code == 200
    clock.advance(TIME_STEP + 120)  # ... and never longer than the lifetime
    expired = await _restore(shop, link)
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == "RESTORE_LINK_EXPIRED"
    assert "expired" in expired.json()["error"]["message"]


async def test_signed_in_customers_carts_flow_and_ordered_or_emptied_carts_go(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    ordered = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], customer=customer
    )
    emptied = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 3)], email="guest@example.com"
    )
    await shop.drain()
    carts = shop.carts()
    assert carts[str(ordered.token)].customer.email_address == "ann@example.com"
    ordered_link = _link(shop, str(ordered.token))
    emptied_link = _link(shop, str(emptied.token))

    await shop.saleor.complete_checkout(ordered)
    await shop.saleor.update_checkout(emptied, set_quantities={product.variants[0].id: 0})
    await shop.drain()
    assert shop.carts() == {}
    assert "DELETE /carts/" + str(ordered.token) in shop.writes()
    assert "DELETE /carts/" + str(emptied.token) in shop.writes()
    for checkout in (ordered, emptied):
        record = await shop.record(EntityKind.CART, checkout.global_id)
        assert record is not None and record.status is SyncStatus.REMOVED
    for link in (ordered_link, emptied_link):
        gone = await _restore(shop, link)
        assert gone.status_code == 404, gone.text
        assert gone.json()["error"]["code"] == "CART_GONE"
