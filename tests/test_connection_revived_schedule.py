"""A connection marked revoked by a passing 401, found working again by the admin's check. Before,
the check queued only `connection.resumed` (which e-commerce alone handles), and the scheduled
audience import, which ends its chain while the account is not connected, was never queued
again: the audiences were no longer imported on schedule. Now the check queues
`connection.connected` too, as a reconnection does, whose audiences handler imports and starts
the schedule again."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from addon.audiences.service import IMPORT_JOB
from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.sandbox_mailchimp.helpers import list_body


async def _scheduled_imports(services: Services) -> list[Job]:
    async with services.db.session() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == IMPORT_JOB))).all()
    return [
        j
        for j in jobs
        if j.status in (JobStatus.PENDING, JobStatus.RUNNING) and (j.payload or {}).get("scheduled")
    ]


async def test_a_check_that_revives_a_revoked_connection_restarts_the_audience_schedule(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    services: Services,
    clock: ManualClock,
) -> None:
    await mailchimp.call(account, "POST", "/lists", body=list_body("News"))
    answer = await app_client.post(
        "/api/connection/api-key", json={"api_key": account.api_key}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    await Worker(services).run_until_idle()
    assert await _scheduled_imports(services)
    mailchimp.revoke(account.api_key)
    check = (await app_client.post("/api/connection/check", headers=headers)).json()
    assert check["connection"]["status"] == "revoked"
    # The scheduled import comes due while revoked: it ends its chain.
    clock.advance(services.settings.audience_import_interval_hours * 3600 + 60)
    await Worker(services).run_until_idle()
    assert not await _scheduled_imports(services)
    mailchimp.reinstate(account.api_key)
    check = (await app_client.post("/api/connection/check", headers=headers)).json()
    assert check["ok"] is True and check["connection"]["status"] == "connected"
    await Worker(services).run_until_idle()
    assert await _scheduled_imports(services), "no scheduled audience import is queued"
    async with services.db.session() as session:
        kinds = set((await session.scalars(select(Job.kind))).all())
    assert {"connection.connected", "connection.resumed"} <= kinds


async def test_a_check_of_a_connection_that_works_queues_no_event(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    answer = await app_client.post(
        "/api/connection/api-key", json={"api_key": account.api_key}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    await Worker(services).run_until_idle()
    async with services.db.session() as session:
        before = len((await session.scalars(select(Job.id))).all())
    check = (await app_client.post("/api/connection/check", headers=headers)).json()
    assert check["ok"] is True
    async with services.db.session() as session:
        assert len((await session.scalars(select(Job.id))).all()) == before
