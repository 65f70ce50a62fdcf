"""A newsletter consent the storefront records on a checkout after its cart was sent reaches
Mailchimp: the cart's PATCH carries its customer's `opt_in_status` (`cart_payloads.cart_patch`),
under the same rules as the cart's creation (never for an audience asking for confirmation), and
as that no longer changes a contact that exists (added for the cart), the subscriptions
capability applies the consent (`addon/subscriptions/checkout_consent.py`)."""

from __future__ import annotations

from typing import Any

from sandboxes.saleor.models import Checkout
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop

CONSENT = {"mailchimp.consent.subscribe": "true"}


async def _audience(shop: Shop, **settings: Any) -> None:
    body = {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id, **settings}
    response = await shop.api("PUT", "/api/audiences/settings", body)
    assert response.status_code == 200, response.text


async def _abandoned(shop: Shop, email: str, metadata: dict[str, str] | None = None) -> Checkout:
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=email, metadata=metadata
    )
    await shop.drain()
    return checkout


async def _consent(shop: Shop, checkout: Checkout) -> None:
    """The storefront's `updateMetadata` on the checkout: CHECKOUT_METADATA_UPDATED."""
    updated = shop.saleor.store.update_checkout(checkout, metadata={**checkout.metadata, **CONSENT})
    await shop.saleor.emit("CHECKOUT_METADATA_UPDATED", updated)
    await shop.drain()


def _status(shop: Shop, email: str) -> tuple[bool, str | None]:
    [customer] = [
        c for c in shop.mailchimp.customers(shop.account, shop.store_id) if c.email_address == email
    ]
    member = shop.mailchimp.member(shop.account, shop.list_id, email)
    return bool(customer.opt_in_status), member.status if member else None


def _cart_patches(shop: Shop, checkout: Checkout) -> list[Any]:
    return [
        r.body
        for r in shop.mailchimp.requests
        if r.method == "PATCH" and r.path.endswith(f"/carts/{checkout.token}")
    ]


async def test_consent_given_after_the_cart_was_sent_opts_the_shopper_in(shop: Shop) -> None:
    await _audience(shop)
    checkout = await _abandoned(shop, "late@example.com")
    assert _status(shop, "late@example.com") == (False, "transactional")
    writes = len(shop.writes())
    # At the payment step the shopper ticks "send me news", then leaves.
    await _consent(shop, checkout)
    # The cart is patched, not replaced (its abandonment clock keeps running).
    assert shop.writes()[writes:] == [f"PATCH /carts/{checkout.token}"]
    assert _cart_patches(shop, checkout)[-1]["customer"] == {"opt_in_status": True}
    assert _status(shop, "late@example.com") == (True, "subscribed")


async def test_consent_at_creation_opts_in_as_before(shop: Shop) -> None:
    await _audience(shop)
    await _abandoned(shop, "early@example.com", dict(CONSENT))
    assert _status(shop, "early@example.com") == (True, "subscribed")


async def test_no_opt_in_is_sent_for_an_audience_asking_for_confirmation(shop: Shop) -> None:
    await _audience(shop, double_optin="always")
    checkout = await _abandoned(shop, "dbl@example.com")
    await _consent(shop, checkout)
    assert all("customer" not in body for body in _cart_patches(shop, checkout))
    assert _status(shop, "dbl@example.com")[0] is False


async def test_consent_to_another_audience_is_no_opt_in_here(shop: Shop) -> None:
    await _audience(shop)
    checkout = await _abandoned(shop, "other@example.com")
    updated = shop.saleor.store.update_checkout(
        checkout, metadata={**CONSENT, "mailchimp.consent.audiences": "other-list"}
    )
    await shop.saleor.emit("CHECKOUT_METADATA_UPDATED", updated)
    await shop.drain()
    assert all("customer" not in body for body in _cart_patches(shop, checkout))
    assert _status(shop, "other@example.com") == (False, "transactional")
