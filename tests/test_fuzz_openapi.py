"""Fuzzing of every operation in the app's OpenAPI document with schemathesis.

Each operation gets generated requests, valid and invalid (positive and negative generation),
once as a stranger (whatever headers the generator makes up) and once with valid credentials:
a dashboard token with every permission, a signed-in customer's token, and the store's Saleor
API URL where an operation asks for one. The app runs in-process against the sandboxes, connected
to a Mailchimp account with an active audience, so the generated requests reach past the
authentication checks into the handlers.

Every answer must be no 5xx, use a status code, content type and headers the document declares
for the operation, and have a body its schema describes. With credentials every operation must
be reached past the refusals (401/403/429), and the work the requests queued is then run, so
whatever they make the app send to Mailchimp is checked against Mailchimp's contract. The run is
deterministic (derandomized Hypothesis, no example database) and bounded by a number of examples
per operation.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as run_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from addon.config import Settings
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import APP_URL, SALEOR_API_URL, RecordingTransport
from tests.sandbox_mailchimp.helpers import list_body

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Examples per operation, generation mode and credentials (about 40 operations x 2 x 2 runs):
# `make test` sends some 1,000 requests; the full-strength run (`--slow`) some
# 2,500, under a minute of CPU on a 2-core machine (FUZZ_EXAMPLES for more).
EXAMPLES = 6
FULL_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHANGES_SETUP = {"/api/audiences/settings", "/api/connection/reset"}
# The document is fuzzed in this many parts, each a test of its own (parallel workers share them).
SHARDS = 4
# The storefront's sign-up: generated valid requests reach Mailchimp as member PUTs.
SIGN_UP = "POST /api/storefront/subscribe"
# Nothing is excluded: the pages (HTML, outside the document) are not API operations, and the
# client follows no redirect, so /api/connection/oauth/start's 307 to Mailchimp is checked as
# declared without leaving the process.


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As an operator should run the app: installs only from the store's own Saleor. (Without
    the allow-list a generated Saleor-Api-Url would send /api/register to unknown hosts, which
    the app rightly answers with 502.)"""
    return settings.model_copy(
        update={
            "allowed_saleor_urls": [re.escape(SALEOR_API_URL)],
            # The stranger's run would use up the storefront limits of the one client address,
            # and the run with credentials would then see only 429s.
            "storefront_rate_limit_per_address": 1_000_000,
            "storefront_rate_limit_per_email": 1_000_000,
        }
    )


@dataclass
class Credentials:
    headers: dict[str, str]
    query: dict[str, str]


@pytest.fixture
async def credentials(
    app_client: httpx.AsyncClient,
    services: Services,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
) -> Credentials:
    """A store connected to Mailchimp with one active audience; valid tokens for it."""
    account = mailchimp.create_account("Fuzz Shop", "owner@fuzz.example", dc="us21")
    created = await mailchimp.call(account, "POST", "/lists", body=list_body("News"))
    assert created.status == 200, created.body
    dashboard = saleor.mint_dashboard_token(installed_app, expires_in=3600)
    headers = {"authorization-bearer": dashboard, "saleor-api-url": SALEOR_API_URL}
    answer = await app_client.post(
        "/api/connection/api-key", json={"api_key": account.api_key}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    await Worker(services).run_until_idle()  # imports the audiences
    answer = await app_client.put(
        "/api/audiences/settings",
        json={"active_list_ids": [created.body["id"]], "default_list_id": created.body["id"]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    customer = await saleor.create_customer("fuzz.customer@example.com", is_confirmed=True)
    headers["authorization"] = "Bearer " + saleor.mint_customer_token(customer, expires_in=3600)
    return Credentials(headers=headers, query={"saleor_api_url": SALEOR_API_URL})


def _send(
    client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop
) -> Callable[[dict[str, Any]], httpx.Response]:
    """Send a request built by schemathesis through the test's client, on the test's loop."""

    def send(kwargs: dict[str, Any]) -> httpx.Response:
        body: dict[str, Any] = {}
        if "json" in kwargs:
            body["json"] = kwargs["json"]
        elif isinstance(kwargs.get("data"), (bytes, str)):
            body["content"] = kwargs["data"]
        elif kwargs.get("data") is not None:
            body["data"] = kwargs["data"]
        request = client.request(
            kwargs["method"],
            kwargs["url"],
            headers=kwargs.get("headers") or {},
            params=kwargs.get("params") or {},
            **body,
        )
        return asyncio.run_coroutine_threadsafe(request, loop).result()

    return send


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    send: Callable[[dict[str, Any]], httpx.Response],
    credentials: Credentials | None,
    failures: dict[str, str],
    answered: dict[str, set[int]],
    examples: int,
) -> None:
    query_names = {p.name for p in operation.query}
    fixed_query = (
        {k: v for k, v in credentials.query.items() if k in query_names} if credentials else {}
    )
    strategy = operation.as_strategy(generation_mode=mode, query=fixed_query or None)

    @given(case=strategy)
    @run_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=APP_URL)
        if credentials is not None:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **credentials.headers}
        response = send(kwargs)
        answered.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            who = "with credentials" if credentials else "stranger"
            for failure in group.exceptions:
                key = f"{operation.label} [{mode.value}, {who}] {failure.title}"
                failures.setdefault(key, f"{key}\n{group}"[:2500])

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no parameters, no body)


def _label(operation: Any) -> str:
    return str(operation.label)


def _fuzz(
    operations: list[Any],
    send: Callable[[dict[str, Any]], httpx.Response],
    credentials: Credentials | None,
    answered: dict[str, set[int]],
    examples: int,
) -> list[str]:
    """Run the operations; return one line per (operation, failure), never stopping early."""
    failures: dict[str, str] = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, send, credentials, failures, answered, examples)
    return sorted(failures.values())


@pytest.mark.parametrize(
    ("shard", "examples"),
    [
        pytest.param(shard, EXAMPLES, id=str(shard), marks=pytest.mark.default_budget)
        for shard in range(SHARDS)
    ]
    + [
        pytest.param(shard, FULL_EXAMPLES, id=f"full-{shard}", marks=pytest.mark.slow)
        for shard in range(SHARDS)
    ],
)
async def test_every_operation_answers_as_documented(
    app_client: httpx.AsyncClient,
    services: Services,
    outbound: RecordingTransport,
    credentials: Credentials,
    shard: int,
    examples: int,
) -> None:
    """Every operation is in exactly one shard (every `SHARDS`-th of the sorted labels), so the
    shards together fuzz the whole document, and parallel test workers share the work."""
    schema = schemathesis.openapi.from_dict((await app_client.get("/api/openapi.json")).json())
    everything = sorted((result.ok() for result in schema.get_all_operations()), key=_label)
    assert len(everything) > 30
    operations = everything[shard::SHARDS]
    send = _send(app_client, asyncio.get_running_loop())
    as_stranger: dict[str, set[int]] = {}
    as_user: dict[str, set[int]] = {}
    failures: list[str] = []
    # What changes the newsletter settings or resets the connection comes last: the others
    # should meet a connected store offering its audience.
    for last in (False, True):
        group = [op for op in operations if (op.path in CHANGES_SETUP) is last]
        failures += await asyncio.to_thread(_fuzz, group, send, None, as_stranger, examples)
        failures += await asyncio.to_thread(_fuzz, group, send, credentials, as_user, examples)
        # What the requests queued goes to Mailchimp, whose contract every request the app
        # sends is checked against (at teardown): nothing invalid may reach it.
        await Worker(services).run_until_idle()
    assert not failures, "\n\n".join(failures)
    # With credentials every operation was reached past authentication and the rate limits
    # (else the run would test little but the refusals).
    refused_only = {op: codes for op, codes in as_user.items() if codes <= {401, 403, 429}}
    assert not refused_only, refused_only
    assert set(as_user) == set(as_stranger) == {op.label for op in operations}
    if SIGN_UP in as_user:
        # Generated sign-ups went on to Mailchimp (and passed its contract).
        assert any(r.method == "PUT" and "/members/" in r.url.path for r in outbound.requests)
