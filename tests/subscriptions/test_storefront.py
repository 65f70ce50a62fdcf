"""The public storefront API: offer, subscribe, account page, CORS and rate limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from addon.app import create_app
from addon.audiences.repository import AudienceRepository
from addon.installations.models import Installation
from addon.subscriptions.storefront import StorefrontService
from sandboxes.saleor import SaleorSandbox
from tests.conftest import APP_URL, SALEOR_API_URL
from tests.subscriptions.conftest import Shop

ORIGIN = "https://shop.example.com"
STORE = {"saleor_api_url": SALEOR_API_URL}


async def _subscribe(shop: Shop, body: dict[str, Any], **headers: str) -> Any:
    return await shop.client.post(
        "/api/storefront/subscribe", params=STORE, json=body, headers=headers
    )


async def test_offer_lists_active_audiences_groups_and_permission_texts(newsletter: Shop) -> None:
    response = await newsletter.client.get("/api/storefront/newsletter", params=STORE)
    assert response.status_code == 200
    offer = response.json()
    assert offer["allow_multiple"] is True
    news, deals = offer["audiences"]
    assert news["name"] == "News" and news["is_default"] and not news["double_optin"]
    assert [g["title"] for g in news["groups"]] == ["Topics"]
    assert [i["name"] for i in news["groups"][0]["interests"]] == ["Fruit", "Veg"]
    assert "Email" in [p["text"] for p in news["marketing_permissions"]]
    assert deals["double_optin"] is True


async def test_a_store_that_does_not_use_the_app_is_not_found(newsletter: Shop) -> None:
    params = {"saleor_api_url": "http://nowhere.example/graphql/"}
    response = await newsletter.client.get("/api/storefront/newsletter", params=params)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UNKNOWN_STORE"


async def test_subscribe_answers_at_once_and_the_worker_applies(newsletter: Shop) -> None:
    shop = newsletter
    body = {
        "email": " Hal@Example.com ",
        "first_name": "Hal",
        "audiences": [shop.ids["news"], shop.ids["deals"]],
        "groups": [shop.ids["Veg"]],
    }
    response = await _subscribe(shop, body)
    assert response.status_code == 202, response.text
    assert response.json()["audiences"] == [
        {"list_id": shop.ids["news"], "status": "subscribed"},
        {"list_id": shop.ids["deals"], "status": "pending"},
    ]
    assert shop.member(shop.ids["news"], "hal@example.com") is None  # not waited for
    await shop.work()
    member = shop.member(shop.ids["news"], "hal@example.com")
    assert member.status == "subscribed" and member.merge_fields["FNAME"] == "Hal"
    assert member.interests[shop.ids["Veg"]] is True
    assert shop.member(shop.ids["deals"], "hal@example.com").status == "pending"

    # Subscribing a known address again answers exactly the same.
    again = await _subscribe(shop, body)
    assert again.status_code == 202 and again.json() == response.json()


async def test_invalid_email_and_unoffered_audiences_are_refused(newsletter: Shop) -> None:
    bad = await _subscribe(newsletter, {"email": "not-an-address"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "INVALID_INPUT"
    unknown = await _subscribe(newsletter, {"email": "a@example.com", "audiences": ["nope"]})
    assert unknown.status_code == 409
    store = await newsletter.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": "http://other.test/graphql/"},
        json={"email": "a@example.com"},
    )
    assert store.status_code == 404


async def test_cors_only_for_allowed_origins(newsletter: Shop) -> None:
    client = newsletter.client
    preflight = await client.options(
        "/api/storefront/subscribe",
        params=STORE,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    allowed = await _subscribe(newsletter, {"email": "ida@example.com"}, origin=ORIGIN)
    assert allowed.status_code == 202
    assert allowed.headers["access-control-allow-origin"] == ORIGIN

    evil = "https://evil.example.net"
    refused = await client.options(
        "/api/storefront/subscribe",
        params=STORE,
        headers={"Origin": evil, "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    posted = await _subscribe(newsletter, {"email": "jo@example.com"}, origin=evil)
    assert posted.status_code == 403
    await newsletter.work()
    assert newsletter.member(newsletter.ids["news"], "jo@example.com") is None

    # Every answer depends on Origin, also one to a server (no Origin, no CORS header): a
    # shared cache must not give a server's copy to a browser, nor one origin's to another.
    server = await client.get("/api/storefront/newsletter", params=STORE)
    assert server.status_code == 200 and "access-control-allow-origin" not in server.headers
    for answer in (preflight, allowed, refused, posted, server):
        assert answer.headers["vary"] == "Origin"


async def test_origins_typed_with_capitals_or_a_default_port_match_what_browsers_send(
    newsletter: Shop,
) -> None:
    """Browsers send `Origin` with the host in lower case and no default port (RFC 6454): the
    settings keep origins so, and compare so origins saved before."""
    shop = newsletter
    body = {
        "active_list_ids": [shop.ids["news"]],
        "allowed_origins": ["HTTPS://Shop.Example.com/", "https://b.example.com:443"],
    }
    saved = await shop.client.patch("/api/audiences/settings", json=body, headers=shop.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["settings"]["allowed_origins"] == [
        "https://shop.example.com",
        "https://b.example.com",
    ]
    for origin in ("https://shop.example.com", "https://b.example.com"):
        answer = await _subscribe(shop, {"email": "ida@example.com"}, origin=origin)
        assert answer.status_code == 202, (origin, answer.text)
    async with shop.services.db.transaction() as session:  # as saved before normalising
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        settings = await AudienceRepository(session).find_settings(installation_id)
        assert settings is not None
        settings.allowed_origins = ["https://OLD.example.com:443"]
    answer = await _subscribe(shop, {"email": "ida@example.com"}, origin="https://old.example.com")
    assert answer.status_code == 202, answer.text


async def test_rate_limited_per_email_and_per_address(newsletter: Shop) -> None:
    limit = newsletter.services.settings.storefront_rate_limit_per_email
    for _ in range(limit):
        assert (await _subscribe(newsletter, {"email": "kim@example.com"})).status_code == 202
    limited = await _subscribe(newsletter, {"email": "KIM@example.com"})
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["Retry-After"]) >= 1  # when to try again, in seconds
    assert (await _subscribe(newsletter, {"email": "lee@example.com"})).status_code == 202

    per_address = newsletter.services.settings.storefront_rate_limit_per_address
    answers = [
        await newsletter.client.get("/api/storefront/newsletter", params=STORE)
        for _ in range(per_address)
    ]
    assert answers[-1].status_code == 429 and answers[0].status_code == 200
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60


async def _customer_token(saleor: SaleorSandbox, email: str, **options: Any) -> str:
    customer = saleor.store.find_customer_by_email(email) or await saleor.create_customer(
        email, is_confirmed=True
    )
    return saleor.mint_customer_token(customer, **options)


async def test_account_page_reads_and_changes_own_subscriptions(newsletter: Shop) -> None:
    shop = newsletter
    token = await _customer_token(shop.saleor, "max@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    change = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        # An e-mail in the body is not a field: the account's address in Saleor is used.
        json={
            "audiences": [
                {"list_id": shop.ids["news"], "subscribed": True, "groups": [shop.ids["Fruit"]]}
            ],
            "email": "x@example.com",
        },
    )
    assert change.status_code == 202, change.text
    await shop.work()
    assert shop.member(shop.ids["news"], "max@example.com").status == "subscribed"
    assert shop.member(shop.ids["news"], "x@example.com") is None

    mine = await shop.client.get("/api/storefront/me/subscriptions", params=STORE, headers=auth)
    assert mine.status_code == 200
    by_list = {a["list_id"]: a for a in mine.json()["audiences"]}
    assert mine.json()["email"] == "max@example.com"
    assert by_list[shop.ids["news"]]["status"] == "subscribed"
    assert by_list[shop.ids["news"]]["groups"] == [shop.ids["Fruit"]]
    assert by_list[shop.ids["deals"]]["status"] == "none"

    off = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        json={"audiences": [{"list_id": shop.ids["news"], "subscribed": False}]},
    )
    assert off.status_code == 202
    await shop.work()
    assert shop.member(shop.ids["news"], "max@example.com").status == "unsubscribed"


async def test_a_token_made_for_an_audience_is_accepted(newsletter: Shop) -> None:
    """`tokenCreate(audience: "storefront")` adds `aud` "custom:storefront"; Saleor never checks
    the audience of its own tokens, and neither may the app."""
    shop = newsletter
    token = await _customer_token(shop.saleor, "max@example.com", audience="storefront")
    mine = await shop.client.get(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["email"] == "max@example.com"


@pytest.mark.parametrize("kind", ["missing", "forged", "expired", "other_store", "staff_app"])
async def test_account_page_rejects_bad_tokens(
    newsletter: Shop, kind: str, stranger_key: Any, network: Any
) -> None:
    shop = newsletter
    customer = await shop.saleor.create_customer("ned@example.com", is_confirmed=True)
    if kind == "missing":
        headers = {}
    elif kind == "forged":
        other = SaleorSandbox(SALEOR_API_URL, signing_key=stranger_key)
        headers = {"Authorization": f"Bearer {other.mint_customer_token(customer)}"}
    elif kind == "expired":
        token = shop.saleor.mint_customer_token(customer, expires_in=-60)
        headers = {"Authorization": f"Bearer {token}"}
    elif kind == "other_store":
        other = SaleorSandbox("http://other.test/graphql/", signing_key=stranger_key)
        headers = {"Authorization": f"Bearer {other.mint_customer_token(customer)}"}
    else:
        headers = {"Authorization": f"Bearer {shop.saleor.mint_dashboard_token(shop.app)}"}
    response = await shop.client.get(
        "/api/storefront/me/subscriptions", params=STORE, headers=headers
    )
    assert response.status_code == 401, response.text
    expected = {"missing": "MISSING_AUTHENTICATION", "expired": "TOKEN_EXPIRED"}
    assert response.json()["error"]["code"] == expected.get(kind, "INVALID_TOKEN")


async def test_an_unsubscribe_goes_through_a_merge_field_made_required_since(
    newsletter: Shop,
) -> None:
    """The admin made a field required in Mailchimp after the contact joined (it holds no
    value): Mailchimp refuses any write of that member unless it skips merge validation, so the
    shopper's unsubscribe would never reach it."""
    shop = newsletter
    token = await _customer_token(shop.saleor, "max@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    news = shop.ids["news"]

    async def subscribed(on: bool) -> None:
        change = await shop.client.put(
            "/api/storefront/me/subscriptions",
            params=STORE,
            headers=auth,
            json={"audiences": [{"list_id": news, "subscribed": on}]},
        )
        assert change.status_code == 202, change.text
        await shop.work()

    await subscribed(True)
    assert shop.member(news, "max@example.com").status == "subscribed"
    await shop.mc(
        "POST", f"/lists/{news}/merge-fields", {"name": "Company", "type": "text", "required": True}
    )

    await subscribed(False)
    assert shop.member(news, "max@example.com").status == "unsubscribed"


async def test_an_unexpected_failure_is_answered_with_cors_and_keeps_nothing(
    newsletter: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storefront's script can read a 500 too (a browser hides an answer without CORS
    headers from it), naming the request id and nothing of the exception; what the request
    wrote before it failed is rolled back (the subscription is not applied)."""

    async def broken(*_: Any) -> Any:
        raise RuntimeError("lost the database at postgresql://app:s3cret@db/app")

    monkeypatch.setattr(StorefrontService, "_outcomes", broken)  # after the request is queued
    app = create_app(newsletter.services, run_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
        answer = await client.post(
            "/api/storefront/subscribe",
            params=STORE,
            json={"email": "ida@example.com"},
            headers={"origin": ORIGIN},
        )
    assert answer.status_code == 500
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["vary"] == "Origin"
    error = answer.json()["error"]
    assert error["code"] == "INTERNAL_ERROR" and "s3cret" not in error["message"]
    assert answer.headers["x-request-id"] in error["message"]
    await newsletter.work()
    assert newsletter.member(newsletter.ids["news"], "ida@example.com") is None


async def test_a_refused_request_is_answered_with_cors(newsletter: Shop) -> None:
    """An error the app answers itself (here: an address it cannot accept) reaches the script."""
    answer = await _subscribe(newsletter, {"email": "not an address"}, origin=ORIGIN)
    assert answer.status_code == 422
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["vary"] == "Origin"
