"""Request bodies take booleans as JSON booleans only: 0, 1, "true", "no" are refused (422 in
the app's error shape) instead of being coerced, so a client's mistake never flips a setting."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from addon.validation_messages import field_words
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import SALEOR_API_URL, dashboard_headers

NOT_BOOLEANS = [0, 1, "true", "false", "yes", "on", None]
NOT_BOOLEANS_OR_NULL = [value for value in NOT_BOOLEANS if value is not None]


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    assert field_words([field]).lower() in error["message"].lower()  # in words


@pytest.mark.parametrize("value", NOT_BOOLEANS_OR_NULL)
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/api/audiences/settings", {}, "two_way"),
        ("PATCH", "/api/audiences/settings", {}, "allow_multiple"),
        ("PUT", "/api/audiences/settings", {"active_list_ids": []}, "two_way"),
        ("PATCH", "/api/ecommerce/settings", {}, "tracking_enabled"),
        ("PATCH", "/api/ecommerce/settings", {}, "abandoned_carts_enabled"),
        ("PUT", "/api/ecommerce/channels/default-channel", {}, "tracked"),
        ("POST", "/api/connection/reset", {}, "forget_account_data"),
    ],
)
async def test_dashboard_bodies_take_only_json_booleans(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    value: Any,
) -> None:
    response = await app_client.request(
        method,
        path,
        json={**body, field: value},
        headers=dashboard_headers(saleor, installed_app),
    )
    assert_refused(response, field)


@pytest.mark.parametrize("value", NOT_BOOLEANS)
async def test_the_account_page_takes_only_json_booleans(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp, value: Any
) -> None:
    customer = await saleor.create_customer("strict@example.com", is_confirmed=True)
    response = await app_client.put(
        "/api/storefront/me/subscriptions",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"audiences": [{"list_id": "abc", "subscribed": value}]},
        headers={"Authorization": f"Bearer {saleor.mint_customer_token(customer)}"},
    )
    assert_refused(response, "subscribed")


# (A NUL never gets this far: see tests/test_api_bounds.py.)
@pytest.mark.parametrize("email", ["not-an-address", "shop\x01@example.com", "ünï@example.com"])
async def test_the_store_email_is_an_email_address(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp, email: str
) -> None:
    response = await app_client.patch(
        "/api/ecommerce/settings",
        json={"store_email": email},
        headers=dashboard_headers(saleor, installed_app),
    )
    assert_refused(response, "store_email")
