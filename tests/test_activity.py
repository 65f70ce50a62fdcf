"""The Activity API: recent events and jobs of the installation, filters, and Retry."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from addon.installations.models import Installation
from addon.jobs.models import JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.jobs.worker import Worker
from addon.redaction import redact
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import dashboard_headers
from tests.factories import make_installation

LEAKY_KEY = "0123456789abcdef0123456789abcdef-us21"


@pytest.fixture
def headers(saleor: SaleorSandbox, installed_app: SandboxApp) -> dict[str, str]:
    return dashboard_headers(saleor, installed_app)


async def installation_id(services: Services) -> int:
    async with services.db.session() as session:
        return (await session.execute(select(Installation.id))).scalar_one()


async def enqueue(services: Services, installation: int, kind: str) -> int:
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation, kind, {"order": "T3JkZXI6MQ=="})
    assert job_id is not None
    return job_id


async def quarantine_one(services: Services, installation: int) -> int:
    """A job whose handler gives up at once, with an error that quotes a credential."""

    async def fails(job: ClaimedJob, _: Services) -> None:
        raise PermanentFailure(f"Mailchimp refused apikey {LEAKY_KEY} for this order")

    services.handlers.register("ecommerce.sync_order", fails)
    job_id = await enqueue(services, installation, "ecommerce.sync_order")
    await Worker(services).run_until_idle()
    return job_id


async def test_lists_events_and_jobs_with_readable_summaries(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
) -> None:
    await saleor.set_app_active(installed_app, True)  # an APP_STATUS_CHANGED delivery
    job_id = await quarantine_one(services, await installation_id(services))

    response = await app_client.get("/api/activity", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    by_summary = {item["summary"]: item for item in body["items"]}
    event = by_summary["Webhook APP_STATUS_CHANGED"]
    assert event["category"] == "event" and event["status"] == "done"
    assert event["can_retry"] is False
    job = by_summary["Ecommerce: sync order"]
    assert job["id"] == job_id and job["category"] == "job"
    assert job["status"] == "quarantined" and job["attempts"] == 1 and job["can_retry"] is True
    assert "Mailchimp refused apikey" in job["last_error"]
    assert LEAKY_KEY not in response.text and "[redacted]" in job["last_error"]
    assert body["counts"] == {"pending": 0, "running": 0, "done": 1, "quarantined": 1}
    assert [item["id"] for item in body["items"]] == sorted(
        (item["id"] for item in body["items"]), reverse=True
    )


async def test_filters_by_status(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
) -> None:
    await saleor.set_app_active(installed_app, True)
    job_id = await quarantine_one(services, await installation_id(services))
    quarantined = (
        await app_client.get("/api/activity", params={"status": "quarantined"}, headers=headers)
    ).json()
    assert [item["id"] for item in quarantined["items"]] == [job_id]
    assert quarantined["status"] == "quarantined"
    pending = (
        await app_client.get("/api/activity", params={"status": "pending"}, headers=headers)
    ).json()
    assert pending["items"] == [] and pending["counts"]["quarantined"] == 1
    wrong = await app_client.get("/api/activity", params={"status": "lost"}, headers=headers)
    assert wrong.status_code == 422 and wrong.json()["success"] is False


async def test_retry_gives_a_quarantined_item_fresh_attempts(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    job_id = await quarantine_one(services, await installation_id(services))
    response = await app_client.post(f"/api/activity/jobs/{job_id}/retry", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["item"]["status"] == "pending" and body["item"]["attempts"] == 0
    assert body["message"] == "Ecommerce: sync order will be tried again in a moment."

    again = await app_client.post(f"/api/activity/jobs/{job_id}/retry", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == (
        "Only quarantined items can be retried; this one is pending already."
    )


async def test_retry_beside_newer_work_for_the_same_record_hands_the_retry_to_it(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    """A quarantined push whose record has a newer push waiting: that one runs now (at most
    one job of a record may wait), and the answer says so."""
    installation = await installation_id(services)

    async def fails(job: ClaimedJob, _: Services) -> None:
        raise PermanentFailure("Mailchimp refused the order")

    async def push() -> None:
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue(
                installation, "ecommerce.sync_order", {"n": 1}, coalesce_key="order:1"
            )

    services.handlers.register("ecommerce.sync_order", fails)
    await push()
    await Worker(services).run_until_idle()
    await push()  # newer work for the order, waiting (no worker runs)
    [newer, quarantined] = (await app_client.get("/api/activity", headers=headers)).json()["items"]
    response = await app_client.post(
        f"/api/activity/jobs/{quarantined['id']}/retry", headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["item"]["status"] == "done"
    assert body["message"] == (
        "Ecommerce: sync order: newer work for the same record is waiting or under way, and "
        "goes instead."
    )
    listing = (await app_client.get("/api/activity", headers=headers)).json()["items"]
    assert [(item["id"], item["status"], item["attempts"]) for item in listing] == [
        (newer["id"], "pending", 0),
        (quarantined["id"], "done", quarantined["attempts"]),
    ]


async def test_only_the_installations_own_items_are_shown_or_retried(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    other = await make_installation(services, "http://other.test/graphql/")
    foreign = await quarantine_one(services, other)
    listing = (await app_client.get("/api/activity", headers=headers)).json()
    assert listing["items"] == [] and listing["counts"]["quarantined"] == 0
    response = await app_client.post(f"/api/activity/jobs/{foreign}/retry", headers=headers)
    assert response.status_code == 404
    async with services.db.session() as session:
        assert [job.status for job in await JobRepository(session).recent(other)] == [
            JobStatus.QUARANTINED
        ]


async def test_needs_a_dashboard_user_who_manages_apps(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    assert (await app_client.get("/api/activity")).status_code == 401
    weak = dashboard_headers(saleor, installed_app, user_permissions=["MANAGE_ORDERS"])
    response = await app_client.get("/api/activity", headers=weak)
    assert response.status_code == 403
    assert "MANAGE_APPS" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"bad key {LEAKY_KEY}!", "bad key [redacted]!"),
        ("header Bearer abcdefghijklmnop.qrs", "header [redacted]"),
        ("token eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl here", "token [redacted] here"),
        ("GET https://anystring:secretpart@us21.api.mailchimp.com/3.0/", "https://[redacted]@us21"),
        ("POST /oauth2/token client_secret=abc123&code=x", "[redacted]&code=x"),
        ("HTTP 503 from Mailchimp", "HTTP 503 from Mailchimp"),
        ("Authorization: Basic YW55c3RyaW5nOjEyMzQ1Njc4OTBhYmNkZWY=", "Authorization: [redacted]"),
        ("OAuth 0123456789abcdef0123456789abcdef sent", "[redacted] sent"),
        # Words after "OAuth" or "Bearer" in a sentence are no credentials: kept readable.
        ("Mailchimp refused the OAuth request", "Mailchimp refused the OAuth request"),
        ("the OAuth connection was revoked", "the OAuth connection was revoked"),
    ],
)
def test_errors_never_carry_credentials(text: str, kept: str) -> None:
    assert kept in redact(text)
