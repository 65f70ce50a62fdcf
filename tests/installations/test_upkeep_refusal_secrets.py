"""A webhook upkeep's refusal never carries a header's value: Saleor's messages about custom
headers may repeat them (the app's delivery key, a staff member's Authorization header), and an
`UpkeepRefused` message goes to the worker's log lines and to the job's `last_error`, which the
Activity page shows (addon/installations/webhook_upkeep.py `_apply`)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import GraphQLError

from addon.clock import ManualClock
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import CURRENT_VERSION
from tests.installations.test_delivery_key import _key, _lifecycle_hooks, _upkeeps
from tests.test_saleor_versions import INTERVAL, lifecycle_settings, pass_time, saleor

__all__ = ["lifecycle_settings", "saleor"]  # the fixtures, imported

# A staff member's header on the app's webhook: long enough for `redact`'s Authorization shape.
STAFF = "Bearer staff-0123456789abcdef0123456789"
# Short, no credential's shape: found by being one of the headers the change sent.
OTHER = "tenant-42"


@pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)
@pytest.mark.parametrize("how", ["mutation error", "graphql error"])
async def test_a_refusal_quoting_the_headers_shows_none_of_their_values(
    how: str,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A Saleor answering the update of the app's webhook with words that repeat every header
    as sent: as a mutation error of another code than INVALID_CUSTOM_HEADERS, or as a GraphQL
    error (graphql-core's "Variable '$input' got invalid value …" quotes what it was given)."""
    from sandboxes.saleor import app_webhooks

    await pass_time(services, clock, 0)
    key = await _key(services)
    deleted, _ = sorted(_lifecycle_hooks(installed_app), key=lambda h: h.target_url)
    # A staff member's edit in the Dashboard replaces the headers: the key is gone, so the next
    # upkeep sends them back with the key added.
    deleted.custom_headers = {"authorization": STAFF, "x-tenant": OTHER}
    original = app_webhooks._headers

    def quoting(input: dict[str, Any]) -> Any:
        headers = input.get("customHeaders")
        if not headers:
            return original(input)
        quoted = ", ".join(f"{name}: {value}" for name, value in headers.items())
        if how == "graphql error":
            raise GraphQLError(f"Variable '$input' got invalid value {quoted}.")
        return None, app_webhooks._error("customHeaders", f"Cannot store {quoted}.", "INVALID")

    monkeypatch.setattr(app_webhooks, "_headers", quoting)
    caplog.set_level(logging.INFO)
    await pass_time(services, clock, INTERVAL)

    failed = [job for job in await _upkeeps(services) if job.last_error]
    assert failed, "the refusal fails the upkeep, to be retried"
    texts = [caplog.text, *(job.last_error or "" for job in failed)]
    said = "Cannot store" if how == "mutation error" else "got invalid value"
    assert said in (failed[0].last_error or "")  # Saleor's words, less the values
    assert "app-deleted" in (failed[0].last_error or "")
    for text in texts:
        assert key not in text
        assert STAFF not in text and "staff-0123456789abcdef" not in text
        assert OTHER not in text
