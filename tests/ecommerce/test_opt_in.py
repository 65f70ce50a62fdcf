"""`opt_in_status` comes only from the shopper's recorded consent, and never bypasses double
opt-in (Mailchimp subscribes a new member at once when it is true)."""

from __future__ import annotations

import pytest

from sandboxes.saleor import SaleorSandbox
from tests.ecommerce.conftest import Shop

CONSENT = {"mailchimp.consent.subscribe": "true"}


@pytest.fixture(autouse=True)
async def offered_audience(shop: Shop) -> None:
    """The store offers the tracked store's audience, as its default."""
    body = {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id}
    response = await shop.api("PUT", "/api/audiences/settings", body)
    assert response.status_code == 200, response.text


async def _order(shop: SaleorSandbox, product_variant: object, **fields: object) -> str:
    order = await shop.create_order(lines=[shop.order_line(product_variant, 1)], **fields)  # type: ignore[arg-type]
    return str(order.id)


def _opt_in(shop: Shop, email: str) -> bool:
    [customer] = [
        c for c in shop.mailchimp.customers(shop.account, shop.store_id) if c.email_address == email
    ]
    return bool(customer.opt_in_status)


async def test_consent_recorded_at_checkout_opts_the_customer_in(shop: Shop) -> None:
    product = await shop.product("Kiwi", "2.00")
    await _order(shop.saleor, product.variants[0], email="yes@example.com", metadata=CONSENT)
    await _order(shop.saleor, product.variants[0], email="no@example.com")
    await shop.drain()
    assert _opt_in(shop, "yes@example.com") is True
    assert _opt_in(shop, "no@example.com") is False


async def test_consent_recorded_at_registration_opts_the_customer_in(shop: Shop) -> None:
    product = await shop.product("Lime", "1.00")
    registered = await shop.saleor.create_customer(
        "reg@example.com", "Reg", "Ister", metadata=CONSENT
    )
    await _order(shop.saleor, product.variants[0], user=registered)
    await shop.drain()
    assert _opt_in(shop, "reg@example.com") is True


async def test_consent_for_another_audience_does_not_opt_in(shop: Shop) -> None:
    product = await shop.product("Plum", "1.00")
    other = {**CONSENT, "mailchimp.consent.audiences": "someotherlist"}
    await _order(shop.saleor, product.variants[0], email="other@example.com", metadata=other)
    await shop.drain()
    assert _opt_in(shop, "other@example.com") is False


async def test_double_opt_in_audiences_are_never_opted_in_directly(shop: Shop) -> None:
    await shop.mailchimp.call(
        shop.account, "PATCH", f"/lists/{shop.list_id}", body={"double_optin": True}
    )
    refreshed = await shop.api("POST", "/api/audiences/refresh")
    assert refreshed.status_code == 202, refreshed.text
    await shop.drain()
    product = await shop.product("Pear", "1.00")
    await _order(shop.saleor, product.variants[0], email="confirm@example.com", metadata=CONSENT)
    await shop.drain()
    assert _opt_in(shop, "confirm@example.com") is False
