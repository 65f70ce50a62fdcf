"""Saleor's webhooks verified before anything is stored: signed by a key of Saleor's JWKS (also
after a rotation), for an installation the app has, with the headers and body an event needs;
a duplicated delivery is processed once, a business event stored before the answer."""

from __future__ import annotations

import json

import httpx
import pytest

from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from tests.conftest import SALEOR_API_URL
from tests.deliveries import _headers, _post, _status_body
from tests.factories import count_jobs, installation


async def test_a_signed_webhook_is_accepted(
    installed_app: SandboxApp, saleor: SaleorSandbox
) -> None:
    [delivery] = await saleor.set_app_active(installed_app, False)
    assert delivery.status_code == 200, delivery.response_body
    assert json.loads(delivery.response_body)["outcome"] == "applied"


async def test_a_tampered_body_is_rejected(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    body = _status_body(installed_app, False)
    tampered = body.replace(b'"isActive": false', b'"isActive": true ')
    response = await _post(app_client, tampered, _headers(saleor, body))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    stored = await installation(services)
    assert stored is not None and stored.is_active


async def test_a_signature_with_an_unknown_kid_is_rejected(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    body = _status_body(installed_app, False)
    signature = stranger_key.sign_detached(body)  # its kid is not in Saleor's JWKS
    response = await _post(
        app_client, body, _headers(saleor, body, **{"Saleor-Signature": signature})
    )
    assert response.status_code == 401


async def test_a_signature_by_another_key_under_the_right_kid_is_rejected(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    body = _status_body(installed_app, False)
    forger = SigningKey.from_pem(stranger_key.private_pem(), kid=saleor.kid)
    response = await _post(
        app_client, body, _headers(saleor, body, **{"Saleor-Signature": forger.sign_detached(body)})
    )
    assert response.status_code == 401


async def test_an_unknown_tenant_is_rejected(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    body = _status_body(installed_app, False)
    response = await _post(
        app_client, body, _headers(saleor, body, **{"Saleor-Api-Url": "http://other.test/graphql/"})
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_INSTALLATION"


@pytest.mark.parametrize(
    ("missing", "status"),
    [("Saleor-Event", 400), ("Saleor-Signature", 401), ("Saleor-Api-Url", 400)],
)
async def test_missing_headers_are_rejected(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    missing: str,
    status: int,
) -> None:
    body = _status_body(installed_app, False)
    response = await _post(app_client, body, _headers(saleor, body, **{missing: ""}))
    assert response.status_code == status  # unsigned is unauthenticated, not malformed
    assert missing in response.json()["error"]["message"]


async def test_an_unparseable_body_or_wrong_event_is_rejected(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    garbage = b"{not json"
    response = await _post(app_client, garbage, _headers(saleor, garbage))
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_BODY")
    body = _status_body(installed_app, False)
    response = await _post(
        app_client, body, _headers(saleor, body, **{"Saleor-Event": "app_deleted"})
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "WRONG_EVENT")
    response = await _post(app_client, body, _headers(saleor, body), slug="no-such-hook")
    assert response.status_code == 404


async def test_webhooks_survive_a_key_rotation(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    old_kid = saleor.kid
    saleor.rotate_keys()
    [delivery] = await saleor.set_app_active(installed_app, False)
    assert delivery.status_code == 200, delivery.response_body
    stored = await installation(services)
    assert stored is not None and not stored.is_active
    assert [key["kid"] for key in stored.jwks["keys"]] == [saleor.kid] != [old_kid]


async def test_a_duplicated_delivery_is_processed_once(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    [first] = await saleor.set_app_active(installed_app, False)
    again = await saleor.redeliver(first)
    assert again.status_code == 200
    assert json.loads(again.response_body)["outcome"] == "duplicate"
    assert await count_jobs(services) == 1


async def test_business_events_are_stored_before_the_answer_and_processed_once(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    from addon.installations.webhook_kinds import webhook_job_kind
    from addon.installations.webhooks import Outcome, WebhookHeaders, WebhookReceiver
    from addon.jobs.schemas import ClaimedJob
    from addon.saleor.manifest import WebhookDefinition

    processed: list[dict[str, object]] = []

    async def handle(job: ClaimedJob, _: Services) -> None:
        processed.append(job.payload)

    services.handlers.register(webhook_job_kind("order-created"), handle)
    definition = WebhookDefinition(
        slug="order-created", name="OrderCreated", events=("ORDER_CREATED",), query=""
    )
    body = json.dumps({"order": {"id": "T3JkZXI6MQ=="}}).encode()
    headers = WebhookHeaders(
        event="order_created", signature=saleor.sign(body), saleor_api_url=SALEOR_API_URL
    )
    for expected in (Outcome.QUEUED, Outcome.DUPLICATE):
        assert await WebhookReceiver(services).receive(definition, headers, body) is expected
    await Worker(services).run_until_idle()
    assert processed == [{"event": "ORDER_CREATED", "body": {"order": {"id": "T3JkZXI6MQ=="}}}]
