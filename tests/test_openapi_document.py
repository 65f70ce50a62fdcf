"""The OpenAPI document says what the code enforces: one error model whose code is an enum,
every error status each route can answer, required headers, the dashboard token scheme.
(The fuzz test checks the answers against it; this checks the document's shape directly.)"""

from __future__ import annotations

from typing import Any

import httpx

from addon.errors import ErrorCode

ERROR_REF = "#/components/schemas/ErrorBody"


async def _document(app_client: httpx.AsyncClient) -> dict[str, Any]:
    response = await app_client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _header(operation: dict[str, Any], name: str) -> dict[str, Any]:
    [header] = [
        p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == name
    ]
    return header


async def test_one_error_model_with_enumerated_codes(app_client: httpx.AsyncClient) -> None:
    schemas = (await _document(app_client))["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 shape is never answered
    assert schemas["ErrorBody"]["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    code = schemas["ErrorDetail"]["properties"]["code"]
    assert schemas[code["$ref"].rsplit("/", 1)[1]]["enum"] == [c.value for c in ErrorCode]


async def test_every_error_answer_is_declared_as_the_error_model(
    app_client: httpx.AsyncClient,
) -> None:
    for method, path, operation in _operations(await _document(app_client)):
        responses = operation["responses"]
        assert "413" in responses, (method, path)  # the body limit applies to every route
        assert "500" in responses, (method, path)  # so may an unexpected exception
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, (method, path)
        for status, response in responses.items():
            if not status.startswith(("4", "5")):
                continue
            content = response["content"]
            if "text/html" in content:  # the OAuth callback's page
                continue
            assert content == {"application/json": {"schema": {"$ref": ERROR_REF}}}, (
                method,
                path,
                status,
            )


async def test_dashboard_routes_declare_their_credentials_and_refusals(
    app_client: httpx.AsyncClient,
) -> None:
    document = await _document(app_client)
    scheme = document["components"]["securitySchemes"]["dashboardToken"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "authorization-bearer",
        "description": scheme["description"],
    }
    dashboard = [
        (method, path, operation)
        for method, path, operation in _operations(document)
        if operation.get("security") == [{"dashboardToken": []}]
    ]
    assert len(dashboard) > 20
    for method, path, operation in dashboard:
        assert _header(operation, "saleor-api-url")["required"] is True, (method, path)
        # 502 JWKS_UNAVAILABLE: the token names keys Saleor could not be asked for.
        assert {"401", "403", "502"} <= set(operation["responses"]), (method, path)
    customer = [
        (method, path, operation)
        for method, path, operation in _operations(document)
        if path.startswith("/api/storefront/me/")
    ]
    assert customer
    for method, path, operation in customer:
        assert {"401", "502"} <= set(operation["responses"]), (method, path)


async def test_headers_and_bodies_the_handlers_read_themselves_are_declared(
    app_client: httpx.AsyncClient,
) -> None:
    paths = (await _document(app_client))["paths"]
    register = paths["/api/register"]["post"]
    assert _header(register, "saleor-api-url")["required"] is True
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["auth_token"]
    assert {"400", "401", "403"} <= set(register["responses"])
    webhook = paths["/api/webhooks/{slug}"]["post"]
    for name in ("saleor-event", "saleor-signature", "saleor-api-url"):
        assert _header(webhook, name)["required"] is True
    mine = paths["/api/storefront/me/subscriptions"]["get"]
    assert _header(mine, "authorization")["required"] is True
    assert {"401", "404", "429"} <= set(mine["responses"])
    retry = paths["/api/activity/jobs/{job_id}/retry"]["post"]
    [job_id] = retry["parameters"][:1]
    assert (job_id["schema"]["minimum"], job_id["schema"]["maximum"]) == (1, 2**63 - 1)
