"""The plan of the webhook upkeep (`webhook_upkeep`): the app's webhooks as Saleor has them
against its documents, and the mutations that make the first what the second say. Pure: no
calls, no storage (the doctor reads the same plan)."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from addon.installations.delivery_key import (
    carries_key,
    headers_with_key,
    key_in_place,
    key_refusal,
    parse_headers,
)
from addon.saleor.manifest import WEBHOOK_PATH_PREFIX, WebhookDefinition, webhook_by_slug


class _EventType(BaseModel):
    event_type: str = Field(alias="eventType")


class InstalledWebhook(BaseModel):
    """One of the app's webhooks as Saleor has it (`app_webhooks.graphql`)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str | None = None
    target_url: str = Field(alias="targetUrl")
    is_active: bool = Field(alias="isActive")
    subscription_query: str | None = Field(default=None, alias="subscriptionQuery")
    async_events: list[_EventType] = Field(default_factory=list, alias="asyncEvents")
    custom_headers: dict[str, str] | None = Field(default=None, alias="customHeaders")

    @field_validator("custom_headers", mode="before")
    @classmethod
    def _parsed(cls, value: Any) -> dict[str, str] | None:
        return parse_headers(value)

    @property
    def events(self) -> set[str]:
        return {e.event_type for e in self.async_events}


class WebhookInput(BaseModel):
    """`WebhookCreateInput` / `WebhookUpdateInput`: what the app's document says."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    target_url: str = Field(alias="targetUrl")
    async_events: list[str] = Field(alias="asyncEvents")
    query: str
    # A string of JSON (Saleor's `JSONString`); None: left as they are (`delivery_key`).
    custom_headers: str | None = Field(default=None, alias="customHeaders")

    @property
    def headers(self) -> dict[str, str] | None:
        return None if self.custom_headers is None else parse_headers(self.custom_headers)


class Change(BaseModel):
    """One mutation of the plan: `create` (no id), `update` or `delete` (the webhook's id)."""

    action: Literal["create", "update", "delete"]
    slug: str
    webhook_id: str | None = None
    input: WebhookInput | None = None
    activate: bool = False  # an update that turns a paused webhook back on


def slug_of(target_url: str) -> str | None:
    """The document a webhook delivers to (`/api/webhooks/<slug>`, under any APP_URL)."""
    _, prefix, slug = urlsplit(target_url).path.rpartition(WEBHOOK_PATH_PREFIX)
    return slug if prefix and slug and "/" not in slug else None


def document_input(
    definition: WebhookDefinition, app_url: str, headers: dict[str, str] | None = None
) -> WebhookInput:
    return WebhookInput(
        name=definition.name,
        target_url=app_url + definition.path,
        async_events=list(definition.events),
        query=definition.query,
        custom_headers=None if headers is None else json.dumps(headers),
    )


def _wanted_input(
    definition: WebhookDefinition,
    app_url: str,
    key: SecretStr | None,
    hook: InstalledWebhook | None,
) -> WebhookInput:
    """The document's webhook as it should be: a lifecycle one with the installation's key
    (`delivery_key`) among the headers `hook` has, unless Saleor would refuse them with it
    (`key_refusal`: headers left as they are, as it would refuse them at every run)."""
    if key is None or not carries_key(definition):
        return document_input(definition, app_url)
    if hook is not None and key_refusal(hook.custom_headers, key) is not None:
        return document_input(definition, app_url)
    headers = headers_with_key(hook.custom_headers if hook else None, key)
    return document_input(definition, app_url, headers)


def _current(hook: InstalledWebhook, wanted: WebhookInput) -> bool:
    return (
        hook.name == wanted.name
        and hook.target_url == wanted.target_url
        and hook.subscription_query == wanted.query
        and hook.events == set(wanted.async_events)
        and (wanted.custom_headers is None or hook.custom_headers == wanted.headers)
    )


def _age(hook: InstalledWebhook) -> int:
    """Saleor's primary key behind the webhook's global id (`Webhook:12`): the older, smaller."""
    try:
        return int(base64.b64decode(hook.id).decode().rpartition(":")[2])
    except (ValueError, UnicodeDecodeError):
        return 0


Places = tuple[dict[str, list[InstalledWebhook]], dict[str, list[InstalledWebhook]]]


def by_place(installed: list[InstalledWebhook], app_url: str) -> Places:
    """The webhooks of each document: those delivering to its URL under this APP_URL, and
    those delivering to its path elsewhere; each list active ones first, then the oldest."""
    ours = app_url + WEBHOOK_PATH_PREFIX
    here: dict[str, list[InstalledWebhook]] = {}
    elsewhere: dict[str, list[InstalledWebhook]] = {}
    for hook in sorted(installed, key=lambda h: (not h.is_active, _age(h))):
        if (slug := slug_of(hook.target_url)) is not None:
            mine = hook.target_url == ours + slug
            (here if mine else elsewhere).setdefault(slug, []).append(hook)
    return here, elsewhere


def plan(
    installed: list[InstalledWebhook],
    wanted: tuple[WebhookDefinition, ...],
    app_url: str,
    key: SecretStr | None = None,
) -> list[Change]:
    """The mutations that make `installed` what `wanted` says: creations, then updates, then
    deletions (an event a document takes over from another is never without a webhook).

    A document's webhook is the one delivering to its URL under this APP_URL (of several: an
    active one first, as a staff member may have paused a copy, then the oldest; the others
    are deleted, as each would deliver every event again). Only when there is none is one
    delivering to its path elsewhere taken over (the app moved to another APP_URL); other
    webhooks elsewhere are a staff member's, and left alone. A lifecycle document's webhook is
    given the installation's `key` (`delivery_key`)."""
    here, elsewhere = by_place(installed, app_url)
    creations: list[Change] = []
    updates: list[Change] = []
    deletions: list[Change] = []
    for definition in wanted:
        hooks = here.pop(definition.slug, []) or elsewhere.get(definition.slug, [])[:1]
        if not hooks:
            target = _wanted_input(definition, app_url, key, None)
            creations.append(Change(action="create", slug=definition.slug, input=target))
            continue
        kept, *extra = hooks
        target = _wanted_input(definition, app_url, key, kept)
        if not _current(kept, target):
            updates.append(
                Change(action="update", slug=definition.slug, webhook_id=kept.id, input=target)
            )
        deletions += [Change(action="delete", slug=definition.slug, webhook_id=h.id) for h in extra]
    for slug, hooks in here.items():
        if webhook_by_slug(slug) is not None:
            continue  # a registered one this Saleor version is not known to have: left alone
        # A retired document's.
        deletions += [Change(action="delete", slug=slug, webhook_id=h.id) for h in hooks]
    return creations + updates + deletions


def paused_among(
    installed: list[InstalledWebhook], wanted: tuple[WebhookDefinition, ...], app_url: str
) -> list[str]:
    """The slugs of the app's documents whose webhooks under APP_URL are all paused."""
    here, _ = by_place(installed, app_url)
    return sorted(d.slug for d in wanted if d.slug in here and not here[d.slug][0].is_active)


def lifecycle_keyed(
    installed: list[InstalledWebhook],
    wanted: tuple[WebhookDefinition, ...],
    app_url: str,
    key: SecretStr,
) -> bool:
    """Whether every webhook of the lifecycle documents delivering under APP_URL has the key."""
    here, _ = by_place(installed, app_url)
    lifecycle = [d.slug for d in wanted if carries_key(d)]
    return all(
        key_in_place((hook.custom_headers for hook in here.get(slug, [])), key)
        for slug in lifecycle
    )


def key_refusals_among(
    installed: list[InstalledWebhook],
    wanted: tuple[WebhookDefinition, ...],
    app_url: str,
    key: SecretStr,
) -> dict[str, str]:
    """The lifecycle documents whose webhook (the one `plan` keeps) has headers Saleor would
    refuse with the key added, each with why (`key_refusal`)."""
    here, elsewhere = by_place(installed, app_url)
    refused = {}
    for definition in wanted:
        hooks = here.get(definition.slug) or elsewhere.get(definition.slug, [])[:1]
        if not carries_key(definition) or not hooks:
            continue
        if (reason := key_refusal(hooks[0].custom_headers, key)) is not None:
            refused[definition.slug] = reason
    return refused
