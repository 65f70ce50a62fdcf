"""A Saleor refusal while the app's token is in doubt: waited out, never counted as a failure.

Saleor refuses every call of a deactivated (or deleted) app's token with PermissionDenied, as it
refuses a call the app lacks the permission for (`lifecycle.py`). Before Saleor 3.23.5 nothing
else tells the app of a deactivation: the lifecycle check notices the refusal and pauses the
installation `INSTALLATION_CHECK_CONFIRM_SECONDS` later. Until then the store's jobs keep
running into refusals: counted as failures, they were quarantined (pushes) or ended an initial
sync as failed within that minute, and a write-back took the refusal for a missing permission
and gave up for good.

So a refusal is a missing permission only while Saleor accepts the app's token. The worker asks
here about every failure (`defer_refusal`, plugged in by the composition root through
`HandlerRegistry.defer_failures`); a handler that catches the refusal itself asks
`wait_if_token_in_doubt`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from addon.db.types import utcnow
from addon.installations.checks import schedule_check
from addon.installations.lifecycle import token_accepted
from addon.installations.models import LifecycleSignal
from addon.installations.repository import InstallationRepository
from addon.jobs.models import HOUSEKEEPING_KINDS
from addon.jobs.retry import error_text
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.saleor.client import SaleorError, SaleorPermissionDenied

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)

# How soon a job looks again once the confirming check is due but has not run yet.
RECHECK_SECONDS = 5.0


async def token_in_doubt(services: Services, installation_id: int) -> float | None:
    """Seconds until a call Saleor refused is worth trying again, while the refusal may be the
    app's deactivation or removal; None: Saleor accepts the app's token (the refusal is a
    missing permission), or cannot tell now (an outage: a failure as any other)."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None:
        return None
    confirm = services.settings.installation_check_confirm_seconds
    if not installation.is_active or installation.uninstalled_at is not None:
        # Paused (or erased next): its jobs are not claimed until it resumes.
        return max(confirm, RECHECK_SECONDS)
    if installation.token_refused_at is not None:
        # A check saw the token refused: the next one, when due, pauses or clears it.
        confirmed_at = installation.token_refused_at + timedelta(seconds=confirm)
        return max((confirmed_at - utcnow()).total_seconds(), RECHECK_SECONDS)
    # No check since the refusal yet: ask now.
    try:
        if await token_accepted(services, installation):
            return None
    except SaleorError as exc:
        logger.info("Saleor could not say whether it accepts the app token: %s", exc)
        return None
    # Refused: a check settles it. The refusal queued one (`watch_saleor_calls`), unless its
    # call kept quiet (`notify_refusal=False`: a read whose refusal is a known missing
    # permission, the vouchers'); then none would, and this would wait for the hourly one.
    async with services.db.transaction() as session:
        await schedule_check(
            session,
            services.settings,
            installation_id,
            soon=True,
            signal=LifecycleSignal.SALEOR_CALL,
        )
    return max(confirm, RECHECK_SECONDS)


def _refusal(error: BaseException) -> SaleorPermissionDenied | None:
    """Saleor's refusal that caused `error` (itself, or what it was raised from)."""
    seen: BaseException | None = error
    for _ in range(10):  # a chain of causes is short (and could loop)
        if seen is None or isinstance(seen, SaleorPermissionDenied):
            return seen
        seen = seen.__cause__
    return None


def _waiting(refusal: BaseException, seconds: float) -> RetryLater:
    return RetryLater(
        f"Saleor refused the app's token ({error_text(refusal, limit=500)}): waiting for the "
        "lifecycle check to tell a deactivated app from a missing permission",
        seconds,
    )


async def wait_if_token_in_doubt(
    services: Services, installation_id: int, refusal: SaleorPermissionDenied
) -> None:
    """Raise `RetryLater` (uncounted) while the app's token is in doubt (`token_in_doubt`);
    return when the refusal is a missing permission."""
    seconds = await token_in_doubt(services, installation_id)
    if seconds is not None:
        raise _waiting(refusal, seconds) from refusal


async def defer_refusal(
    job: ClaimedJob, error: BaseException, services: Services
) -> RetryLater | None:
    """The worker's look at a failed job (`HandlerRegistry.defer_failures`): a Saleor refusal
    while the app's token is in doubt waits, uncounted; any other failure is the kind's. Not a
    housekeeping job's: those run while processing is paused (a wait would come round again
    for good), and the lifecycle check among them is what settles the doubt."""
    refusal = _refusal(error)
    if refusal is None or job.kind in HOUSEKEEPING_KINDS:
        return None
    seconds = await token_in_doubt(services, job.installation_id)
    return None if seconds is None else _waiting(refusal, seconds)
