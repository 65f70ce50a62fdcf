"""Outgoing list webhooks: the URL check on registration and form-encoded deliveries.

Mailchimp checks a webhook URL with a GET when it is registered, and delivers events as
``application/x-www-form-urlencoded`` POSTs: ``type=unsubscribe&fired_at=2024-01-01 12:00:00&
data[email]=…&data[merges][FNAME]=…&data[list_id]=…``. A webhook answering 410 is disabled.

What Mailchimp sends of a member it sends whole, whatever changed: a subscribe, unsubscribe or
profile event of a member the sandbox has carries its ``id``, ``email_type``, ``ip_opt``,
``web_id`` and every merge field (``merges``, with ``INTERESTS`` and ``GROUPINGS``), as in a
captured delivery (oxidecomputer/cio, ``test_mailchimp_webhook_parsing``: "type=subscribe&
fired_at=2020-09-07 21:31:09&data[id]=b748506b63&…&data[merges][ADDRESS]=&…&data[merges]
[INTERESTS]=Yes&data[merges][GROUPINGS][0][id]=6197&data[merges][GROUPINGS][0][unique_id]=
458a556058&data[merges][GROUPINGS][0][name]=…&data[merges][GROUPINGS][0][groups]=Yes&…&
data[list_id]=8a6d823488"); what the caller gives is sent over it.

A delivery the receiver did not take (no answer, or an answer other than 2xx or 410) is kept and
sent again by `redeliver_list_webhooks`: Mailchimp "will try again later. Retries happen at
increasing intervals over the course of 75 minutes" (its guide "Synchronize Audience Data with
Webhooks"), so a receiver sees a delivery twice, and after later ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from .models import Member
from .state import ListData, WebhookDelivery, subscriber_hash

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox

EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
SOURCES = ("user", "admin", "api")
# "Campaign sending (Note: Due to the way sending works, this option is currently all or nothing
# and cannot be limited to where the change originated.)" (Mailchimp's "About Webhooks").
UNSOURCED = frozenset({"campaign"})
# Seen with RequestBin (gist strangeways/96b26ee7e61b9800e264b16688cce038): the validator's GET
# carries "MailChimp.com WebHook Validator", a delivery "MailChimp.com".
VALIDATOR_AGENT = "MailChimp.com WebHook Validator"
DELIVERY_AGENT = "MailChimp.com"
# Mailchimp names no count; "we retried three times for the given change" (its release notes of
# 2021-04-05, on deliveries answered 410 before they disabled the webhook).
MAX_REDELIVERIES = 3
_MEMBER_EVENTS = ("subscribe", "unsubscribe", "profile")


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
            response = await client.get(url, headers={"User-Agent": VALIDATOR_AGENT})
    except httpx.HTTPError:
        return False
    return response.is_success


def _merges(data: ListData, member: Member) -> dict[str, Any]:
    """The member's ``merges``: every merge field of the audience (an empty one as ``""``, an
    address given as its parts), and its groups: ``GROUPINGS`` one per interest category (the
    ticked names comma-separated, a comma in a name escaped), ``INTERESTS`` the first one's."""
    merges: dict[str, Any] = {"EMAIL": member.email_address}
    for merge in sorted(data.merge_fields.values(), key=lambda f: (f.display_order, f.merge_id)):
        value = member.merge_fields.get(merge.tag)
        merges[merge.tag] = "" if value is None or value == {} else value
    groupings: list[dict[str, Any]] = []
    for number, category in enumerate(data.categories.values(), start=1):
        ticked = [
            interest.name.replace(",", "\\,")
            for interest in data.interests.values()
            if interest.category_id == category.id and member.interests.get(interest.id)
        ]
        groupings.append(
            {
                "id": number,
                "unique_id": category.id,
                "name": category.title,
                "groups": ", ".join(ticked),
            }
        )
    if groupings:
        merges["INTERESTS"] = groupings[0]["groups"]
        merges["GROUPINGS"] = groupings
    return merges


def _member_data(data: ListData, event: str, given: dict[str, Any]) -> dict[str, Any]:
    """What Mailchimp sends of the member the event is about, as the sandbox holds it now."""
    if event == "upemail":
        moved = data.members.get(subscriber_hash(str(given.get("new_email", ""))))
        return {"new_id": moved.unique_email_id} if moved else {}
    member = data.members.get(subscriber_hash(str(given.get("email", ""))))
    if event not in _MEMBER_EVENTS or member is None:
        return {}
    found: dict[str, Any] = {
        "id": member.unique_email_id,
        "email": member.email_address,
        "email_type": member.email_type,
        "ip_opt": member.ip_opt,
        "web_id": member.web_id,
        "merges": _merges(data, member),
    }
    if event == "subscribe":
        found["ip_signup"] = member.ip_signup
    return found


def _body(data: ListData, event: str, given: dict[str, Any]) -> dict[str, Any]:
    """The event's ``data``: the member's, what the caller gave over it, ``list_id`` last."""
    found = _member_data(data, event, given)
    body = {**found, **given}
    if isinstance(found.get("merges"), dict) and isinstance(given.get("merges"), dict):
        body["merges"] = {**found["merges"], **given["merges"]}
    return body if "list_id" in given else {**body, "list_id": data.info.id}


async def _post(client: httpx.AsyncClient, url: str, body: bytes) -> httpx.Response | None:
    """One delivery; None when the receiver could not be reached or took too long."""
    try:
        return await client.post(
            url,
            content=body,
            headers={
                "User-Agent": DELIVERY_AGENT,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    except httpx.HTTPError:
        return None


async def _deliver(
    sandbox: MailchimpSandbox, data: ListData, deliveries: list[WebhookDelivery]
) -> list[httpx.Response]:
    """Post each delivery; one not taken is kept for a later try (`redeliver_list_webhooks`),
    up to `MAX_REDELIVERIES`; a 410 disables its webhook for good."""
    responses: list[httpx.Response] = []
    async with httpx.AsyncClient(transport=sandbox.transport, timeout=10) as client:
        for delivery in deliveries:
            response = await _post(client, delivery.url, delivery.body)
            with sandbox.state.lock:
                if response is not None and response.status_code == 410:
                    data.disabled_webhooks.add(delivery.hook_id)
                elif (response is None or not response.is_success) and (
                    delivery.tries < MAX_REDELIVERIES
                ):
                    delivery.tries += 1
                    data.undelivered.append(delivery)
            if response is not None:
                responses.append(response)
    return responses


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
            and (event in UNSOURCED or getattr(hook.sources, source))
            and hook.id not in data.disabled_webhooks
        ]
        body = _body(data, event, payload)
    # Mailchimp does not say in which zone `fired_at` is: the sandbox's clock in UTC.
    when = fired_at or datetime.fromtimestamp(sandbox.clock.now(), UTC).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    form = urlencode([("type", event), ("fired_at", when), *flatten_form("data", body)]).encode()
    deliveries = [WebhookDelivery(hook_id, url, form) for hook_id, url in targets]
    return await _deliver(sandbox, data, deliveries) if deliveries else []


async def redeliver_list_webhooks(
    sandbox: MailchimpSandbox, data: ListData
) -> list[httpx.Response]:
    """Mailchimp's next try of every delivery not taken, as it was first sent (the same
    `fired_at`), to a webhook still there and not disabled."""
    with sandbox.state.lock:
        waiting, data.undelivered = data.undelivered, []
        waiting = [
            d
            for d in waiting
            if d.hook_id in data.webhooks and d.hook_id not in data.disabled_webhooks
        ]
    return await _deliver(sandbox, data, waiting) if waiting else []
