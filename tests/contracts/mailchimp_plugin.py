"""Pytest plugin: the ``mailchimp_contract`` fixture (registered by the root conftest).

    async def test_x(mailchimp_contract, network):
        transport = mailchimp_contract(network)   # a ContractCheckingTransport around it
        ...                                        # use `transport` for the Mailchimp client

At teardown the test fails listing every request that broke the Marketing API contract.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.contracts.mailchimp import CheckedRequest, ContractCheckingTransport


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
