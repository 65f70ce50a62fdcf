"""Keeping an installation's webhooks as the app's current documents say.

Saleor creates an app's webhooks from its manifest once, at installation. A later version of the
app whose documents changed (a field added to a payload, an event moved to another document, a
document retired) reaches the installations made before it only if the app updates their
webhooks itself, as saleor/apps' webhook migrations do (`webhookMigrationRunner`,
packages/webhook-utils). An app may read and change its own webhooks: `App.webhooks` (MANAGE_APPS
or OWNER) and `webhookCreate` / `webhookUpdate` / `webhookDelete` (MANAGE_APPS or
AUTHENTICATED_APP; an app reaches only its own: saleor/graphql/webhook/mutations/).

The job (`WEBHOOK_UPKEEP`) reads the app's webhooks and, for each document the installation should
have (`wanted_webhooks`: the manifest's, and the registered ones its Saleor version has, such as
CUSTOMER_DELETED since 3.23.5, which the manifest cannot carry because 3.20 would refuse it at
installation):

* none delivers to the document's path → created;
* one does, with another name, target URL (the app moved to another APP_URL), query or events →
  updated; a second one for the same document → deleted (it would deliver every event twice).

A webhook delivering under the app's current webhook URL that no document names (a retired
document) is deleted; a registered one the installation's Saleor version is not known to have is
left as it is. Webhooks delivering elsewhere (a staff member's) are left alone, and so is
every webhook's `isActive` (Saleor never changes it by itself; a staff member did).

It is queued at installation and by the lifecycle check whenever the installation's
`webhooks_fingerprint` (of the wanted documents, stored after the last run that completed) is not
the app's current one: so once after each upgrade that changes a document or a Saleor upgrade
that brings a registered one, and again after a run that did not complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.service import SALEOR_VERSION_KNOWN, WEBHOOK_UPKEEP
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload, RetryLater
from addon.saleor.client import SaleorPermissionDenied
from addon.saleor.manifest import (
    WEBHOOK_PATH_PREFIX,
    WebhookDefinition,
    wanted_webhooks,
    webhook_by_slug,
)
from addon.saleor.versions import SaleorVersion, parse_version

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)

PAUSED_RETRY_SECONDS = 3600.0


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

    @property
    def events(self) -> set[str]:
        return {e.event_type for e in self.async_events}


class _App(BaseModel):
    webhooks: list[InstalledWebhook] = Field(default_factory=list)


class _AppWebhooks(BaseModel):
    app: _App | None = None


class _MutationError(BaseModel):
    field: str | None = None
    message: str | None = None
    code: str


class _MutationAnswer(BaseModel):
    errors: list[_MutationError] = Field(default_factory=list)


class WebhookInput(BaseModel):
    """`WebhookCreateInput` / `WebhookUpdateInput`: what the app's document says."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    target_url: str = Field(alias="targetUrl")
    async_events: list[str] = Field(alias="asyncEvents")
    query: str


class Change(BaseModel):
    """One mutation of the plan: `create` (no id), `update` or `delete` (the webhook's id)."""

    action: Literal["create", "update", "delete"]
    slug: str
    webhook_id: str | None = None
    input: WebhookInput | None = None


class UpkeepRefused(Exception):
    """Saleor answered a webhook mutation with errors (the worker retries the job)."""


def slug_of(target_url: str) -> str | None:
    """The document a webhook delivers to (`/api/webhooks/<slug>`, under any APP_URL)."""
    _, prefix, slug = urlsplit(target_url).path.rpartition(WEBHOOK_PATH_PREFIX)
    return slug if prefix and slug and "/" not in slug else None


def _input(definition: WebhookDefinition, app_url: str) -> WebhookInput:
    return WebhookInput(
        name=definition.name,
        target_url=app_url + definition.path,
        async_events=list(definition.events),
        query=definition.query,
    )


def _current(hook: InstalledWebhook, wanted: WebhookInput) -> bool:
    return (
        hook.name == wanted.name
        and hook.target_url == wanted.target_url
        and hook.subscription_query == wanted.query
        and hook.events == set(wanted.async_events)
    )


def plan(
    installed: list[InstalledWebhook], wanted: tuple[WebhookDefinition, ...], app_url: str
) -> list[Change]:
    """The mutations that make `installed` what `wanted` says: updates, then creations, then
    deletions (a document is never without a webhook between two steps)."""
    by_slug: dict[str, list[InstalledWebhook]] = {}
    for hook in installed:
        if (slug := slug_of(hook.target_url)) is not None:
            by_slug.setdefault(slug, []).append(hook)
    updates: list[Change] = []
    creations: list[Change] = []
    deletions: list[Change] = []
    for definition in wanted:
        target = _input(definition, app_url)
        # The one kept: an active one first (a staff member may have paused a copy), then the
        # oldest (Saleor's ids grow).
        hooks = sorted(by_slug.pop(definition.slug, []), key=lambda h: (not h.is_active, h.id))
        if not hooks:
            creations.append(Change(action="create", slug=definition.slug, input=target))
            continue
        kept, *extra = hooks
        if not _current(kept, target):
            updates.append(
                Change(action="update", slug=definition.slug, webhook_id=kept.id, input=target)
            )
        deletions += [Change(action="delete", slug=definition.slug, webhook_id=h.id) for h in extra]
    ours = app_url + WEBHOOK_PATH_PREFIX
    for slug, hooks in by_slug.items():
        if webhook_by_slug(slug) is not None:
            continue  # a registered one this Saleor version is not known to have: left alone
        deletions += [  # a retired document's, under this APP_URL only
            Change(action="delete", slug=slug, webhook_id=h.id)
            for h in hooks
            if h.target_url.startswith(ours)
        ]
    return updates + creations + deletions


def webhooks_fingerprint(app_url: str, version: SaleorVersion | None) -> str:
    """Of the webhooks an installation should have: changes with a document, the APP_URL or a
    Saleor version that brings a registered webhook."""
    wanted = [_input(d, app_url).model_dump(mode="json") for d in wanted_webhooks(version)]
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


async def _apply(services: Services, api_url: str, token: SecretStr, change: Change) -> None:
    """Run one change (`webhook_create`, `webhook_update` or `webhook_delete`)."""
    variables: dict[str, Any] = {}
    if change.input is not None:
        variables["input"] = change.input.model_dump(by_alias=True)
        if change.action == "create":
            variables["input"]["isActive"] = True
    if change.webhook_id is not None:
        variables["id"] = change.webhook_id
    data = await services.saleor.execute(api_url, token, f"webhook_{change.action}", variables)
    field = f"webhook{change.action.capitalize()}"
    answer = _MutationAnswer.model_validate(data.get(field) or {})
    if answer.errors:
        raise UpkeepRefused(
            f"Saleor refused {field} for the {change.slug} webhook: "
            + "; ".join(f"{e.code}: {e.message}" for e in answer.errors)
        )


async def installed_webhooks(
    services: Services, api_url: str, token: SecretStr, *, notify_refusal: bool = True
) -> list[InstalledWebhook] | None:
    """The app's webhooks as Saleor has them; None when the token names no app."""
    data = await services.saleor.execute(
        api_url, token, "app_webhooks", {}, notify_refusal=notify_refusal
    )
    app = _AppWebhooks.model_validate(data).app
    return None if app is None else app.webhooks


async def upkeep_job(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    """The `installation.webhooks` job (see the module docstring)."""
    app_url = services.settings.app_url
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        if installation is None:
            return
        if not installation.is_active:
            # Saleor refuses an inactive app's token (and a refused call starts a check).
            raise RetryLater("waits until the app is active again", PAUSED_RETRY_SECONDS)
        api_url, token = installation.saleor_api_url, installation.app_token
        version = parse_version(installation.saleor_version)
    fingerprint = webhooks_fingerprint(app_url, version)
    try:
        installed = await installed_webhooks(services, api_url, token)
        if installed is None:
            return  # the token names no app: the lifecycle check decides
        changes = plan(installed, wanted_webhooks(version), app_url)
        for change in changes:
            await _apply(services, api_url, token, change)
    except SaleorPermissionDenied as exc:
        # Refused calls start a lifecycle check; the next one queues this job again.
        logger.warning("Saleor refused the app its own webhooks: %s", exc)
        return
    async with services.db.transaction() as session:
        installation = await InstallationRepository(session).get(
            job.installation_id, for_update=True
        )
        if installation is not None:
            installation.webhooks_fingerprint = fingerprint
    if changes:
        logger.info(
            "Webhooks of installation %s brought up to date: %s",
            job.installation_id,
            ", ".join(f"{c.action} {c.slug}" for c in changes),
        )


def upkeep_wanted(installation: Installation, app_url: str) -> bool:
    """Whether the installation's webhooks may differ from the app's documents (no run since
    a document, the APP_URL or the Saleor version changed)."""
    version = parse_version(installation.saleor_version)
    return installation.webhooks_fingerprint != webhooks_fingerprint(app_url, version)


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(WEBHOOK_UPKEEP, upkeep_job, payload=NoPayload)
    registry.register(SALEOR_VERSION_KNOWN, upkeep_job, payload=NoPayload)
