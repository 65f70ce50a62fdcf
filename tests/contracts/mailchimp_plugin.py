"""Pytest plugin: the ``mailchimp_contract`` fixture (registered by the root conftest).

    async def test_x(mailchimp_contract, network):
        transport = mailchimp_contract(network)   # a ContractCheckingTransport around it
        ...                                        # use `transport` for the Mailchimp client

At teardown the test fails listing every request that broke the Marketing API contract.

``mailchimp_responses`` (autouse) checks every answer of every Mailchimp sandbox against the
spec's response schemas, and fails the test listing those off the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contracts.mailchimp import CheckedRequest, ContractCheckingTransport
from tests.contracts.mailchimp_responses import ResponseRecorder


class MailchimpContractRecorder:
    """Creates contract-checking transports and collects what they saw."""

    def __init__(self) -> None:
        self.transports: list[ContractCheckingTransport] = []

    def __call__(self, inner: httpx.AsyncBaseTransport) -> ContractCheckingTransport:
        return self.wrap(inner)

    def wrap(self, inner: httpx.AsyncBaseTransport) -> ContractCheckingTransport:
        transport = ContractCheckingTransport(inner)
        self.transports.append(transport)
        return transport

    @property
    def requests(self) -> list[CheckedRequest]:
        return [r for t in self.transports for r in t.requests]

    @property
    def violations(self) -> list[str]:
        return [v for t in self.transports for v in t.violations]


@pytest.fixture
def mailchimp_contract() -> Iterator[MailchimpContractRecorder]:
    recorder = MailchimpContractRecorder()
    yield recorder
    violations = recorder.violations
    if violations:
        listing = "\n".join(f"  - {v}" for v in violations)
        pytest.fail(
            f"{len(violations)} Mailchimp Marketing API contract violation(s):\n{listing}",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def mailchimp_responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[ResponseRecorder]:
    """Every answer of every Mailchimp sandbox in the test is checked against the spec's
    response schemas: HTTP answers as sent (errors of authentication, throttling and outages
    included), direct calls and batch operations as the route table returns them."""
    from sandboxes.mailchimp import app as sandbox_app
    from sandboxes.mailchimp import routing

    recorder = ResponseRecorder()
    handle = sandbox_app.MarketingApi.handle
    call = routing.Router.call

    async def checked_handle(self: Any, request: Any) -> Any:
        response = await handle(self, request)
        if sandbox_app.INJECTED_FAULT_HEADER in response.headers:
            return response  # a failure the test injected on purpose, off-contract by design
        path = "/" + request.path_params.get("path", "")
        recorder.check(
            request.method, path, dict(request.query_params), response.status_code, response.body
        )
        return response

    async def checked_call(self: Any, request: Any) -> Any:
        result = await call(self, request)
        if request.via != "http":  # HTTP answers are checked as sent, above
            recorder.check(request.method, request.path, request.query, result.status, result.body)
        return result

    monkeypatch.setattr(sandbox_app.MarketingApi, "handle", checked_handle)
    monkeypatch.setattr(routing.Router, "call", checked_call)
    yield recorder
    if recorder.violations:
        listing = "\n".join(f"  - {v}" for v in recorder.violations)
        pytest.fail(
            f"{len(recorder.violations)} Mailchimp sandbox answer(s) off the spec:\n{listing}",
            pytrace=False,
        )
