"""Fixtures: a Mailchimp sandbox mounted at ``mailchimp.test`` and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.transport import HostRoutingTransport

HOST = "mailchimp.test"


@pytest.fixture
def network() -> HostRoutingTransport:
    return HostRoutingTransport()


@pytest.fixture
async def sandbox(network: HostRoutingTransport) -> AsyncIterator[MailchimpSandbox]:
    sb = MailchimpSandbox(seed=1, public_base_url=f"http://{HOST}", transport=network)
    network.add(HOST, sb.app)
    yield sb
    await sb.aclose()


@pytest.fixture
def account(sandbox: MailchimpSandbox) -> SandboxAccount:
    return sandbox.create_account("Acme Shop", "owner@acme.test", dc="us21")


@pytest.fixture
async def raw_client(
    network: HostRoutingTransport, sandbox: MailchimpSandbox
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=network, base_url=f"http://{HOST}") as client:
        yield client


@pytest.fixture
async def client(
    network: HostRoutingTransport, account: SandboxAccount
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=network,
        base_url=f"http://{HOST}/{account.dc}/3.0",
        auth=("anystring", account.api_key),
    ) as client:
        yield client
