"""E-mail addresses are validated with email-validator (pydantic's EmailStr) where they enter the
app: control characters and other invalid addresses get 422 in the app's error shape, and nothing
invalid reaches Mailchimp; valid ones are stored and matched lowercased, as before."""

from __future__ import annotations

from typing import Any

import pytest

from addon.subscriptions.schemas import normalize_email
from tests.conftest import SALEOR_API_URL, RecordingTransport
from tests.subscriptions.conftest import Shop

INVALID = [
    "\x00@x.com",
    "a\x01b@x.com",
    "ann@exa\nmple.com",
    "an\u200bn@example.com",  # zero-width space
    "ünï@example.com",  # Mailchimp takes no UTF-8 before the @
    "ann@localhost",
    "ann@@example.com",
    "ann..lee@example.com",
    '"a b"@example.com',
    "ann@[127.0.0.1]",
    "Ann <ann@example.com>",
    "a" * 65 + "@example.com",
]


async def _subscribe(shop: Shop, email: Any) -> Any:
    return await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"email": email},
    )


@pytest.mark.parametrize("email", [*INVALID, 5, None, ""])
async def test_invalid_addresses_are_refused_and_reach_nobody(
    newsletter: Shop, outbound: RecordingTransport, email: Any
) -> None:
    sent_before = len(outbound.requests)
    response = await _subscribe(newsletter, email)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "INVALID_INPUT"
    assert await newsletter.work() == 0  # nothing queued
    assert len(outbound.requests) == sent_before


async def test_a_valid_address_is_stored_lowercased_as_before(newsletter: Shop) -> None:
    response = await _subscribe(newsletter, "  Ann.Lee@Example.COM ")
    assert response.status_code == 202, response.text
    await newsletter.work()
    assert newsletter.member(newsletter.ids["news"], "ann.lee@example.com").status == "subscribed"


def test_normalisation_matches_the_stored_form() -> None:
    assert normalize_email(" Ann.Lee@Example.COM ") == "ann.lee@example.com"
    assert normalize_email("a@Bücher.DE") == "a@bücher.de"  # an IDN domain is accepted
    for email in INVALID:
        with pytest.raises(ValueError):
            normalize_email(email)


# Addresses Saleor accepts (Django's EmailValidator) but Mailchimp would not.
SALEOR_ONLY = ["ünï@example.com", "ann@shop.local"]


@pytest.mark.parametrize("email", SALEOR_ONLY)
async def test_a_signed_in_customer_with_an_unusable_address_is_told_so(
    newsletter: Shop, outbound: RecordingTransport, email: str
) -> None:
    customer = await newsletter.saleor.create_customer(email, is_confirmed=True)
    await newsletter.work()  # Saleor's CUSTOMER_CREATED
    token = newsletter.saleor.mint_customer_token(customer)
    sent_before = len(outbound.requests)
    response = await newsletter.client.put(
        "/api/storefront/me/subscriptions",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"audiences": [{"list_id": newsletter.ids["news"], "subscribed": True}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_EMAIL"
    assert await newsletter.work() == 0
    # Nothing but Saleor's read of the account's address now (the one judged, not the token's).
    assert {r.url.host for r in outbound.requests[sent_before:]} <= {"saleor.test"}


@pytest.mark.parametrize("email", SALEOR_ONLY)
async def test_staff_cannot_subscribe_an_unusable_address(
    newsletter: Shop, outbound: RecordingTransport, email: str
) -> None:
    customer = await newsletter.saleor.create_customer(email)
    await newsletter.work()  # Saleor's CUSTOMER_CREATED
    sent_before = len(outbound.requests)
    url = f"/api/subscriptions/customers/{customer.global_id}"
    response = await newsletter.client.post(
        url,
        json={"list_id": newsletter.ids["news"], "action": "subscribe"},
        headers=newsletter.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_EMAIL"
    assert await newsletter.work() == 0
    assert not any("/members" in str(r.url) for r in outbound.requests[sent_before:])
