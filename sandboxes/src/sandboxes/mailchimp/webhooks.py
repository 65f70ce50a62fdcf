"""Outgoing list webhooks: the URL check on registration and form-encoded deliveries.

Mailchimp checks a webhook URL with a GET when it is registered, and delivers events as
``application/x-www-form-urlencoded`` POSTs: ``type=unsubscribe&fired_at=2024-01-01 12:00:00&
data[email]=…&data[list_id]=…&data[merges][FNAME]=…``. A webhook answering 410 is disabled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from .state import ListData

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox

EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
SOURCES = ("user", "admin", "api")


def flatten_form(prefix: str, value: Any) -> list[tuple[str, str]]:
    """``("data", {"merges": {"FNAME": "A"}})`` -> ``[("data[merges][FNAME]", "A")]``."""
    if isinstance(value, dict):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs.extend(flatten_form(f"{prefix}[{key}]", item))
        return pairs
    if isinstance(value, list):
        pairs = []
        for index, item in enumerate(value):
            pairs.extend(flatten_form(f"{prefix}[{index}]", item))
        return pairs
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, "" if value is None else str(value))]


async def verify_url(sandbox: MailchimpSandbox, url: str) -> bool:
    """Mailchimp's GET check of a webhook URL (skipped when no transport is configured)."""
    if not sandbox.verify_webhook_urls or sandbox.transport is None:
        return True
    try:
        async with httpx.AsyncClient(transport=sandbox.transport, timeout=10) as client:
            response = await client.get(url, headers={"User-Agent": "MailChimp.com"})
    except httpx.HTTPError:
        return False
    return response.is_success


async def fire_list_webhook(
    sandbox: MailchimpSandbox,
    data: ListData,
    event: str,
    payload: dict[str, Any],
    *,
    source: str = "user",
    fired_at: str | None = None,
) -> list[httpx.Response]:
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}; expected one of {EVENTS}")
    if source not in SOURCES:
        raise ValueError(f"Unknown webhook source {source!r}; expected one of {SOURCES}")
    with sandbox.state.lock:
        targets = [
            (hook.id, hook.url)
            for hook in data.webhooks.values()
            if getattr(hook.events, event)
            and getattr(hook.sources, source)
            and hook.id not in data.disabled_webhooks
        ]
    when = fired_at or datetime.fromtimestamp(sandbox.clock.now(), UTC).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    body = {"list_id": data.info.id, **payload}
    form = [("type", event), ("fired_at", when), *flatten_form("data", body)]
    responses: list[httpx.Response] = []
    if not targets:
        return responses
    async with httpx.AsyncClient(transport=sandbox.transport, timeout=10) as client:
        for hook_id, url in targets:
            response = await client.post(
                url,
                content=urlencode(form).encode(),
                headers={
                    "User-Agent": "MailChimp",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            if response.status_code == 410:
                with sandbox.state.lock:
                    data.disabled_webhooks.add(hook_id)
            responses.append(response)
    return responses
