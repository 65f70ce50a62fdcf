"""Install, pause, resume and erase installations (signing keys: see signing_keys)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.db.types import utcnow
from addon.errors import (
    AppError,
    Conflict,
    ErrorCode,
    Forbidden,
    Unauthorized,
    UpstreamUnavailable,
)
from addon.installations.checks import schedule_check
from addon.installations.delivery_key import new_key
from addon.installations.missed_queue import MARGIN, Missed, delivered_creations, queue_missed
from addon.installations.models import (
    Installation,
    InstallationErasure,
    LifecycleSignal,
    MailchimpCleanup,
)
from addon.installations.repository import InstallationRepository
from addon.installations.schemas import Farewell
from addon.installations.token_refusal import refused_token
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.saleor.client import (
    SaleorClient,
    SaleorPermissionDenied,
    SaleorQueryError,
    SaleorUnavailable,
    saleor_domain,
)
from addon.saleor.manifest import app_identifier, is_this_app
from addon.saleor.schemas import AppLifecycleEvent

logger = logging.getLogger(__name__)


# Keeping the installation's webhooks as the app's documents say (`webhook_upkeep`): asked for
# at installation, and by a lifecycle check that finds the Saleor version or the documents
# changed since the last run. The payload is empty (the job reads the installation).
WEBHOOK_UPKEEP = "installation.webhooks"
# The kind versions before the upkeep queued for the same purpose (only the CUSTOMER_DELETED
# registration then): still handled, for jobs queued before an upgrade.
SALEOR_VERSION_KNOWN = "installation.saleor_version_known"
# An uninstalled installation's last job: Mailchimp cleaned up, then the erasure (`uninstall`).
UNINSTALL_JOB = "installation.uninstall"
# A customer's erasure waiting when the app is uninstalled (GDPR: a deletion the shopper asked
# for, or one staff were told "will be erased in a moment"): kept by the uninstall, whose last
# job carries it out before the farewell (`uninstall.py`). The erasure capability's kinds (it
# builds on this package): its erasure job and the deletion webhooks that queue one.
ERASURE_KINDS = (
    "erasure.erase",
    webhook_job_kind("erasure-account-deleted"),
    webhook_job_kind("erasure-customer-deleted"),
)


async def queue_webhook_upkeep(session: AsyncSession, installation_id: int) -> None:
    # One at a time per installation (a lane): two at once could both create a webhook.
    await JobRepository(session).enqueue(
        installation_id, WEBHOOK_UPKEEP, {}, coalesce_key=WEBHOOK_UPKEEP, lane=WEBHOOK_UPKEEP
    )


# A row another app of the same Saleor registered this recently is a rival registration's
# (two at once: both apps are live), not an old app's whose end went unnoticed.
RIVAL = timedelta(minutes=1)


def _deliveries_stopped(
    installation: Installation, observed_at: datetime, noticed_by: LifecycleSignal
) -> datetime:
    """Since when Saleor may have delivered nothing: the deactivation itself when its webhook
    told (`issuedAt`); otherwise the last time the app knew its token accepted, since a check, a
    refused call or the dashboard notices a deactivation only some time after it."""
    if noticed_by is LifecycleSignal.WEBHOOK:
        return observed_at
    known_active = installation.token_accepted_at or installation.installed_at
    return min(known_active, observed_at)


class InstallationService:
    def __init__(self, session: AsyncSession, settings: Settings, saleor: SaleorClient) -> None:
        self.session = session
        self.settings = settings
        self.saleor = saleor
        self.repository = InstallationRepository(session)

    def ensure_allowed(self, saleor_api_url: str) -> None:
        if not self.settings.is_saleor_url_allowed(saleor_api_url):
            raise Forbidden(
                f"This app does not accept installations from {saleor_api_url}. "
                "Ask its operator to add the URL to ALLOWED_SALEOR_URLS.",
                code=ErrorCode.SALEOR_URL_PROHIBITED,
            )

    async def register(
        self, saleor_api_url: str, domain: str | None, auth_token: str
    ) -> Installation:
        """Saleor's `tokenTargetUrl` flow. Nothing goes out before the allow-list check."""
        self.ensure_allowed(saleor_api_url)
        token = SecretStr(auth_token)
        try:
            data = await self.saleor.execute(
                saleor_api_url, token, "installation_check", notify_refusal=False
            )
        except SaleorPermissionDenied as exc:
            raise refused_token(auth_token, exc) from exc
        except SaleorQueryError as exc:
            raise Unauthorized(
                f"Saleor did not accept the app token: {exc}", code=ErrorCode.INVALID_APP_TOKEN
            ) from exc
        except SaleorUnavailable as exc:
            raise UpstreamUnavailable(str(exc), code=ErrorCode.SALEOR_UNREACHABLE) from exc
        app = data.get("app") or {}
        app_id = app.get("id")
        if not app_id:
            raise Unauthorized(
                "Saleor did not confirm the app token ({ app { id } } returned nothing).",
                code=ErrorCode.INVALID_APP_TOKEN,
            )
        if not is_this_app(app.get("identifier")):
            # Any app's token passes the check: another app of the store (a third party's) must
            # not take this one's installation, its dashboard and its Mailchimp connection.
            raise Forbidden(
                f"The token is another app's ({app.get('identifier')!r}), not this app's "
                f"({app_identifier()!r}).",
                code=ErrorCode.ANOTHER_APPS_TOKEN,
            )
        checked = await self._replaceable(saleor_api_url, app_id)
        try:
            jwks = await self.saleor.fetch_jwks(saleor_api_url)
        except SaleorUnavailable as exc:
            raise UpstreamUnavailable(str(exc), code=ErrorCode.JWKS_UNAVAILABLE) from exc

        now = utcnow()
        registration: dict[str, Any] = {  # this registration's own (a new row is made of them)
            "saleor_api_url": saleor_api_url,
            "saleor_domain": domain or saleor_domain(saleor_api_url),
            "app_id": app_id,
            "app_token": token,
            "jwks": jwks.as_dict(),
            "jwks_fetched_at": now,
            "is_active": True,
            "token_accepted_at": now,
            "saleor_version": (data.get("shop") or {}).get("version"),
            "checked_at": now,
            # A new app in Saleor has the manifest's webhooks only: nothing is known of them.
            "webhooks_digest": None,
            "webhooks_checked_at": None,
            "webhooks_paused": None,
            # A key of its own for the lifecycle webhooks, in place once the upkeep put it there.
            "webhook_key": new_key(),
            "webhook_key_confirmed_at": None,
            "webhooks_key_blocked": None,
        }
        # Got or inserted, and locked while this registration writes it: a second registration
        # of the same Saleor at once waits for the first to commit, then overwrites its row
        # (before, it inserted one too and failed on the unique saleor_api_url: a 500).
        installation = await self.repository.get_locked_or_insert(registration)
        if installation.app_id not in (app_id, checked) and installation.uninstalled_at is None:
            # Another app's registration came first meanwhile: its token was not proven gone.
            raise Conflict(
                "Another installation of the app registered this Saleor meanwhile.",
                code=ErrorCode.INSTALLATION_IN_USE,
            )
        if installation.uninstalled_at is not None:
            # Installed again before the last one's erasure: that one goes now, Mailchimp's
            # cleanup left to the new installation (its carts may be this one's own soon), and
            # so are the customers' erasures it had still to carry out.
            erasures = await self._take_erasures(installation.id)
            await self.erase(installation, Farewell(cleanup=MailchimpCleanup.REINSTALLED))
            installation = await self.repository.get_locked_or_insert(registration)
            self.session.add_all(
                Job(installation_id=installation.id, **erasure) for erasure in erasures
            )
        # A re-install (or the registration that won the race) is replaced by this one: its
        # credentials, and the installation reactivated. A pause it ends is caught up with, and
        # so is the gap before a new app of the same Saleor whose old one's end went unnoticed.
        replaced = installation.app_id != app_id and now - installation.installed_at > RIVAL
        if replaced and installation.missed_since is None:
            installation.missed_since = installation.token_accepted_at
        await self.queue_missed(installation, until=now)
        for column, value in registration.items():
            setattr(installation, column, value)
        installation.status_changed_at = None
        installation.status_noticed_by = None
        installation.token_refused_at = None
        installation.token_refused_noticed_by = None
        await self.session.flush()
        await schedule_check(self.session, self.settings, installation.id)
        await queue_webhook_upkeep(self.session, installation.id)
        logger.info(
            "Installed for %s (app %s, Saleor %s)",
            saleor_api_url,
            app_id,
            installation.saleor_version,
        )
        return installation

    async def _take_erasures(self, installation_id: int) -> list[dict[str, Any]]:
        """The customers' erasures an uninstalled installation still waits to carry out
        (`ERASURE_KINDS`), taken from it as they stand (their age too: an erasure's deadline
        counts from when it was asked), for the installation that replaces it."""
        jobs = list(
            await self.session.scalars(
                select(Job)
                .where(
                    Job.installation_id == installation_id,
                    Job.status == JobStatus.PENDING,
                    Job.kind.in_(ERASURE_KINDS),
                )
                .order_by(Job.id)
            )
        )
        # Run at once in the new installation (its Mailchimp may answer now), not at the wait
        # the old one's last try set.
        kept = ("kind", "payload", "dedupe_key", "coalesce_key", "lane", "attempts", "created_at")
        taken = [{column: getattr(job, column) for column in kept} for job in jobs]
        for job in jobs:
            await self.session.delete(job)
        await self.session.flush()
        return taken

    async def _replaceable(self, saleor_api_url: str, app_id: str) -> str | None:
        """The app id of the installation this registration may replace (None: there is none).
        One of another app (a re-install whose old app's deletion went unnoticed) is replaced
        only once Saleor refuses its token: while that app is installed and active, a second
        app of the same identifier (Saleor before 3.20.1 allowed one) does not take it over."""
        found = await self.repository.get_by_api_url(saleor_api_url)
        if found is None or found.uninstalled_at is not None or found.app_id == app_id:
            return found.app_id if found is not None else None
        try:
            data = await self.saleor.execute(
                saleor_api_url, found.app_token, "installation_check", notify_refusal=False
            )
        except SaleorQueryError:
            return found.app_id  # refused: that app is gone (or deactivated)
        except SaleorUnavailable as exc:
            raise UpstreamUnavailable(str(exc), code=ErrorCode.SALEOR_UNREACHABLE) from exc
        if (data.get("app") or {}).get("id") == found.app_id:
            raise Conflict(
                "Another installation of the app is active in this Saleor: uninstall it first.",
                code=ErrorCode.INSTALLATION_IN_USE,
            )
        return found.app_id

    async def apply_status_change(
        self, installation: Installation, event: AppLifecycleEvent
    ) -> bool:
        """Pause or resume processing. Returns False for a stale (older) delivery."""
        if event.app is None or event.app.is_active is None:
            raise AppError(
                "APP_STATUS_CHANGED without app.isActive", code=ErrorCode.INVALID_PAYLOAD
            )
        return await self.set_active(
            installation,
            event.app.is_active,
            event.issued_at or utcnow(),
            LifecycleSignal.WEBHOOK,
        )

    async def set_active(
        self,
        installation: Installation,
        active: bool,
        observed_at: datetime,
        noticed_by: LifecycleSignal,
    ) -> bool:
        """Pause or resume processing, however it was noticed (the webhook, a check, the
        dashboard). Returns False when something newer was applied already, or the app was
        uninstalled (a late APP_STATUS_CHANGED does not bring it back)."""
        if installation.uninstalled_at is not None:
            return False
        if installation.status_changed_at and observed_at <= installation.status_changed_at:
            logger.info(
                "Ignored an older status change (%s) for %s",
                noticed_by.value,
                installation.saleor_api_url,
            )
            return False
        was_active = installation.is_active
        installation.is_active = active
        installation.status_changed_at = observed_at
        installation.status_noticed_by = noticed_by
        if was_active and not active and installation.missed_since is None:
            since = _deliveries_stopped(installation, observed_at, noticed_by)
            installation.missed_since = since
            delivered = await delivered_creations(self.session, installation.id, since - MARGIN)
            installation.missed_creations = [list(creation) for creation in sorted(delivered)]
        elif active:
            # Active again: Saleor accepts the token (a refusal it answered before is over).
            installation.token_accepted_at = observed_at
            installation.token_refused_at = None
            installation.token_refused_noticed_by = None
            if not was_active:
                # Saleor delivered nothing while the app was inactive: replayed from its state.
                await self.queue_missed(installation, until=observed_at)
        await self.session.flush()
        state = "resumed" if installation.is_active else "paused"
        logger.info(
            "Processing %s for %s (noticed by %s)",
            state,
            installation.saleor_api_url,
            noticed_by.value,
        )
        return True

    async def queue_missed(self, installation: Installation, *, until: datetime) -> None:
        """The catch-up of a pause that ended (`missed.py`), if one was recorded."""
        if installation.missed_since is None:
            return
        delivered = [(event, id_) for event, id_ in installation.missed_creations or ()]
        missed = Missed(since=installation.missed_since, until=until, delivered=delivered)
        await queue_missed(self.session, installation.id, missed)
        installation.missed_since = None
        installation.missed_creations = None

    async def uninstall(self, installation: Installation, noticed_by: LifecycleSignal) -> None:
        """Uninstalled (APP_DELETED, or noticed without it): processing stops at once, the
        installation's waiting work is dropped but for its customers' erasures, and its last job
        (`UNINSTALL_JOB`) carries those out, cleans up in Mailchimp, then erases it. It is
        unknown to every request meanwhile."""
        if installation.uninstalled_at is not None:
            return
        installation.uninstalled_at = utcnow()
        installation.uninstall_noticed_by = noticed_by
        installation.is_active = False
        # Running jobs end by themselves (the cleanup waits for them); none is taken again.
        await self.session.execute(
            delete(Job).where(
                Job.installation_id == installation.id,
                Job.status == JobStatus.PENDING,
                Job.kind.not_in(ERASURE_KINDS),
            )
        )
        await JobRepository(self.session).enqueue(
            installation.id, UNINSTALL_JOB, {}, coalesce_key=UNINSTALL_JOB, lane=UNINSTALL_JOB
        )
        await self.session.flush()
        logger.info(
            "Uninstalled (noticed by %s): %s is erased once Mailchimp is cleaned up",
            noticed_by.value,
            installation.saleor_api_url,
        )

    async def erase(self, installation: Installation, farewell: Farewell) -> None:
        """Remove the installation with all its data and secrets, and record the erasure with
        what its uninstall removed from Mailchimp first."""
        url = installation.saleor_api_url
        noticed_by = installation.uninstall_noticed_by or LifecycleSignal.WEBHOOK
        dropped = await self.session.scalar(
            select(func.count(Job.id)).where(
                Job.installation_id == installation.id,
                Job.status == JobStatus.PENDING,
                Job.kind.in_(ERASURE_KINDS),
            )
        )
        if dropped:
            # Installed again before the last job ran them, or it gave up on Mailchimp.
            logger.warning("%s customer erasure(s) of %s were not carried out", dropped, url)
        self.session.add(
            InstallationErasure(
                saleor_api_url=url,
                app_id=installation.app_id,
                noticed_by=noticed_by,
                token_refused_at=installation.token_refused_at,
                erased_at=utcnow(),
                mailchimp_cleanup=farewell.cleanup,
                carts_deleted=farewell.carts_deleted,
                webhooks_deleted=farewell.webhooks_deleted,
            )
        )
        await self.repository.delete(installation)
        await self.session.flush()
        logger.info(
            "Erased all data of %s (uninstall noticed by %s; Mailchimp: %s)",
            url,
            noticed_by.value,
            farewell.cleanup.value,
        )
