"""Mailchimp requests are counted by endpoint (path template), method and status, 429s among
them, and timed; no label carries an id or an e-mail address."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY

from addon.mailchimp import MailchimpClient, MailchimpCredentials, NotFound
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.conftest import MakeHttp
from tests.mailchimp.test_lists import make_list

REQUESTS = "saleor_mailchimp_mailchimp_requests_total"
SECONDS = "saleor_mailchimp_mailchimp_request_seconds_count"
IN_FLIGHT = "saleor_mailchimp_mailchimp_requests_in_flight"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_are_counted_by_endpoint_and_status_with_429s(
    client: MailchimpClient, sandbox: MailchimpSandbox, account: SandboxAccount
) -> None:
    ping = {"endpoint": "/{id}/3.0/ping", "method": "GET"}
    ok, limited = sample(REQUESTS, **ping, status="200"), sample(REQUESTS, **ping, status="429")
    timed = sample(SECONDS, **ping)
    sandbox.faults.fail_next(2, 429, account=account.id)
    assert (await client.ping()).health_status
    assert sample(REQUESTS, **ping, status="429") == limited + 2
    assert sample(REQUESTS, **ping, status="200") == ok + 1
    assert sample(SECONDS, **ping) == timed + 3


async def test_a_members_address_never_becomes_a_label(client: MailchimpClient) -> None:
    audience = await make_list(client)
    member = {"endpoint": "/{id}/3.0/lists/{id}/members/{id}", "method": "GET", "status": "404"}
    before = sample(REQUESTS, **member)
    with pytest.raises(NotFound):
        await client.get_member(audience.id, "jane.doe@example.com")
    assert sample(REQUESTS, **member) == before + 1
    labels = [
        value
        for family in REGISTRY.collect()
        if family.name.startswith("saleor_mailchimp_mailchimp")
        for s in family.samples
        for value in s.labels.values()
    ]
    assert not [value for value in labels if "@" in value or audience.id in value]


class InFlightProbe(httpx.AsyncBaseTransport):
    """Reads the in-flight gauge while each request is at Mailchimp."""

    def __init__(self, inner: httpx.AsyncBaseTransport, account: str) -> None:
        self.inner, self.account, self.seen = inner, account, list[float]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(sample(IN_FLIGHT, account=self.account))
        return await self.inner.handle_async_request(request)


async def test_requests_in_flight_per_account(
    make_http: MakeHttp, transport: httpx.AsyncBaseTransport, account: SandboxAccount
) -> None:
    probe = InFlightProbe(transport, account.id)
    credentials = MailchimpCredentials.from_api_key(account.api_key, account_id=account.id)
    client = MailchimpClient(make_http(transport=probe), credentials)
    before = sample(IN_FLIGHT, account=account.id)
    await asyncio.gather(client.ping(), client.ping())
    assert max(probe.seen) >= before + 1 and len(probe.seen) == 2
    assert sample(IN_FLIGHT, account=account.id) == before  # back once answered
    assert account.api_key not in str(list(REGISTRY.collect()))
