"""Ids taken from paths are bounded: out-of-range ids are answered 422 in the app's error shape,
never passed to the database (SQLite raised OverflowError past 64 bits, PostgreSQL refuses
INTEGER values past 32 bits). Nor does a NUL anywhere in a request reach it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import SALEOR_API_URL, dashboard_headers

TOO_BIG = [99999999999999999999999, 2**63, 2**31, 0, -1]


def assert_invalid_input(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("value", TOO_BIG)
async def test_mailchimp_webhook_installation_id_is_bounded(
    app_client: httpx.AsyncClient, value: int
) -> None:
    path = f"/api/subscriptions/mailchimp-webhook/{value}/secret"
    assert_invalid_input(await app_client.get(path))
    assert_invalid_input(await app_client.post(path, content=b"type=subscribe"))


async def test_a_well_formed_unknown_installation_is_not_found(
    app_client: httpx.AsyncClient,
) -> None:
    response = await app_client.get(f"/api/subscriptions/mailchimp-webhook/{2**31 - 1}/secret")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UNKNOWN_WEBHOOK"


@pytest.mark.parametrize("value", [99999999999999999999999, 2**63, 0, -1])
async def test_job_retry_id_is_bounded(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp, value: int
) -> None:
    headers = dashboard_headers(saleor, installed_app)
    response = await app_client.post(f"/api/activity/jobs/{value}/retry", headers=headers)
    assert_invalid_input(response)
    # The largest BIGINT is a valid id that names nothing.
    response = await app_client.post(f"/api/activity/jobs/{2**63 - 1}/retry", headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize("value", TOO_BIG)
async def test_record_retry_id_is_bounded(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp, value: int
) -> None:
    headers = dashboard_headers(saleor, installed_app)
    response = await app_client.post(f"/api/ecommerce/records/{value}/retry", headers=headers)
    assert_invalid_input(response)
    response = await app_client.post(f"/api/ecommerce/records/{2**31 - 1}/retry", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "UNKNOWN_RECORD"


@pytest.mark.parametrize("customer_id", ["garbage", "VXNlcjp4", "UHJvZHVjdDox"])
async def test_a_customer_id_saleor_cannot_resolve_is_not_found(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    customer_id: str,
) -> None:
    """Saleor answers a malformed global id with an error ("Couldn't resolve id"), another
    type's id (here Product:1) with nobody: both are an unknown customer, not a Saleor outage."""
    headers = dashboard_headers(saleor, installed_app)
    response = await app_client.get(f"/api/subscriptions/customers/{customer_id}", headers=headers)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "UNKNOWN_CUSTOMER"


TRACKED = {"tracked": True}


@pytest.mark.parametrize(
    ("method", "path", "params", "headers", "body"),
    [
        ("PUT", "/api/ecommerce/channels/a%00b", {}, {}, TRACKED),
        ("GET", "/api/ecommerce/channels/a%00b/initial-sync", {}, {}, None),
        ("GET", "/api/subscriptions/customers/%00", {}, {}, None),
        (
            "GET",
            "/api/storefront/newsletter",
            {"saleor_api_url": SALEOR_API_URL + "\x00"},
            {},
            None,
        ),
        ("GET", "/api/connection", {}, {"saleor-api-url": SALEOR_API_URL + "\x00"}, None),
        (
            "PATCH",
            "/api/ecommerce/settings",
            {},
            {},
            {"product_url_template": "https://x/{slug}\x00"},
        ),
    ],
    ids=["path", "path-get", "customer", "query", "header", "json-body"],
)
async def test_a_nul_anywhere_is_invalid_input(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    method: str,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: dict[str, Any] | None,
) -> None:
    """PostgreSQL cannot hold a NUL and refuses one in a query (each was a 500 there)."""
    request = app_client.build_request(
        method,
        path,
        params=params,
        headers={**dashboard_headers(saleor, installed_app), **headers},
        json=body,
    )
    response = await app_client.send(request)
    assert_invalid_input(response)


async def test_a_nul_in_a_form_body_is_invalid_input(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        f"/api/subscriptions/mailchimp-webhook/{2**31 - 1}/secret",
        content=b"type=subscribe&data%5Bemail%5D=a%00@example.com",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_invalid_input(response)


async def test_an_escaped_backslash_before_u0000_is_just_text(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    # The JSON text "\\u0000" is a backslash and "u0000", not a NUL: accepted as such.
    response = await app_client.patch(
        "/api/ecommerce/settings",
        headers={**dashboard_headers(saleor, installed_app), "content-type": "application/json"},
        content=b'{"product_url_template": "https://x.example/{slug}?q=\\\\u0000"}',
    )
    assert response.status_code == 200, response.text
    settings = response.json()["settings"]
    assert settings["product_url_template"].endswith("q=\\u0000")
