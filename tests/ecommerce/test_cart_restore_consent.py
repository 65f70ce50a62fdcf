"""A cart restored from its link keeps what the shopper recorded on the original checkout: the
copy (made by `checkoutCreate`, which takes no metadata) gets the original's newsletter consent
and campaign attribution, so the order placed from it subscribes and is attributed as the
original's would be (`restore._carry`)."""

from __future__ import annotations

import pytest

from addon.clock import ManualClock
from sandboxes.saleor.models import Checkout
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import ORIGIN, RESTORE_URL, Shop, _link, _restore

CARRIED = {
    "mailchimp.consent.subscribe": "true",
    "mailchimp.consent.audiences": "",
    "mailchimp_campaign_id": "c0ffee",
    "mailchimp_tracking_code": "prec",
    "mailchimp_landing_site": "https://shop.grocer.example/spring",
}


@pytest.fixture(autouse=True)
async def restore_links(shop: Shop, clock: ManualClock) -> None:
    del clock  # links are made and read on the test's clock
    audiences = {
        "active_list_ids": [shop.list_id],
        "default_list_id": shop.list_id,
        "allowed_origins": [ORIGIN],
        "double_optin": "always",
    }
    for method, path, body in (
        ("PATCH", "/api/ecommerce/settings", {"checkout_url_template": RESTORE_URL}),
        ("PUT", "/api/audiences/settings", audiences),
    ):
        response = await shop.api(method, path, body)
        assert response.status_code == 200, response.text


async def _abandoned(shop: Shop, email: str, metadata: dict[str, str]) -> Checkout:
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=email, metadata=metadata
    )
    await shop.drain()
    return checkout


async def _restored(shop: Shop, original: Checkout) -> Checkout:
    answer = await _restore(shop, _link(shop, str(original.token)))
    assert answer.status_code == 200, answer.text
    return shop.saleor.store.get_checkout(answer.json()["checkout_token"])


async def test_the_copy_carries_the_consent_and_attribution_to_its_order(shop: Shop) -> None:
    original = await _abandoned(shop, "rae@example.com", {**CARRIED, "gift-note": "for mum"})
    copy = await _restored(shop, original)
    # Only what the app reads of checkouts and orders: the storefront's other keys stay.
    assert copy.metadata == CARRIED
    order = await shop.saleor.complete_checkout(copy)
    await shop.drain()
    assert {k: order.metadata[k] for k in CARRIED} == CARRIED
    # The consent subscribes the buyer (the audience confirms by e-mail: pending).
    member = shop.mailchimp.member(shop.account, shop.list_id, "rae@example.com")
    assert member is not None and member.status == "pending"


async def test_a_cart_without_consent_is_copied_without_metadata(shop: Shop) -> None:
    original = await _abandoned(shop, "sol@example.com", {"gift-note": "for dad"})
    copy = await _restored(shop, original)
    assert copy.metadata == {}
    await shop.saleor.complete_checkout(copy)
    await shop.drain()
    member = shop.mailchimp.member(shop.account, shop.list_id, "sol@example.com")
    assert member is None or member.status == "transactional"
