"""Installing from the manifest, verifying webhooks, lifecycle, dashboard authentication."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from addon.installations.models import Installation
from addon.jobs.models import HOUSEKEEPING_KINDS, Job
from addon.jobs.repository import JobRepository
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.saleor import InstallationFailed, SaleorSandbox, SandboxApp, SigningKey
from tests.conftest import APP_URL, SALEOR_API_URL, RecordingTransport, dashboard_headers


async def installation(services: Services) -> Installation | None:
    async with services.db.session() as session:
        result = await session.execute(select(Installation))
        return result.scalar_one_or_none()


async def count_jobs(services: Services) -> int:
    """Jobs besides the app's own upkeep (the lifecycle check, the version's announcement)."""
    async with services.db.session() as session:
        statement = select(func.count()).select_from(Job).where(Job.kind.not_in(HOUSEKEEPING_KINDS))
        return int((await session.execute(statement)).scalar_one())


# --- manifest and install ----------------------------------------------------------------


async def test_manifest_has_absolute_urls_and_the_webhooks(app_client: httpx.AsyncClient) -> None:
    manifest = (await app_client.get("/api/manifest")).json()
    for key in ("appUrl", "tokenTargetUrl", "dataPrivacyUrl", "homepageUrl", "supportUrl"):
        assert manifest[key].startswith(APP_URL + "/"), key
    assert manifest["brand"]["logo"]["default"].startswith(APP_URL)
    assert manifest["requiredSaleorVersion"] and manifest["author"]
    assert set(manifest["permissions"]) == {
        "MANAGE_USERS",
        "MANAGE_ORDERS",
        "MANAGE_CHECKOUTS",
        "MANAGE_PRODUCTS",
        "MANAGE_DISCOUNTS",  # vouchers as promo codes (docs/promo-codes.md)
    }
    hooks = {hook["name"]: hook for hook in manifest["webhooks"]}
    assert hooks["AppStatusChanged"]["asyncEvents"] == ["APP_STATUS_CHANGED"]
    assert hooks["AppDeleted"]["targetUrl"] == APP_URL + "/api/webhooks/app-deleted"
    assert all(hook["isActive"] and hook["query"].startswith("#") for hook in hooks.values())


async def test_install_through_the_sandbox(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    stored = await installation(services)
    assert stored is not None
    assert stored.saleor_api_url == SALEOR_API_URL
    assert stored.app_id == installed_app.global_id
    assert stored.app_token.get_secret_value() == installed_app.auth_token
    assert stored.is_active
    assert [key["kid"] for key in stored.jwks["keys"]] == [saleor.kid]


async def test_reinstall_overwrites_the_record(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    saleor.store.apps.pop(installed_app.id)  # deleted in Saleor, its APP_DELETED lost
    again = await saleor.install_app(f"{APP_URL}/api/manifest")
    stored = await installation(services)
    assert stored is not None and stored.app_id == again.global_id != installed_app.global_id
    assert stored.app_token.get_secret_value() == again.auth_token


async def test_register_from_a_prohibited_saleor_sends_nothing_out(
    app_client: httpx.AsyncClient, services: Services, outbound: RecordingTransport
) -> None:
    object.__setattr__(
        services.settings, "allowed_saleor_urls", [r"https://.*\.saleor\.cloud/graphql/"]
    )
    services.settings.__dict__.pop("saleor_url_patterns", None)
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "whatever"},
        headers={"Saleor-Api-Url": "http://evil.test/graphql/", "Saleor-Domain": "evil.test"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "error": {"code": "SALEOR_URL_PROHIBITED", "message": response.json()["error"]["message"]},
    }
    assert "ALLOWED_SALEOR_URLS" in response.json()["error"]["message"]
    assert outbound.requests == []
    assert await installation(services) is None


async def test_the_installer_sees_why_a_prohibited_install_failed(
    app_client: httpx.AsyncClient, services: Services, saleor: SaleorSandbox
) -> None:
    object.__setattr__(
        services.settings, "allowed_saleor_urls", [r"https://shop\.example/graphql/"]
    )
    services.settings.__dict__.pop("saleor_url_patterns", None)
    with pytest.raises(InstallationFailed, match="does not accept installations"):
        await saleor.install_app(f"{APP_URL}/api/manifest")


async def test_register_rejects_a_token_saleor_does_not_confirm(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, services: Services
) -> None:
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "not-a-real-token"},
        headers={"Saleor-Api-Url": SALEOR_API_URL, "Saleor-Domain": "saleor.test"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_APP_TOKEN"
    assert await installation(services) is None


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        ({"auth_token": "x"}, {}, "MISSING_SALEOR_API_URL"),
        ({"token": "x"}, {"Saleor-Api-Url": SALEOR_API_URL}, "INVALID_BODY"),
        ({"auth_token": ""}, {"Saleor-Api-Url": SALEOR_API_URL}, "INVALID_BODY"),
    ],
)
async def test_register_rejects_malformed_requests(
    app_client: httpx.AsyncClient, body: dict[str, str], headers: dict[str, str], code: str
) -> None:
    response = await app_client.post("/api/register", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_register_reports_an_unreachable_saleor(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "x"},
        headers={"Saleor-Api-Url": "http://nowhere.test/graphql/"},
    )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "SALEOR_UNREACHABLE"


async def test_no_plaintext_token_in_the_database(
    installed_app: SandboxApp, services: Services
) -> None:
    token = installed_app.auth_token
    assert token
    if services.db.is_sqlite:
        path = Path(services.db.engine.url.database or "")
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"QXBwOj" in stored or installed_app.global_id.encode() in stored  # data is there
        assert token.encode() not in stored
    else:
        async with services.db.session() as session:
            rows = await session.execute(text("SELECT row_to_json(i)::text FROM installations i"))
            dumped = " ".join(row[0] for row in rows)
        assert installed_app.global_id in dumped and token not in dumped


# --- webhooks ----------------------------------------------------------------------------


async def test_a_signed_webhook_is_accepted(
    installed_app: SandboxApp, saleor: SaleorSandbox
) -> None:
    [delivery] = await saleor.set_app_active(installed_app, False)
    assert delivery.status_code == 200, delivery.response_body
    assert json.loads(delivery.response_body)["outcome"] == "applied"


async def _post(
    client: httpx.AsyncClient,
    body: bytes,
    headers: dict[str, str],
    slug: str = "app-status-changed",
) -> httpx.Response:
    return await client.post(f"/api/webhooks/{slug}", content=body, headers=headers)


def _status_body(app: SandboxApp, active: bool, when: datetime | None = None) -> bytes:
    issued = (when or datetime.now(UTC)).isoformat()
    return json.dumps(
        {"issuedAt": issued, "app": {"id": app.global_id, "isActive": active}}
    ).encode()


def _headers(saleor: SaleorSandbox, body: bytes, **overrides: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Saleor-Event": "app_status_changed",
        "Saleor-Domain": saleor.domain,
        "Saleor-Api-Url": saleor.api_url,
        "Saleor-Signature": saleor.sign(body),
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v}


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


# --- lifecycle ---------------------------------------------------------------------------


async def test_deactivation_pauses_processing_and_reactivation_resumes(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    from addon.jobs.schemas import ClaimedJob

    ran: list[int] = []

    async def record(job: ClaimedJob, _: Services) -> None:
        ran.append(job.id)

    services.handlers.register("test.record", record)
    stored = await installation(services)
    assert stored is not None
    await saleor.set_app_active(installed_app, False)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(stored.id, "test.record", {})
    await Worker(services).run_until_idle()
    assert ran == []
    stored = await installation(services)
    assert stored is not None and not stored.is_active  # data kept
    await saleor.set_app_active(installed_app, True)
    await Worker(services).run_until_idle()
    assert len(ran) == 1


async def test_an_older_status_event_does_not_undo_a_newer_one(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    now = datetime.now(UTC)
    newer = _status_body(installed_app, False, now)
    older = _status_body(installed_app, True, now - timedelta(seconds=5))
    # Deactivated, then activated and deactivated again: the activation's delivery comes last.
    saleor.store.apps[installed_app.id].is_active = False
    assert (await _post(app_client, newer, _headers(saleor, newer))).status_code == 200
    saleor.store.apps[installed_app.id].is_active = True
    answer = await _post(app_client, older, _headers(saleor, older))
    assert answer.status_code == 200
    stored = await installation(services)
    assert stored is not None and not stored.is_active


@pytest.mark.parametrize(
    ("slug", "event", "active"),
    [("app-deleted", "APP_DELETED", True), ("app-status-changed", "APP_STATUS_CHANGED", False)],
)
async def test_a_lifecycle_delivery_saleor_does_not_confirm_changes_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
    slug: str,
    event: str,
    active: bool,
) -> None:
    """The signature does not cover `Saleor-Event`: the app's own APP_STATUS_CHANGED body posted
    as APP_DELETED verifies, as does an old deactivation's. Saleor, asked, still accepts the
    app's token: the app is installed and active."""
    body = _status_body(installed_app, active)
    answer = await _post(app_client, body, _headers(saleor, body, **{"Saleor-Event": event}), slug)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    stored = await installation(services)
    assert stored is not None and stored.is_active and stored.uninstalled_at is None


async def test_uninstall_erases_the_installation_and_its_data(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    stored = await installation(services)
    assert stored is not None
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(stored.id, "test.record", {})
    [delivery] = await saleor.uninstall_app(installed_app)
    assert delivery.status_code == 200, delivery.response_body
    await Worker(services).run_until_idle()  # its last job: Mailchimp cleaned up, then erased
    assert await installation(services) is None
    assert await count_jobs(services) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"issuedAt": "2026-01-01T00:00:00+00:00"},  # another app's AppDeleted, without `app`
        {"user": {"id": "VXNlcjox", "email": "ann@example.com"}},  # any delivery's body
    ],
)
async def test_a_signed_body_naming_no_app_uninstalls_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
    body: dict[str, object],
) -> None:
    """Saleor signs every app's deliveries with one key, over the body alone (not the
    `Saleor-Event` header): another delivery's body, posted as APP_DELETED, verifies."""
    raw = json.dumps(body).encode()
    headers = _headers(saleor, raw, **{"Saleor-Event": "APP_DELETED"})
    response = await _post(app_client, raw, headers, slug="app-deleted")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_BODY")
    stored = await installation(services)
    assert stored is not None and stored.uninstalled_at is None


# --- dashboard authentication ------------------------------------------------------------


async def test_a_dashboard_token_reads_the_installation(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["app_id"] == installed_app.global_id and body["is_active"] is True
    assert body["user_email"] == "admin@example.com"
    assert installed_app.auth_token not in response.text
    assert "token" not in " ".join(body)


async def test_dashboard_tokens_that_must_be_refused(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    async def status(headers: dict[str, str]) -> tuple[int, str]:
        response = await app_client.get("/api/installation", headers=headers)
        return response.status_code, response.json()["error"]["code"]

    good = dashboard_headers(saleor, installed_app)
    forged = dict(
        good,
        **{
            "authorization-bearer": SigningKey.from_pem(
                stranger_key.private_pem(), kid=saleor.kid
            ).encode_jwt(
                {
                    "iss": SALEOR_API_URL,
                    "exp": 4102444800,
                    "app": installed_app.global_id,
                    "user_permissions": ["MANAGE_APPS"],
                }
            )
        },
    )
    expired = dashboard_headers(saleor, installed_app, expires_in=-60)
    other_app = dashboard_headers(
        saleor, installed_app.model_copy(update={"id": installed_app.id + 100})
    )
    weak = dashboard_headers(saleor, installed_app, user_permissions=["MANAGE_ORDERS"])

    assert await status(forged) == (401, "INVALID_TOKEN")
    assert await status(expired) == (401, "TOKEN_EXPIRED")
    assert await status(other_app) == (401, "INVALID_TOKEN")
    assert await status(weak) == (403, "MISSING_PERMISSIONS")
    assert await status({}) == (401, "MISSING_AUTHENTICATION")
    assert await status(dict(good, **{"saleor-api-url": "http://other.test/graphql/"})) == (
        401,
        "UNKNOWN_INSTALLATION",
    )


async def test_a_dashboard_token_signed_after_a_key_rotation_is_accepted(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    saleor.rotate_keys()
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200, response.text


async def test_a_token_from_another_saleor_is_refused(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    saleor_signing_key: SigningKey,
) -> None:
    other = SaleorSandbox("http://other.test/graphql/", signing_key=saleor_signing_key)
    token = other.mint_dashboard_token(installed_app)  # same key, but iss is the other Saleor
    response = await app_client.get(
        "/api/installation",
        headers={"authorization-bearer": token, "saleor-api-url": SALEOR_API_URL},
    )
    assert response.status_code == 401
