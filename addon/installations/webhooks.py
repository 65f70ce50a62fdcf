"""Receiving Saleor webhooks: verify the signature, then parse, then store durably before
answering.

Only the last step writes: the keys are read (cached in the process, see
`addon.installations.signing_keys`) and the signature checked before it, so a forged or
malformed delivery never takes the write lock (on SQLite, `BEGIN IMMEDIATE`); deliveries are
stored in group commits (`addon.installations.intake`), the installation checked in the same
transaction.

Lifecycle events are applied on receipt, because pausing must take effect at once and a paused
queue could never deliver the event that resumes it. Every other delivery becomes a job of kind
`webhook.<slug>` (the slug of its document in `webhooks/`), processed by the worker with the
handler of the capability that owns that document. Each document selects what its owner needs,
so two capabilities interested in one event each have their own document.
"""

from __future__ import annotations

import hashlib
import json
import logging
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from addon import metrics
from addon.db.types import utcnow
from addon.errors import AppError, BadRequest, ErrorCode, Unauthorized, UpstreamUnavailable
from addon.installations.delivery_key import check_delivery
from addon.installations.intake import InstallationGone, intake_for
from addon.installations.lifecycle import token_accepted
from addon.installations.lifecycle_body import lifecycle_body
from addon.installations.lost_lifecycle import doubt_told_pauses
from addon.installations.models import Installation, LifecycleSignal
from addon.installations.repository import InstallationRepository
from addon.installations.service import InstallationService
from addon.installations.signing_keys import KeyState, KeysUnavailable, SigningKeys
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.inserts import NewJob
from addon.jobs.models import JobStatus
from addon.jobs.repository import JobRepository
from addon.logs import log_fields
from addon.saleor.client import SaleorError
from addon.saleor.jws import VerificationError, verify_webhook_signature
from addon.saleor.manifest import WebhookDefinition
from addon.saleor.schemas import AppLifecycleEvent
from addon.services import Services

logger = logging.getLogger(__name__)

LIFECYCLE_EVENTS = frozenset({"APP_STATUS_CHANGED", "APP_DELETED"})
# Events whose deliveries the app's own writes cause. One the app made itself (its
# `issuingPrincipal` is this app) only echoes what it wrote, a contact's status or engagement
# from Mailchimp: it is recorded, not handled. Handled, each such write came back as a read of
# the customer for every document subscribing to it (after a first engagement collection of
# 50 k customers, 100 k Saleor reads to find nothing changed). CUSTOMER_UPDATED too: Saleor
# sends it beside CUSTOMER_METADATA_UPDATED for every metadata write while the store keeps its
# legacy update emission (the default; saleor/graphql/meta/extra_methods.py), and the app's
# one other write on customers, their names from Mailchimp, queues its own follow-ups
# (subscriptions.profile_writeback). Only documents that select `issuingPrincipal` can tell.
OWN_ECHO_EVENTS = frozenset({"CUSTOMER_METADATA_UPDATED", "CUSTOMER_UPDATED"})


class _Principal(BaseModel):
    id: str | None = None  # an app's (`... on App { id }`); a user selects nothing


class _Issued(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    issuing_principal: _Principal | None = Field(None, alias="issuingPrincipal")


def own_echo(event: str, payload: dict[str, Any], app_id: str) -> bool:
    """Whether the delivery echoes a metadata write of this app itself (`OWN_ECHO_EVENTS`)."""
    if event not in OWN_ECHO_EVENTS or not app_id:
        return False
    try:
        principal = _Issued.model_validate(payload).issuing_principal
    except ValidationError:  # not Saleor's shape: handled as any delivery
        return False
    return principal is not None and principal.id == app_id


class WebhookHeaders(BaseModel):
    event: str
    signature: str
    saleor_api_url: str
    saleor_domain: str | None = None
    delivery_key: str | None = None  # `delivery_key.HEADER`: the lifecycle webhooks carry it


class Outcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    APPLIED = "applied"
    UNINSTALLED = "uninstalled"  # erased once Mailchimp is cleaned up (`uninstall.py`)
    IGNORED = "ignored"
    OWN_ECHO = "own_echo"  # recorded, not handled (`OWN_ECHO_EVENTS`)


class WebhookReceiver:
    """Verifies and parses a delivery before anything is written, then stores it in a group
    commit (`addon.installations.intake`), so the endpoint takes no request-long session."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.keys = SigningKeys(services.db, services.settings, services.saleor)

    async def receive(
        self, definition: WebhookDefinition, headers: WebhookHeaders, body: bytes
    ) -> Outcome:
        try:
            outcome = await self._receive_keyed(definition, headers, body)
        except AppError as exc:
            metrics.webhook_rejected(definition.slug, exc.code)
            raise
        metrics.webhook_received(definition.slug, outcome)
        return outcome

    async def _receive_keyed(
        self, definition: WebhookDefinition, headers: WebhookHeaders, body: bytes
    ) -> Outcome:
        url = headers.saleor_api_url
        keys = await self.keys.load_cached(url)
        try:
            return await self._receive(keys, definition, headers, body)
        except InstallationGone:
            # Erased, maybe installed again since the keys were cached: read them afresh.
            self.keys.forget(url)
            fresh = await self.keys.load_cached(url)
            if fresh is None or keys is None or fresh.installation_id == keys.installation_id:
                raise _not_installed() from None
            return await self._receive(fresh, definition, headers, body)

    async def _receive(
        self,
        keys: KeyState | None,
        definition: WebhookDefinition,
        headers: WebhookHeaders,
        body: bytes,
    ) -> Outcome:
        # The signature first: nothing of an unverified body is parsed or stored, and nothing
        # is written yet (see addon.installations.signing_keys).
        if keys is None:
            raise _not_installed()
        log_fields(installation_id=keys.installation_id)
        try:
            await self.keys.verify(
                keys, lambda jwks: verify_webhook_signature(jwks, headers.signature, body)
            )
        except KeysUnavailable as exc:
            # A 5xx: Saleor retries it (it drops a 4xx at once).
            raise UpstreamUnavailable(
                f"Cannot check the signature now: {exc}.", code=ErrorCode.JWKS_UNAVAILABLE
            ) from exc
        except VerificationError as exc:
            logger.warning("Rejected a webhook from %s: %s", headers.saleor_api_url, exc)
            raise Unauthorized(
                f"Invalid signature: {exc}.", code=ErrorCode.INVALID_SIGNATURE
            ) from exc

        event = headers.event.upper()
        if event not in definition.events:
            raise BadRequest(
                f"This endpoint receives {', '.join(definition.events)}, not {event}.",
                code=ErrorCode.WRONG_EVENT,
            )
        try:
            payload: dict[str, Any] = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError) as exc:  # nested deeper than Python recurses
            raise BadRequest(
                f"The body is not a JSON object: {exc}", code=ErrorCode.INVALID_BODY
            ) from exc

        # Saleor redelivers the identical body: the digest identifies a delivery.
        dedupe_key = hashlib.sha256(f"{definition.slug}\n{event}\n".encode() + body).hexdigest()
        job_payload = {"event": event, "body": payload}
        _storable(job_payload)
        kind = webhook_job_kind(definition.slug)
        if event in LIFECYCLE_EVENTS:
            return await self._lifecycle(
                keys.installation_id, kind, payload, job_payload, dedupe_key, headers.delivery_key
            )
        has_handler = self.services.handlers.get(kind) is not None
        echo = has_handler and own_echo(event, payload, keys.app_id)
        job = NewJob(
            keys.installation_id,
            kind,
            # An echo is recorded, never handled: its body (naming the customer, one an erasure
            # may have just forgotten) is not kept.
            {"event": event, "body": {}} if echo else job_payload,
            dedupe_key,
            JobStatus.PENDING if has_handler and not echo else JobStatus.DONE,
        )
        if await intake_for(self.services.db).store(job) is None:
            return Outcome.DUPLICATE
        if echo:
            return Outcome.OWN_ECHO
        return Outcome.QUEUED if has_handler else Outcome.IGNORED

    async def _lifecycle(
        self,
        installation_id: int,
        kind: str,
        payload: dict[str, Any],
        job_payload: dict[str, Any],
        dedupe_key: str,
        delivery_key: str | None,
    ) -> Outcome:
        """Applied on receipt, in one transaction with the record of the delivery."""
        event = str(job_payload["event"])
        lifecycle = lifecycle_body(event, payload)
        async with self.services.db.session() as session:
            installation = await InstallationRepository(session).get(installation_id)
        if installation is None:
            raise InstallationGone(installation_id)
        # Sent by the app's own webhook, before anything is asked or written.
        check_delivery(installation, event, delivery_key)
        if not await self._saleor_agrees(installation, event, lifecycle):
            return Outcome.IGNORED
        async with self.services.db.transaction() as session:
            # Locked, as the lifecycle checks take it: a check's newer observation committed
            # meanwhile is seen, not overwritten by this older one; an erasure committed
            # meanwhile is seen as gone, not met by the delivery's record on the foreign key.
            repository = InstallationRepository(session)
            installation = await repository.get(installation_id, for_update=True)
            if installation is None:
                raise InstallationGone(installation_id)
            installations = InstallationService(
                session, self.services.settings, self.services.saleor
            )
            if event == "APP_DELETED":
                await installations.uninstall(installation, LifecycleSignal.WEBHOOK)
                self.keys.forget(installation.saleor_api_url)
                return Outcome.UNINSTALLED
            job_id = await JobRepository(session).enqueue(
                installation_id,
                kind,
                job_payload,
                dedupe_key=dedupe_key,
                status=JobStatus.DONE,  # recorded for the activity log; applied right here
            )
            if job_id is None:
                return Outcome.DUPLICATE
            await installations.apply_status_change(installation, lifecycle)
            return Outcome.APPLIED

    async def _saleor_agrees(
        self, installation: Installation, event: str, lifecycle: AppLifecycleEvent
    ) -> bool:
        """Whether Saleor confirms what the delivery says, asked before anything is written.
        The signature does not cover the `Saleor-Event` header: an old body of the app's posted
        again would verify. Saleor accepts the token of an installed, active app only
        (`lifecycle.py`): deleted or deactivated, it refuses it, so this cannot tell a deletion
        from a deactivation; `lifecycle_body` does, from what the body was made for."""
        installation_id = installation.id
        assert lifecycle.app is not None
        if lifecycle.app.id != installation.app_id:
            logger.info("Ignored %s about another app (%s)", event, lifecycle.app.id)
            return False
        says_active = event != "APP_DELETED" and bool(lifecycle.app.is_active)
        try:
            accepted = await token_accepted(self.services, installation)
        except SaleorError as exc:
            if event == "APP_DELETED":
                # Saleor may give up on it: a pause it told of is no longer known for one.
                async with self.services.db.transaction() as session:
                    await doubt_told_pauses(
                        session, since=utcnow(), installation_id=installation_id
                    )
            # A 5xx: Saleor delivers it again later.
            raise UpstreamUnavailable(
                f"Cannot confirm {event} with Saleor now: {exc}.",
                code=ErrorCode.SALEOR_UNAVAILABLE,
            ) from exc
        if accepted is not says_active:
            logger.warning("Ignored %s: Saleor says otherwise of the app's token", event)
        return accepted is says_active


def _storable(job_payload: dict[str, Any]) -> None:
    """Refuse a body the job's JSON column cannot hold, which json reads but orjson (the
    database's JSON serializer, `addon.db.engine`) refuses: nested deeper than 254 levels, an
    integer past 64 bits, a lone surrogate. Saleor sends none (GraphQL's Int is 32-bit, its
    documents a few levels deep); stored, it would be a 500 and Saleor's retries."""
    try:
        orjson.dumps(job_payload)
    except orjson.JSONEncodeError as exc:
        raise BadRequest(f"The body cannot be stored: {exc}.", code=ErrorCode.INVALID_BODY) from exc


def _not_installed() -> Unauthorized:
    return Unauthorized(
        "The app is not installed for this Saleor.", code=ErrorCode.UNKNOWN_INSTALLATION
    )
