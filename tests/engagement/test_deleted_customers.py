"""Engagement writes when Saleor no longer writes a customer: a customer deleted meanwhile is
skipped and the rest of its request and page is written; a write refused because the app was
deactivated waits for the lifecycle check, and one failing otherwise (a server error) fails the
run; the retry writes everyone.

Saleor answers `updatePrivateMetadata` of a deleted customer with a top-level PermissionDenied
at the mutation's alias, not with a NOT_FOUND mutation error (see
tests/sandbox_saleor/test_metadata_of_deleted_users.py)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select

from addon.engagement import repository
from addon.engagement.jobs import COLLECT_JOB
from addon.engagement.metadata import SUMMARY_KEY
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.engagement.conftest import ALICE, BOB, Engagement

WRITE = b"updatePrivateMetadata"
CHECK = b"EngagementCustomers"  # what the writer reads to tell a refused app from gone customers


class _OnFirstWrite(httpx.AsyncBaseTransport):
    """Runs `before` when the first metadata write goes out (after the collection matched the
    customers), then passes every request on; `answer` may rewrite that write's answer."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        before: Callable[[], Awaitable[None]],
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.inner, self.before, self.answer, self.done = inner, before, answer, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        first = not self.done and WRITE in request.content
        if first:
            self.done = True
            await self.before()
        response = await self.inner.handle_async_request(request)
        if not first or self.answer is None:
            return response
        body = json.loads(await response.aread())
        return httpx.Response(200, json=self.answer(body), request=request)


async def _run(e: Engagement) -> tuple[str, str | None]:
    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
    return run.state, run.last_error


def _received(e: Engagement, email: str) -> int | None:
    summary = e.private(email).get(SUMMARY_KEY)
    return None if summary is None else int(json.loads(summary)["campaigns_received"])


def _standing_checks(e: Engagement) -> int:
    """The writer's reads of one customer (the collector reads pages of 100)."""
    return sum(
        1
        for r in e.outbound.requests
        if CHECK in r.content and json.loads(r.content)["variables"]["first"] == 1
    )


async def test_a_customer_deleted_meanwhile_is_skipped_and_the_rest_of_its_request_written(
    e: Engagement,
) -> None:
    await e.readers(2)  # with Alice and Bob: 4 customers, one request of 4 writes
    e.send("Big news", e.at(days=-1))
    bob = e.customers[BOB]

    async def delete_bob() -> None:  # its CUSTOMER_DELETED not yet handled
        e.shop.saleor.store.delete_customer(bob)

    e.outbound.inner = _OnFirstWrite(e.outbound.inner, delete_bob)
    await e.collect()

    assert await _run(e) == ("idle", None)
    assert len(e.metadata_writes()) == 4
    for email in e.customers:
        if email != BOB:
            assert _received(e, email) == 1
    # Other writes of the request went through: the app was not asked whether it may write.
    assert _standing_checks(e) == 0

    # Marked as written: the next run has nothing to write; one with news for him (his
    # CUSTOMER_DELETED still not handled) tries him again, and skips him again.
    writes = len(e.metadata_writes())
    await e.collect()
    assert len(e.metadata_writes()) == writes
    e.send("More news", e.at(hours=-1))
    await e.collect()
    assert await _run(e) == ("idle", None)
    assert bob.global_id in e.metadata_writes()[writes:]
    assert all(_received(e, email) == 2 for email in e.customers if email != BOB)


async def test_a_lone_write_of_a_deleted_customer_is_skipped_once_saleor_accepts_the_app(
    e: Engagement,
) -> None:
    """Alice and Bob are written one per request: Bob's request has nothing written, so the
    app asks Saleor whether it may still read customers before taking him as gone."""
    e.send("Big news", e.at(days=-1))

    async def delete_bob() -> None:
        e.shop.saleor.store.delete_customer(e.customers[BOB])

    e.outbound.inner = _OnFirstWrite(e.outbound.inner, delete_bob)
    await e.collect()

    assert await _run(e) == ("idle", None)
    assert _received(e, ALICE) == 1
    assert _standing_checks(e) >= 1


async def test_an_app_refused_while_writing_waits_and_its_retry_writes_everyone(
    e: Engagement,
) -> None:
    """Deactivated mid-run, the app's token is an anonymous caller's: every write of the
    request is a PermissionDenied at its alias too. That is not four deleted customers."""
    await e.readers(2)
    e.send("Big news", e.at(days=-1))
    app = e.shop.app

    async def deactivate() -> None:  # as the dashboard's "Deactivate", its webhook not sent
        app.is_active = False

    e.outbound.inner = _OnFirstWrite(e.outbound.inner, deactivate)
    await e.collect()

    assert await _run(e) == ("running", None)
    # Not a failed attempt: the refusal waits for the lifecycle check, uncounted, as the token
    # may be a deactivated app's (`addon.installations.token_doubt`).
    async with e.services.db.session() as session:
        collects = list(await session.scalars(select(Job).where(Job.kind == COLLECT_JOB)))
    waiting = [j for j in collects if "waiting for the lifecycle check" in (j.last_error or "")]
    assert [(j.status, j.attempts) for j in waiting] == [(JobStatus.PENDING, 0)]
    assert all(_received(e, email) is None for email in e.customers)

    app.is_active = True
    e.clock.advance(3600)
    await Worker(e.services).run_until_idle()

    assert await _run(e) == ("idle", None)
    assert all(_received(e, email) == 1 for email in e.customers)


async def test_a_write_failing_otherwise_fails_the_run_and_its_retry_writes_it(
    e: Engagement,
) -> None:
    """A server error on one alias (Saleor answers an unexpected exception as "Internal Server
    Error", saleor/graphql/utils/__init__.py `format_error`) is no deleted customer."""
    await e.readers(2)
    e.send("Big news", e.at(days=-1))

    async def nothing() -> None:
        return None

    def fail_w2(body: dict[str, Any]) -> dict[str, Any]:
        data = dict(body["data"])
        data["w2"] = None
        error = {
            "message": "Internal Server Error",
            "locations": [{"line": 1, "column": 1}],
            "path": ["w2"],
            "extensions": {"exception": {"code": "OperationalError"}},
        }
        return {"errors": [error], "data": data}

    e.outbound.inner = _OnFirstWrite(e.outbound.inner, nothing, fail_w2)
    await e.collect()

    state, error = await _run(e)
    assert state == "running"
    assert error is not None and "Internal Server Error" in error, error
    failed = e.metadata_writes()[2]

    e.clock.advance(3600)
    await Worker(e.services).run_until_idle()

    assert await _run(e) == ("idle", None)
    assert e.metadata_writes().count(failed) == 2  # written again by the retry
