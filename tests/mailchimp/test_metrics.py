"""Mailchimp requests are counted by endpoint (path template), method and status, 429s among
them, and timed; no label carries an id or an e-mail address."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from addon.mailchimp import MailchimpClient, NotFound
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.test_lists import make_list

REQUESTS = "saleor_mailchimp_mailchimp_requests_total"
SECONDS = "saleor_mailchimp_mailchimp_request_seconds_count"


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
