"""`/metrics`: off without METRICS_TOKEN, bearer-protected with it; webhooks received and
rejected, jobs done / retried / quarantined, the queue's waiting jobs and their age, JWKS
refreshes; several processes add up in prometheus-client's multiprocess mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from addon import metrics
from addon.clock import ManualClock
from addon.config import Settings
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import InitialSync
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from tests.conftest import webhook_headers
from tests.factories import make_installation

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATH = "/api/webhooks/ecommerce-products"
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


def sample(name: str, **labels: str) -> float:
    """A counter's value in this process (0 before its first increment)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def product_body(number: int) -> bytes:
    body = {"issuedAt": "2026-01-01T00:00:00+00:00", "product": {"id": f"UHJvZHVjdDo{number}"}}
    return json.dumps(body).encode()


async def test_metrics_need_the_bearer_token(
    app_client: httpx.AsyncClient, settings: Settings, services: Services
) -> None:
    assert (await app_client.get("/metrics")).status_code == 401
    wrong = await app_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
    assert wrong.json()["error"]["code"] == "UNAUTHORIZED"
    basic = await app_client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    ok = await app_client.get("/metrics", headers=AUTH)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
    assert "saleor_mailchimp_webhooks_received_total" in ok.text


async def test_without_a_token_there_are_no_metrics(
    network: object, services: Services, settings: Settings
) -> None:
    from addon.app import create_app

    services.settings = settings.model_copy(update={"metrics_token": None})
    app = create_app(services, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://app.test"
    ) as client:
        response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


async def test_webhooks_received_and_rejected_by_reason(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    slug = "ecommerce-products"
    received = ("saleor_mailchimp_webhooks_received_total", {"webhook": slug})
    queued = sample(received[0], **received[1], outcome="queued")
    duplicate = sample(received[0], **received[1], outcome="duplicate")
    rejected = sample(
        "saleor_mailchimp_webhooks_rejected_total", webhook=slug, reason="INVALID_SIGNATURE"
    )
    body = product_body(1)
    headers = webhook_headers(saleor, saleor.sign(body), "product_updated")
    for _ in range(2):
        assert (await app_client.post(PATH, content=body, headers=headers)).status_code == 200
    forged = webhook_headers(saleor, "not-a-signature", "product_updated")
    assert (await app_client.post(PATH, content=body, headers=forged)).status_code == 401
    unsigned = {k: v for k, v in forged.items() if k != "Saleor-Signature"}
    assert (await app_client.post(PATH, content=body, headers=unsigned)).status_code == 401

    text = (await app_client.get("/metrics", headers=AUTH)).text
    values = scraped(text)
    key = (("outcome", "queued"), ("webhook", slug))
    assert values[("saleor_mailchimp_webhooks_received_total", key)] == queued + 1
    assert sample(received[0], **received[1], outcome="duplicate") == duplicate + 1
    reason = (("reason", "INVALID_SIGNATURE"), ("webhook", slug))
    assert values[("saleor_mailchimp_webhooks_rejected_total", reason)] == rejected + 2


async def test_a_refetch_of_the_signing_keys_is_counted(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    before = sample("saleor_mailchimp_jwks_refreshes_total", result="ok")
    body = product_body(2)
    # A key id the cached set lacks refetches the set (which still lacks it: refused).
    signature = stranger_key.sign_detached(body)
    headers = webhook_headers(saleor, signature, "product_updated")
    assert (await app_client.post(PATH, content=body, headers=headers)).status_code == 401
    assert sample("saleor_mailchimp_jwks_refreshes_total", result="ok") == before + 1


async def test_jobs_done_retried_quarantined_and_the_queue_age(
    app_client: httpx.AsyncClient, services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)

    async def fine(job: ClaimedJob, _: Services) -> None:
        pass

    async def broken(job: ClaimedJob, _: Services) -> None:
        raise RuntimeError("always")

    services.handlers.register("test.metrics_fine", fine)
    services.handlers.register("test.metrics_broken", broken)
    name = "saleor_mailchimp_jobs_total"
    before = {
        outcome: sample(name, kind=kind, outcome=outcome)
        for kind, outcome in [
            ("test.metrics_fine", "done"),
            ("test.metrics_broken", "retried"),
            ("test.metrics_broken", "quarantined"),
        ]
    }
    async with services.db.transaction() as session:
        jobs = JobRepository(session)
        await jobs.enqueue(installation, "test.metrics_fine", {})
        await jobs.enqueue(installation, "test.metrics_fine", {})
        await jobs.enqueue(installation, "test.metrics_broken", {})
    clock.advance(90)
    values = scraped((await app_client.get("/metrics", headers=AUTH)).text)
    fine_kind = (("kind", "test.metrics_fine"),)
    assert values[("saleor_mailchimp_jobs_waiting", fine_kind)] == 2
    assert values[("saleor_mailchimp_jobs_oldest_waiting_seconds", fine_kind)] >= 90

    worker = Worker(services)
    for _ in range(services.settings.worker_max_attempts):
        await worker.run_until_idle()
        clock.advance(timedelta(hours=2).total_seconds())  # past the backoff
    assert sample(name, kind="test.metrics_fine", outcome="done") == before["done"] + 2
    retried = services.settings.worker_max_attempts - 1
    assert (
        sample(name, kind="test.metrics_broken", outcome="retried") == before["retried"] + retried
    )
    quarantined = sample(name, kind="test.metrics_broken", outcome="quarantined")
    assert quarantined == before["quarantined"] + 1
    values = scraped((await app_client.get("/metrics", headers=AUTH)).text)
    assert ("saleor_mailchimp_jobs_waiting", fine_kind) not in values  # none waits any more


def test_endpoint_templates_carry_no_ids_nor_addresses() -> None:
    template = metrics.endpoint_template
    assert template("/3.0/lists/abc123/members/5f0d2a9c") == "/3.0/lists/{id}/members/{id}"
    assert template("/us21/3.0/ping") == "/{id}/3.0/ping"  # the sandboxes' data-centre prefix
    assert (
        template("/3.0/ecommerce/stores/s-1/products/UHJvZHVjdDox/variants/v%40x")
        == "/3.0/ecommerce/stores/{id}/products/{id}/variants/{id}"
    )
    assert (
        template("/3.0/lists/l/members/jane@example.com/tags")
        == "/3.0/lists/{id}/members/{id}/tags"
    )
    assert template("/oauth2/token") == "/oauth2/token"
    assert template("/") == "/"


def test_processes_add_up_in_multiprocess_mode(tmp_path: Path) -> None:
    """Two processes count into PROMETHEUS_MULTIPROC_DIR; the scrape shows their sum."""
    script = (
        "from addon import metrics\n"
        "metrics.job_ended('test.multi', 'done')\n"
        "metrics.webhook_rejected('ecommerce-products', 'INVALID_SIGNATURE')\n"
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=environment, check=True, cwd=tmp_path)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    try:
        text = metrics.render().decode()
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    values = scraped(text)
    assert (
        values[("saleor_mailchimp_jobs_total", (("kind", "test.multi"), ("outcome", "done")))] == 2
    )


async def test_a_running_initial_syncs_progress_per_channel(
    app_client: httpx.AsyncClient, services: Services
) -> None:
    installation = await make_installation(services)
    progress = {"products": {"total": 120, "read": 100, "sent": 90, "confirmed": 80}}
    async with services.db.transaction() as session:
        session.add(
            InitialSync(
                installation_id=installation,
                channel_slug="default-channel",
                active_channel="default-channel",
                progress=progress,
            )
        )
        session.add(  # a finished one is not shown
            InitialSync(
                installation_id=installation,
                channel_slug="old-channel",
                status=RunStatus.SUCCEEDED,
                progress=progress,
            )
        )
    values = scraped((await app_client.get("/metrics", headers=AUTH)).text)
    name = "saleor_mailchimp_initial_sync_records"

    def of(channel: str, counter: str) -> float | None:
        labels = (
            ("channel", channel),
            ("counter", counter),
            ("installation", str(installation)),
            ("kind", "products"),
        )
        return values.get((name, labels))

    assert of("default-channel", "total") == 120 and of("default-channel", "confirmed") == 80
    assert of("default-channel", "quarantined") is None  # not counted yet: not shown
    assert of("old-channel", "total") is None
