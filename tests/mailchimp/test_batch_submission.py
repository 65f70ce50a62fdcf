"""`POST /batches` is never sent twice: a failure once it may have reached Mailchimp is an
unknown outcome (`OutcomeUnknown`), a definite refusal is raised or retried as before; and the
typed `GET /batches` (checked against the OpenAPI contract by the `recorder` transport) that
tells whether a batch such a send may have created can still run (`addon.mailchimp.lost`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from addon.mailchimp import (
    BadRequest,
    BatchOperation,
    MailchimpClient,
    MailchimpCredentials,
    OutcomeUnknown,
    RateLimited,
    TransientError,
    Unreachable,
)
from addon.mailchimp.lost import CLOCK_SKEW, may_still_run
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.conftest import MakeHttp, RecordingTransport

PING = [BatchOperation.of("GET", "/ping", operation_id="ping")]


class LosesAnswers(httpx.AsyncBaseTransport):
    """Passes the first `lose` requests on, then fails as if their answers were lost (a read
    timeout, a dropped connection): Mailchimp acted on them, the client never learns how."""

    def __init__(self, inner: httpx.AsyncBaseTransport, lose: int, exc: type[Exception]):
        self.inner, self.lose, self.exc, self.calls = inner, lose, exc, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        response = await self.inner.handle_async_request(request)
        if self.calls <= self.lose:
            raise self.exc("answer lost", request=request)  # type: ignore[call-arg]
        return response


class NeverConnects(httpx.AsyncBaseTransport):
    """The first `failures` connections fail before anything is sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int, exc: type[Exception]):
        self.inner, self.failures, self.exc, self.calls = inner, failures, exc, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc("no connection", request=request)  # type: ignore[call-arg]
        return await self.inner.handle_async_request(request)


def batch_posts(recorder: RecordingTransport) -> int:
    return sum(
        1 for method, path, _ in recorder.sent if method == "POST" and path.endswith("/batches")
    )


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_answer_to_post_batches_is_an_unknown_outcome_sent_once(
    client: MailchimpClient,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    recorder: RecordingTransport,
    status: int,
) -> None:
    sandbox.faults.fail_next(1, status, account=account.id)
    with pytest.raises(OutcomeUnknown) as raised:
        await client.create_batch(PING)
    assert raised.value.status == status and not raised.value.retryable
    assert batch_posts(recorder) == 1
    # Any other call is still retried as before.
    sandbox.faults.fail_next(1, status, account=account.id)
    assert (await client.ping()).health_status


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError])
async def test_an_answer_lost_after_mailchimp_accepted_the_batch_is_an_unknown_outcome(
    make_http: MakeHttp,
    transport: httpx.AsyncBaseTransport,
    credentials: MailchimpCredentials,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    recorder: RecordingTransport,
    exc: type[Exception],
) -> None:
    lossy = LosesAnswers(transport, 1, exc)
    client = MailchimpClient(make_http(transport=lossy), credentials)
    with pytest.raises(OutcomeUnknown, match="may or may not"):
        await client.create_batch(PING)
    assert lossy.calls == 1 and batch_posts(recorder) == 1
    # Mailchimp holds exactly one batch: the one whose id was lost.
    assert len(sandbox.batches(account)) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_a_connection_never_made_is_retried_it_sent_nothing(
    make_http: MakeHttp,
    transport: httpx.AsyncBaseTransport,
    credentials: MailchimpCredentials,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    exc: type[Exception],
) -> None:
    flaky = NeverConnects(transport, 2, exc)
    client = MailchimpClient(make_http(transport=flaky), credentials)
    batch = await client.create_batch(PING)
    assert flaky.calls == 3
    assert [b.id for b in sandbox.batches(account)] == [batch.id]
    flaky.calls, flaky.failures = 0, 99
    with pytest.raises(Unreachable):  # a definite failure: nothing reached Mailchimp
        await client.create_batch(PING)
    assert flaky.calls == 4


async def test_definite_refusals_are_raised_as_themselves(
    client: MailchimpClient,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
    recorder: RecordingTransport,
) -> None:
    # 429 is a refusal: resent after the backoff, as any call is.
    sandbox.faults.fail_next(1, 429, account=account.id)
    assert (await client.create_batch(PING)).id
    assert batch_posts(recorder) == 2
    sandbox.faults.fail_next(10, 429, account=account.id)
    with pytest.raises(RateLimited):
        await client.create_batch(PING)
    sandbox.faults.reset()
    # A 400 is a refusal too, not an unknown outcome (nor resent).
    sandbox.faults.fail_next(1, 400, account=account.id)
    before = batch_posts(recorder)
    with pytest.raises(BadRequest) as raised:
        await client.create_batch(PING)
    assert batch_posts(recorder) == before + 1
    assert not isinstance(raised.value, OutcomeUnknown | TransientError)


async def test_list_batches_is_typed_and_paginated(
    client: MailchimpClient, sandbox: MailchimpSandbox, recorder: RecordingTransport
) -> None:
    sandbox.batches_paused = True
    created = [await client.create_batch(PING) for _ in range(3)]
    listed = [batch async for batch in client.batches(count=2)]
    assert [b.id for b in listed] == [b.id for b in created]
    assert all(b.status == "pending" and b.unfinished for b in listed)
    assert all(b.submitted is not None and b.submitted.tzinfo for b in listed)
    assert [path for method, path, _ in recorder.sent if method == "GET"] == [
        "/us21/3.0/batches"
    ] * 2
    sandbox.batches_paused = False
    await sandbox.drain_batches()
    done = [batch async for batch in client.batches()]
    assert {b.status for b in done} == {"finished"} and not any(b.unfinished for b in done)


async def test_may_still_run_looks_for_an_unfinished_batch_not_known_since_the_send(
    client: MailchimpClient, sandbox: MailchimpSandbox
) -> None:
    since = datetime.now(UTC)
    assert not await may_still_run(client, since)
    sandbox.batches_paused = True
    lost = await client.create_batch(PING)
    assert await may_still_run(client, since)
    assert not await may_still_run(client, since, known={lost.id})  # the caller's own
    # Submitted well before the send began: not the one it may have created.
    assert not await may_still_run(client, since + CLOCK_SKEW + timedelta(minutes=1))
    sandbox.batches_paused = False
    await sandbox.drain_batches()
    assert not await may_still_run(client, since)
