"""Every permanent refusal of a lifecycle webhook's custom headers with the delivery key added
(addon/installations/delivery_key.py `key_refusal`): Saleor's `custom_headers_validator`
(saleor/webhook/validators.py) refuses more than a sixth header, and a webhook may carry headers
it refuses now (stored before, or by another way than its mutations). Each is a stable outcome:
the webhook is left as it is, the key stays unconfirmed (the checks of before), each upkeep
ends, and the Activity page and the doctor say which webhook and why.
"""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from addon.clock import ManualClock
from addon.doctor import run_checks
from addon.installations.delivery_key import (
    HEADER,
    HEADER_NAME,
    key_blocked_message,
    key_refusal,
    new_key,
)
from addon.installations.schemas import key_blocked_problem
from addon.jobs.models import JobStatus
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, WebhookConfig
from sandboxes.saleor.versions import CURRENT_VERSION
from tests.conftest import dashboard_headers
from tests.installations.test_delivery_key import _key, _lifecycle_hooks, _upkeeps
from tests.test_saleor_versions import INTERVAL, lifecycle_settings, pass_time, saleor, stored

__all__ = ["lifecycle_settings", "saleor"]  # the fixtures, imported

# Headers Saleor's `custom_headers_validator` refuses, each for another of its rules, with words
# the admin's notice must carry (which header, and why).
REFUSED = {
    # len(key) + len(value) + 2 > HEADERS_LENGTH_LIMIT (998)
    "too-long": ({"x-staff": "v" * 990}, ['"x-staff"', "longer than Saleor allows"]),
    # not "X-*", "Authorization*" nor "BrokerProperties"
    "name-not-allowed": ({"staff": "theirs"}, ['"staff"', '"X-"']),
    # KEY_CHARS_ALLOWED: printable ASCII but ":" (no space)
    "name-character": ({"x-st aff": "theirs"}, ['"x-st aff"', "name"]),
    # VALUE_CHARS_ALLOWED: printable ASCII, space and tab
    "value-character": ({"x-staff": "the\x01irs"}, ['"x-staff"', "value"]),
}


async def _activity_problem(
    saleor: SaleorSandbox, app: SandboxApp, client: httpx.AsyncClient
) -> str | None:
    answer = await client.get("/api/activity", headers=dashboard_headers(saleor, app))
    problem: str | None = answer.json()["delivery_key_problem"]
    return problem


async def _refused_headers(
    app: SandboxApp, services: Services, clock: ManualClock, headers: dict[str, str]
) -> WebhookConfig:
    """The app-deleted webhook, keyed, then carrying `headers` Saleor refuses now (the key
    gone with the edit), and three lifecycle checks with their upkeeps."""
    await pass_time(services, clock, 0)
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is not None
    deleted, _ = sorted(_lifecycle_hooks(app), key=lambda h: h.target_url)
    deleted.custom_headers = dict(headers)
    for _ in range(3):
        await pass_time(services, clock, INTERVAL)
    return deleted


@pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)
@pytest.mark.parametrize("kind", REFUSED)
async def test_headers_saleor_refuses_are_a_stable_outcome(
    kind: str,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    app_client: httpx.AsyncClient,
) -> None:
    headers, words = REFUSED[kind]
    deleted = await _refused_headers(installed_app, services, clock, headers)
    assert deleted.custom_headers == headers  # left as they are
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is None
    upkeeps = await _upkeeps(services)
    assert len(upkeeps) >= 3 and all(job.status is JobStatus.DONE for job in upkeeps)
    assert all(job.attempts == 1 and job.last_error is None for job in upkeeps)
    problem = await _activity_problem(saleor, installed_app, app_client)
    assert problem is not None and "app-deleted" in problem
    assert all(word in problem for word in words), problem
    checks = {check.name: check async for check in run_checks(services)}
    [webhooks] = [c for n, c in checks.items() if n.startswith("Webhooks in")]
    assert webhooks.status.value == "warn"
    assert "app-deleted" in webhooks.detail and all(word in webhooks.detail for word in words)
    assert "change(s)" not in webhooks.detail  # no change the upkeep would make
    # The header fixed in Saleor: the doctor, reading the webhooks afresh, says so at once
    # (it repeats no reason it can tell again from them), and the next upkeep adds the key.
    deleted.custom_headers = {"x-staff": "theirs"}
    checks = {check.name: check async for check in run_checks(services)}
    [webhooks] = [c for n, c in checks.items() if n.startswith("Webhooks in")]
    assert not any(word in webhooks.detail for word in words), webhooks.detail
    await pass_time(services, clock, INTERVAL)
    assert deleted.custom_headers == {"x-staff": "theirs", HEADER_NAME: await _key(services)}
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is not None
    assert await _activity_problem(saleor, installed_app, app_client) is None


@pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)
@pytest.mark.parametrize("kind", REFUSED)
async def test_the_apps_own_app_deleted_from_a_refused_webhook_still_erases(
    kind: str,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
) -> None:
    """The key gone from that webhook, a key still taken as confirmed would refuse Saleor's own
    APP_DELETED (401): the app would never be uninstalled."""
    await _refused_headers(installed_app, services, clock, REFUSED[kind][0])
    [delivery] = await saleor.uninstall_app(installed_app)
    assert json.loads(delivery.response_body)["outcome"] == "uninstalled"


@pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)
async def test_a_refusal_the_app_does_not_foresee_is_a_stable_outcome(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    app_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Saleor stricter than the rules the app knows (a later version): its
    INVALID_CUSTOM_HEADERS is taken as final too, in Saleor's words, and the rest of the
    webhook's update is still made."""
    from sandboxes.saleor import app_webhooks

    def stricter(headers: dict[str, str]) -> str | None:
        if "x-staff" in {str(name).lower() for name in headers}:
            return 'Header "x-staff" is reserved.'
        return None

    monkeypatch.setattr(app_webhooks, "custom_headers_problem", stricter)
    deleted = await _refused_headers(installed_app, services, clock, {"x-staff": "theirs"})
    assert deleted.custom_headers == {"x-staff": "theirs"}
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is None
    upkeeps = await _upkeeps(services)
    assert all(job.status is JobStatus.DONE and job.last_error is None for job in upkeeps)
    problem = await _activity_problem(saleor, installed_app, app_client)
    assert problem is not None and "app-deleted" in problem and "is reserved" in problem
    assert await _key(services) not in problem
    checks = {check.name: check async for check in run_checks(services)}
    [webhooks] = [c for n, c in checks.items() if n.startswith("Webhooks in")]
    assert webhooks.status.value == "warn" and "is reserved" in webhooks.detail
    [delivery] = await saleor.uninstall_app(installed_app)
    assert json.loads(delivery.response_body)["outcome"] == "uninstalled"


def test_the_apps_own_header_is_one_saleor_takes() -> None:
    """`custom_headers_validator`: an "X-" name of printable ASCII, and a value of
    `token_urlsafe(32)` (43 characters) far below the 998 of name and value: each key a
    registration (or a rotation) makes is taken, beside any headers Saleor took before."""
    assert HEADER.lower().startswith("x-")
    for _ in range(200):
        assert key_refusal({"x-staff": "theirs"}, new_key()) is None
    assert key_refusal({f"x-staff-{n}": "theirs" for n in range(4)}, new_key()) is None


def test_a_refused_key_of_the_apps_own_is_named_as_such() -> None:
    reason = key_refusal({}, SecretStr("k" * 990))
    assert reason is not None and f"app's own {HEADER}" in reason
    assert "k" * 20 not in reason  # the key is never shown


def test_a_no_room_record_of_before_reads_as_such() -> None:
    """Rows written before the reasons were kept: a list of slugs, each with no room."""
    reason = key_refusal({f"x-{n}": "v" for n in range(5)}, new_key())
    assert reason is not None
    assert key_blocked_problem(["app-deleted"]) == key_blocked_message({"app-deleted": reason})
    assert key_blocked_problem(None) is None and key_blocked_problem({}) is None
