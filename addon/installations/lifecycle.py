"""Deactivation and uninstall noticed without the lifecycle webhooks.

Before Saleor 3.23.5 (saleor/saleor#19160) APP_STATUS_CHANGED and APP_DELETED never reach the app
concerned (see sandboxes.saleor.versions for the source). What the app can see instead is
Saleor refusing its token: Saleor authenticates only the token of an installed, active app
(saleor/graphql/app/dataloaders/app.py, `AppByTokenLoader` filters `is_active=True,
removed_at__isnull=True`) and answers any other as an anonymous caller, so `{ app { id } }` gets
PermissionDenied. A deactivated app and a deleted one look exactly alike to their token, so:

* A refusal (of any call the app makes, or of the periodic check) is confirmed by a second check
  `INSTALLATION_CHECK_CONFIRM_SECONDS` later; a Saleor that cannot be reached, or answers with
  another error, decides nothing (the worker retries the check with its backoff).
* Confirmed, processing pauses at once, through the same path as APP_STATUS_CHANGED.
* The token accepted again (`appActivate`) resumes processing the same way; so does a dashboard
  user's view of the app as active. A dashboard user's view of it as deactivated pauses it.
* Still refused `UNINSTALL_GRACE_HOURS` after the first refusal, the app is taken as uninstalled
  and the installation is erased through the same path as APP_DELETED.

The check is the worker job `installation.check`, one scheduled per installation every
`INSTALLATION_CHECK_INTERVAL_SECONDS` (it reschedules itself); it runs while processing is
paused (`addon.jobs.models.HOUSEKEEPING_KINDS`). Each check also stores Saleor's version, and
queues the webhooks' upkeep (`webhook_upkeep`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.db.types import utcnow
from addon.installations.checks import CHECK_KIND, CheckPayload, schedule_check
from addon.installations.models import Installation, LifecycleSignal
from addon.installations.repository import InstallationRepository
from addon.installations.service import InstallationService, queue_webhook_upkeep
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.worker import HandlerRegistry, backoff_delay
from addon.saleor.client import SaleorError, SaleorPermissionDenied
from addon.saleor.versions import parse_version, sends_own_lifecycle_webhooks

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)


class _Refused(Exception):
    """Saleor refused the app token (or no longer knows the app)."""


async def _ask_saleor(services: Services, api_url: str, token: SecretStr, app_id: str) -> str:
    """Saleor's version if it accepts the token; raises `_Refused`, or `SaleorError` for
    anything that decides nothing (unreachable, another error)."""
    try:
        data = await services.saleor.execute(
            api_url, token, "installation_check", notify_refusal=False
        )
    except SaleorPermissionDenied as exc:
        raise _Refused(str(exc)) from exc
    app = data.get("app") or {}
    if app.get("id") != app_id:  # the app is gone from `{ app { id } }`
        raise _Refused(f"Saleor answered app {app.get('id')!r} for the token of {app_id!r}")
    return str((data.get("shop") or {}).get("version") or "")


async def token_accepted(services: Services, installation: Installation) -> bool:
    """Whether Saleor accepts the app token now: the app is installed and active. Raises
    `SaleorError` when Saleor cannot tell (unreachable, another error)."""
    try:
        await _ask_saleor(
            services, installation.saleor_api_url, installation.app_token, installation.app_id
        )
    except _Refused:
        return False
    return True


async def check_job(job: ClaimedJob, payload: CheckPayload, services: Services) -> None:
    """The `installation.check` job (see the module docstring)."""
    settings = services.settings
    signal = payload.signal
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        if installation is None or installation.uninstalled_at is not None:
            return
        api_url, token, app_id = (
            installation.saleor_api_url,
            installation.app_token,
            installation.app_id,
        )
    observed_at = utcnow()  # before asking: a webhook issued later wins
    try:
        version: str | None = await _ask_saleor(services, api_url, token, app_id)
        refusal = None
    except _Refused as exc:
        version, refusal = None, str(exc)
    except SaleorError as exc:
        # Decides nothing: try again with the worker's backoff, never past the next check.
        delay = backoff_delay(
            job.attempts,
            settings.worker_backoff_base_seconds,
            min(settings.worker_backoff_max_seconds, settings.installation_check_interval_seconds),
        )
        raise RetryLater(
            f"The lifecycle check could not reach Saleor: {exc}", delay, counted=True
        ) from exc

    retry_in: float | None = None
    async with services.db.transaction() as session:
        # Locked: a lifecycle webhook applied meanwhile is seen, never overwritten.
        installation = await InstallationRepository(session).get(
            job.installation_id, for_update=True
        )
        if installation is None or installation.uninstalled_at is not None:
            return
        service = InstallationService(session, settings, services.saleor)
        installation.checked_at = observed_at
        if refusal is None:
            await _accepted(service, installation, version, observed_at, signal)
            await schedule_check(session, settings, installation.id)
            return
        retry_in = await _refused(service, installation, refusal, observed_at, signal)
        if retry_in == UNINSTALLED:
            return
        if retry_in is None:
            grace_end = (installation.token_refused_at or observed_at) + _grace(settings)
            await schedule_check(session, settings, installation.id, at=grace_end)
    if retry_in is not None:
        raise RetryLater(
            f"Saleor refused the app token ({refusal}); confirming with a second check", retry_in
        )


UNINSTALLED = -1.0  # `_refused`'s answer once the installation is uninstalled (erased next)


def _grace(settings: Settings) -> timedelta:
    return timedelta(hours=settings.uninstall_grace_hours)


async def _accepted(
    service: InstallationService,
    installation: Installation,
    version: str | None,
    observed_at: datetime,
    signal: LifecycleSignal,
) -> None:
    if version and version != installation.saleor_version:
        installation.saleor_version = version
    if installation.token_refused_at is not None:
        logger.info("Saleor accepts the app token of %s again", installation.saleor_api_url)
    if installation.token_refused_at is not None and installation.is_active:
        # Refused, then accepted before the confirming check: deactivated briefly (or one
        # refusal by mistake), and Saleor delivered nothing meanwhile: caught up with all the same.
        since = installation.token_accepted_at or installation.token_refused_at
        installation.missed_since = since
        await service.queue_missed(installation, until=observed_at)
    installation.token_refused_at = None
    installation.token_refused_noticed_by = None
    installation.token_accepted_at = observed_at
    if not installation.is_active:
        # Only an active app's token is accepted: the app was activated again.
        await service.set_active(installation, True, observed_at, signal)
    # The app's webhooks as its documents say (`webhook_upkeep`): an upgrade of the app or of
    # Saleor, or a staff member's change there, is caught up with within a check.
    await queue_webhook_upkeep(service.session, installation.id)


async def _refused(
    service: InstallationService,
    installation: Installation,
    refusal: str,
    observed_at: datetime,
    signal: LifecycleSignal,
) -> float | None:
    """Record a refusal. Returns the seconds until the confirming check, None once confirmed
    (paused), or `UNINSTALLED`."""
    settings = service.settings
    confirm = timedelta(seconds=settings.installation_check_confirm_seconds)
    if installation.token_refused_at is None:
        logger.warning(
            "Saleor refused the app token of %s (%s): confirming",
            installation.saleor_api_url,
            refusal,
        )
        installation.token_refused_at = observed_at
        installation.token_refused_noticed_by = signal
        await service.session.flush()
        return max(confirm.total_seconds(), 0.0)
    since = observed_at - installation.token_refused_at
    if since < confirm:  # another check came first: confirm only after the full delay
        return (confirm - since).total_seconds()
    noticed_by = installation.token_refused_noticed_by or signal
    if (
        not installation.is_active
        and installation.status_noticed_by is LifecycleSignal.WEBHOOK
        and noticed_by is not LifecycleSignal.WEBHOOK_LOST
    ):
        # APP_STATUS_CHANGED said deactivated, and a deleted app would have had APP_DELETED:
        # the refusal is explained, nothing is erased. Unless that APP_DELETED may have been
        # lost (`lost_lifecycle`): then the grace runs from when it may have been.
        installation.token_refused_at = observed_at
        return None
    if installation.is_active:
        await service.set_active(installation, False, observed_at, noticed_by)
    if since >= _grace(settings):
        await service.uninstall(installation, noticed_by)
        return UNINSTALLED
    return None


DASHBOARD_CHECK_EVERY = timedelta(minutes=1)


async def dashboard_check(
    services: Services, installation: Installation, token: SecretStr
) -> Installation | None:
    """On a dashboard load (its first call, then at most once a minute), where lifecycle
    webhooks do not arrive, or while a refused token is watched where one may have been lost
    (`lost_lifecycle`): read `app { isActive }` as the dashboard user (whose token works
    whatever the app's state) and pause or resume. Returns the installation as it stands after
    the check; None: it was erased meanwhile.

    Saleor is asked with no transaction open (on SQLite one holds the write lock from its first
    statement, on PostgreSQL the installation's row once written): the check is claimed in a
    short transaction of its own, so concurrent loads ask once, and its outcome is written in
    another."""
    version = parse_version(installation.saleor_version)
    if sends_own_lifecycle_webhooks(version) and installation.token_refused_at is None:
        # Read there too while a refusal is watched (an APP_DELETED may have been lost, and the
        # grace period runs: `lost_lifecycle`): seen deactivated, the app is not deleted.
        return installation
    observed_at = utcnow()
    last = installation.dashboard_checked_at
    if last is not None and observed_at - last < DASHBOARD_CHECK_EVERY:
        return installation
    async with services.db.transaction() as session:
        claimed = await InstallationRepository(session).claim_dashboard_check(
            installation.id, observed_at, DASHBOARD_CHECK_EVERY
        )
    if not claimed:  # another load checks (or checked) within the minute, or it was erased
        async with services.db.session() as session:
            return await session.get(Installation, installation.id)
    try:
        data = await services.saleor.execute(
            installation.saleor_api_url,
            token,
            "app_status",
            {"id": installation.app_id},
            notify_refusal=False,
        )
    except SaleorError as exc:
        logger.info("Reading the app's state for the dashboard failed: %s", exc)
        return installation
    async with services.db.transaction() as session:
        # Locked: a lifecycle webhook or check applied meanwhile is seen, never overwritten.
        current = await InstallationRepository(session).get(installation.id, for_update=True)
        if current is None:  # erased meanwhile
            return None
        await _apply_dashboard_view(session, services, current, data.get("app"), observed_at)
    return current


async def _apply_dashboard_view(
    session: AsyncSession,
    services: Services,
    installation: Installation,
    app: dict[str, object] | None,
    observed_at: datetime,
) -> None:
    """Pause or resume as the dashboard user sees the app (`app { isActive }`)."""
    service = InstallationService(session, services.settings, services.saleor)
    if app is None:  # deleted (or not visible to this user): the token check decides
        await schedule_check(
            session, services.settings, installation.id, soon=True, signal=LifecycleSignal.DASHBOARD
        )
        return
    active = bool(app.get("isActive"))
    if not active and installation.token_refused_at is not None:
        # Deactivated, not deleted: the grace period before erasing starts again.
        installation.token_refused_at = observed_at
        installation.token_refused_noticed_by = LifecycleSignal.DASHBOARD
    if active != installation.is_active:
        await service.set_active(installation, active, observed_at, LifecycleSignal.DASHBOARD)
        if active:  # the token should work again: let a check confirm it now
            await schedule_check(
                session,
                services.settings,
                installation.id,
                soon=True,
                signal=LifecycleSignal.DASHBOARD,
            )


def watch_saleor_calls(services: Services) -> None:
    """A refused Saleor call the app made with its token queues a check of its installation
    now (calls with a dashboard user's or a customer's token say nothing about the app)."""

    async def refused(saleor_api_url: str, token: SecretStr) -> None:
        async with services.db.transaction() as session:
            installation = await InstallationRepository(session).get_by_api_url(saleor_api_url)
            if installation is not None and secrets.compare_digest(
                installation.app_token.get_secret_value(), token.get_secret_value()
            ):
                await schedule_check(
                    session,
                    services.settings,
                    installation.id,
                    soon=True,
                    signal=LifecycleSignal.SALEOR_CALL,
                )

    services.saleor.on_refused(refused)


def register(registry: HandlerRegistry) -> None:
    registry.register(CHECK_KIND, check_job, payload=CheckPayload)
