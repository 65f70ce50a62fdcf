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

* none delivers to the document's URL under APP_URL → created, unless one delivers to its path
  on another host, which is taken over (the app moved to another APP_URL: `plan`);
* one does, with another name, query or events → updated; a second one → deleted (it would
  deliver every event twice).

A webhook delivering under the app's current webhook URL that no document names (a retired
document) is deleted; a registered one the installation's Saleor version is not known to have is
left as it is. Other webhooks delivering elsewhere (a staff member's) are left alone, and so is
every webhook's `isActive`: Saleor never pauses one by itself (only a `webhookDelete` that fails
leaves it paused), so a paused one is a staff member's decision. Those of the app's are recorded
on the installation (`webhooks_paused`): the Activity page says their events reach nobody, and
turns them back on when the admin asks (`resume_paused`).

The lifecycle documents' webhooks are also given the installation's delivery key
(`delivery_key`), which a reading of them confirms. One whose headers Saleor would refuse with
the key added (as many as it allows, given by staff, or one it refuses now: `key_refusal`) is
asked for none, as Saleor would refuse it at every run and the job be retried for ever; a
refusal of the headers the job did not foresee (INVALID_CUSTOM_HEADERS from a stricter Saleor)
is as final, the rest of that change made without them. The job does the rest and ends,
recording which webhooks and why (`webhooks_key_blocked`) for the Activity page, and the next
lifecycle check's upkeep adds the key once the headers are fixed.

It runs at installation, at every lifecycle check (the app's webhooks are read once each time)
and when a process starts with other documents or another APP_URL than its last run brought
them to (`webhook_catch_up`), one at a time per installation (a lane): it catches up with an
upgrade of the app that changes a document, a Saleor upgrade that brings a registered one, and a
staff member deleting one of the app's webhooks (its events would otherwise reach the app never
again). In production it changes nothing unless APP_URL is a public https URL (`_public`).
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr

from addon.db.types import utcnow
from addon.errors import ErrorCode, UpstreamUnavailable
from addon.installations.delivery_key import new_key, refused_reason, without_values
from addon.installations.repository import InstallationRepository
from addon.installations.service import SALEOR_VERSION_KNOWN, WEBHOOK_UPKEEP
from addon.installations.webhook_plan import (
    Change,
    InstalledWebhook,
    by_place,
    document_input,
    key_refusals_among,
    lifecycle_keyed,
    paused_among,
    plan,
)
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload, RetryLater
from addon.redaction import redact
from addon.saleor.client import SaleorError, SaleorPermissionDenied, SaleorQueryError
from addon.saleor.manifest import wanted_webhooks, webhooks_digest
from addon.saleor.versions import parse_version

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)

PAUSED_RETRY_SECONDS = 3600.0


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


class UpkeepRefused(Exception):
    """Saleor answered a webhook mutation with errors (the worker retries the job)."""


class HeadersRefused(UpkeepRefused):
    """Saleor refused the custom headers of a change alone (INVALID_CUSTOM_HEADERS:
    webhook_create.py `clean_input`), which it will at every run: final, not retried."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


async def _apply(services: Services, api_url: str, token: SecretStr, change: Change) -> None:
    """Run one change (`webhook_create`, `webhook_update` or `webhook_delete`)."""
    variables: dict[str, Any] = {}
    if change.input is not None:
        # Without `customHeaders` where the document sets none: a null would clear them.
        variables["input"] = change.input.model_dump(by_alias=True, exclude_none=True)
        if change.action == "create" or change.activate:
            variables["input"]["isActive"] = True
    if change.webhook_id is not None:
        variables["id"] = change.webhook_id
    document = f"webhook_{change.action}"
    field = f"webhook{change.action.capitalize()}"
    headers = change.input.headers if change.input is not None else None
    try:
        data = await services.saleor.execute(
            api_url, token, document, variables, notify_refusal=False
        )
    except SaleorPermissionDenied:
        raise
    except SaleorQueryError as exc:
        # A GraphQL error may quote the variables ("Variable '$input' got invalid value …"):
        # said without the headers' values (`_refused`), its traceback left behind.
        raise _refused(field, change.slug, str(exc), headers) from None
    answer = _MutationAnswer.model_validate(data.get(field) or {})
    if not answer.errors:
        return
    if headers and all(e.code == "INVALID_CUSTOM_HEADERS" for e in answer.errors):
        reason = redact(refused_reason(" ".join(e.message or "" for e in answer.errors), headers))
        raise HeadersRefused(
            f"Saleor refused the {change.slug} webhook's headers: {reason}", reason
        )
    said = "; ".join(f"{e.code}: {e.message}" for e in answer.errors)
    raise _refused(field, change.slug, said, headers)


def _refused(field: str, slug: str, said: str, headers: dict[str, str] | None) -> UpkeepRefused:
    """Saleor's words may repeat a header as sent (the key, a staff member's Authorization),
    and the message goes to the log and the job's `last_error`: without any value of the
    change's headers (`without_values`) nor anything shaped like a credential (`redact`)."""
    return UpkeepRefused(
        f"Saleor refused {field} for the {slug} webhook: " + redact(without_values(said, headers))
    )


def _without_headers(change: Change) -> Change:
    """The change leaving the webhook's headers as they are (`customHeaders` left out)."""
    assert change.input is not None
    return change.model_copy(
        update={"input": change.input.model_copy(update={"custom_headers": None})}
    )


async def installed_webhooks(
    services: Services, api_url: str, token: SecretStr
) -> list[InstalledWebhook] | None:
    """The app's webhooks as Saleor has them; None when the token names no app. A refusal
    asks for no lifecycle check: the upkeep runs after each check that Saleor answered, and a
    check asked for at once would queue it again at once."""
    data = await services.saleor.execute(api_url, token, "app_webhooks", {}, notify_refusal=False)
    app = _AppWebhooks.model_validate(data).app
    return None if app is None else app.webhooks


def _public(app_url: str) -> bool:
    """https, and not this machine (`localhost`, a loopback address)."""
    parts = urlsplit(app_url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name


async def upkeep_job(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    """The `installation.webhooks` job (see the module docstring)."""
    settings = services.settings
    app_url = settings.app_url
    if settings.is_production and not _public(app_url):
        # The webhooks would all be moved to it, and every event lost: a process started
        # without its APP_URL (the default is a development one) must change nothing.
        logger.error(
            "APP_URL %s is no public https URL: the app's webhooks are left as they are", app_url
        )
        return
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        if installation is None:
            return
        if not installation.is_active:
            # Saleor refuses an inactive app's token (and a refused call starts a check).
            raise RetryLater("waits until the app is active again", PAUSED_RETRY_SECONDS)
        api_url, token = installation.saleor_api_url, installation.app_token
        version = parse_version(installation.saleor_version)
        key = installation.webhook_key
    key = key or await _delivery_key(services, job.installation_id)
    wanted = wanted_webhooks(version)
    read_at = utcnow()
    try:
        installed = await installed_webhooks(services, api_url, token)
        if installed is None:
            return  # the token names no app: the lifecycle check decides
        changes = plan(installed, wanted, app_url, key)
        refused: dict[str, str] = {}
        for change in changes:
            try:
                await _apply(services, api_url, token, change)
            except HeadersRefused as exc:
                logger.warning("%s", exc)
                refused[change.slug] = exc.reason
                await _apply(services, api_url, token, _without_headers(change))
        # Only a reading shows the key in place (Saleor takes headers it cannot parse for none).
        after = await installed_webhooks(services, api_url, token) if changes else installed
    except SaleorPermissionDenied as exc:
        # Refused calls start a lifecycle check; the next one queues this job again.
        logger.warning("Saleor refused the app its own webhooks: %s", exc)
        return
    paused = paused_among(installed, wanted, app_url)
    digest = webhooks_digest(wanted, app_url)
    keyed = key is not None and lifecycle_keyed(after or [], wanted, app_url, key)
    blocked: dict[str, str] = {}
    if key is not None:
        blocked = {**key_refusals_among(after or [], wanted, app_url, key), **refused}
    await record_reading(
        services,
        job.installation_id,
        read_at,
        paused,
        digest=digest,
        key=key,
        keyed=keyed,
        key_blocked=blocked,
    )
    if changes:
        logger.info(
            "Webhooks of installation %s brought up to date: %s",
            job.installation_id,
            ", ".join(f"{c.action} {c.slug}" for c in changes),
        )
    if blocked:
        logger.warning(
            "Installation %s: the delivery key cannot be added to the %s webhooks (their "
            "headers: see the Activity page)",
            job.installation_id,
            ", ".join(blocked),
        )


async def _delivery_key(services: Services, installation_id: int) -> SecretStr | None:
    """The installation's delivery key (`delivery_key`), made now for one registered before
    there were keys."""
    async with services.db.transaction() as session:
        row = await InstallationRepository(session).get(installation_id, for_update=True)
        if row is None:
            return None
        if row.webhook_key is None:
            row.webhook_key = new_key()
        return row.webhook_key


async def record_reading(
    services: Services,
    installation_id: int,
    read_at: datetime,
    paused: list[str],
    *,
    digest: str | None = None,
    key: SecretStr | None = None,
    keyed: bool = False,
    key_blocked: dict[str, str] | None = None,
) -> None:
    """What a reading of the webhooks at `read_at` found paused, unless one read since (the
    admin turning them back on while the upkeep ran) recorded its own; the `digest` of what an
    upkeep brought them to (`webhook_catch_up`); and whether the delivery `key` it kept them with
    is in place (`keyed`: `delivery_key`), unless a registration made another key meanwhile,
    and the lifecycle webhooks it cannot be added to, with why (`key_blocked`; None: not read for
    it)."""
    async with services.db.transaction() as session:
        row = await InstallationRepository(session).get(installation_id, for_update=True)
        if row is None:
            return
        if digest is not None:
            row.webhooks_digest = digest
        if key is not None and _same_key(row.webhook_key, key):
            row.webhook_key_confirmed_at = read_at if keyed else None
            if key_blocked is not None:
                row.webhooks_key_blocked = key_blocked or None
        if row.webhooks_checked_at is None or row.webhooks_checked_at <= read_at:
            row.webhooks_checked_at = read_at
            row.webhooks_paused = paused


def _same_key(stored: SecretStr | None, used: SecretStr) -> bool:
    return stored is not None and stored.get_secret_value() == used.get_secret_value()


async def resume_paused(services: Services, installation_id: int) -> list[str]:
    """Turn the app's paused webhooks back on (an admin asked, on the Activity page): of each
    document `paused_among` names, its oldest webhook under APP_URL, with its current document
    (a staff member's copy elsewhere, and a second one the upkeep deletes, stay paused).
    Answers the slugs paused still (another admin may have paused one meanwhile: none,
    normally). Raises `UpstreamUnavailable` when Saleor does not answer or refuses."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        if installation is None:
            return []
        api_url, token = installation.saleor_api_url, installation.app_token
        wanted = wanted_webhooks(parse_version(installation.saleor_version))
    app_url = services.settings.app_url
    read_at = utcnow()
    try:
        installed = await installed_webhooks(services, api_url, token) or []
        here, _ = by_place(installed, app_url)
        for definition in wanted:
            if definition.slug not in paused_among(installed, wanted, app_url):
                continue
            hook = here[definition.slug][0]
            change = Change(
                action="update",
                slug=definition.slug,
                webhook_id=hook.id,
                input=document_input(definition, app_url),  # the URL it has: under APP_URL
                activate=True,
            )
            await _apply(services, api_url, token, change)
            hook.is_active = True
    except (SaleorError, UpkeepRefused) as exc:
        raise UpstreamUnavailable(
            f"Saleor did not turn the webhooks back on: {exc}", code=ErrorCode.SALEOR_UNAVAILABLE
        ) from exc
    paused = paused_among(installed, wanted, app_url)
    await record_reading(services, installation_id, read_at, paused)
    return paused


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(WEBHOOK_UPKEEP, upkeep_job, payload=NoPayload)
    registry.register(SALEOR_VERSION_KNOWN, upkeep_job, payload=NoPayload)
