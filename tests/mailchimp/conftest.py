"""Fixtures: the Mailchimp client wired to the Mailchimp sandbox over httpx.

Every request goes client -> contract checker (validates it against Mailchimp's OpenAPI spec)
-> host-routing transport -> the sandbox's ASGI app at ``mailchimp.test``.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from addon.mailchimp import MailchimpClient, MailchimpCredentials, MailchimpHttp
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from sandboxes.transport import HostRoutingTransport
from tests.contracts.mailchimp_plugin import MailchimpContractRecorder

HOST = "mailchimp.test"
API_URL_TEMPLATE = f"http://{HOST}/{{dc}}/3.0"
LOGIN_URL = f"http://{HOST}"

# Small backoff so retry tests stay fast.
FAST_RETRY: dict[str, Any] = {"max_attempts": 4, "backoff_base": 0.002, "backoff_max": 0.01}

MakeHttp = Callable[..., MailchimpHttp]


class MaxJitter(random.Random):
    """A jitter source that always picks the longest delay (deterministic timing tests)."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
async def sandbox() -> AsyncIterator[MailchimpSandbox]:
    box = MailchimpSandbox(public_base_url=LOGIN_URL)
    yield box
    await box.aclose()


@pytest.fixture
def network(sandbox: MailchimpSandbox) -> HostRoutingTransport:
    return HostRoutingTransport({HOST: sandbox.app})


class RecordingTransport(httpx.AsyncBaseTransport):
    """Records ``(method, path, status)`` of every exchange (OAuth and downloads included),
    and which paths were sent with an ``Authorization`` header (never its value)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str, int]] = []
        self.authorized: list[bool] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.sent.append((request.method, request.url.path, response.status_code))
        self.authorized.append("authorization" in request.headers)
        return response

    def to(self, path: str) -> list[tuple[str, str, int]]:
        return [entry for entry in self.sent if entry[1] == path]


@pytest.fixture
def recorder(
    network: HostRoutingTransport, mailchimp_contract: MailchimpContractRecorder
) -> RecordingTransport:
    """Contract-checked (violations fail the test at teardown), then recorded."""
    return RecordingTransport(mailchimp_contract(network))


@pytest.fixture
def off_contract(mailchimp_contract: MailchimpContractRecorder) -> Callable[[str], None]:
    """For requests that break the spec on purpose (or hit a known bug in the spec): assert the
    checker flagged ``fragment`` and forgive exactly those violations, no others."""

    def forgive(fragment: str) -> None:
        flagged = [v for v in mailchimp_contract.violations if fragment in v]
        assert flagged, f"expected a contract violation mentioning {fragment!r}"
        for transport in mailchimp_contract.transports:
            for checked in transport.requests:
                checked.violations[:] = [v for v in checked.violations if fragment not in v]

    return forgive


@pytest.fixture
def transport(recorder: RecordingTransport) -> httpx.AsyncBaseTransport:
    """The transport the client uses: recorded, contract-checked, routed to the sandbox."""
    return recorder


@pytest.fixture
async def make_http(
    transport: httpx.AsyncBaseTransport,
) -> AsyncIterator[MakeHttp]:
    """Build ``MailchimpHttp`` instances pointed at the sandbox (closed after the test)."""
    created: list[MailchimpHttp] = []

    def make(**overrides: Any) -> MailchimpHttp:
        options: dict[str, Any] = {
            "api_url_template": API_URL_TEMPLATE,
            "login_url": LOGIN_URL,
            "transport": transport,
            **FAST_RETRY,
            **overrides,
        }
        http = MailchimpHttp(**options)
        created.append(http)
        return http

    yield make
    for http in created:
        await http.aclose()


@pytest.fixture
def http(make_http: MakeHttp) -> MailchimpHttp:
    return make_http()


@pytest.fixture
def account(sandbox: MailchimpSandbox) -> SandboxAccount:
    return sandbox.create_account(
        "Chimp Shop", "owner@chimp.test", first_name="Ada", last_name="Lovelace"
    )


@pytest.fixture
def credentials(account: SandboxAccount) -> MailchimpCredentials:
    return MailchimpCredentials.from_api_key(account.api_key)


@pytest.fixture
def client(http: MailchimpHttp, credentials: MailchimpCredentials) -> MailchimpClient:
    return MailchimpClient(http, credentials)


@pytest.fixture
def oauth_code(
    sandbox: MailchimpSandbox, network: HostRoutingTransport
) -> Callable[[SandboxAccount, str, str], Awaitable[str]]:
    """Play the merchant's browser: approve the app on the sandbox's authorize page and
    return the ``code`` from the redirect."""

    async def approve(account: SandboxAccount, client_id: str, redirect_uri: str) -> str:
        async with httpx.AsyncClient(transport=network, base_url=LOGIN_URL) as browser:
            response = await browser.post(
                "/oauth2/authorize",
                data={
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": redirect_uri,
                    "state": "st",
                    "account_id": account.id,
                    "decision": "allow",
                },
            )
        assert response.status_code == 302, response.text
        location = httpx.URL(response.headers["location"])
        assert location.params["state"] == "st"
        return location.params["code"]

    return approve


@pytest.fixture
def requests_to(sandbox: MailchimpSandbox) -> Iterator[Callable[[str], list[Any]]]:
    """``requests_to("/ping")``: the sandbox's log of HTTP requests to that API path."""

    def logged(path: str) -> list[Any]:
        return [r for r in sandbox.requests if r.path == path and r.via == "http"]

    yield logged
