"""A pause APP_STATUS_CHANGED told of, put in doubt when an APP_DELETED may have been lost.

Saleor refuses a deactivated app's token exactly as a deleted one's. Once APP_STATUS_CHANGED
said "deactivated" (Saleor 3.23.5+), the lifecycle check takes a refusal for that deactivation
and never erases (`lifecycle._refused`): a deletion would come as APP_DELETED. That holds only
while the app could receive it; Saleor retries a delivery for about five minutes, then drops it
for good. So when one may have been dropped — every web process down longer than that
(`outage.py`), or an APP_DELETED about the app answered 5xx because Saleor could not be asked to
confirm it (`webhooks.py`) — the refusal is no longer the deactivation's alone: from then on, a
refusal lasting `UNINSTALL_GRACE_HOURS` is taken for the uninstall, as where Saleor sends no
lifecycle webhooks. Once: a later doubt does not restart the grace. An activation ends it, and
so does a dashboard load seeing the app deactivated (not deleted: `lifecycle.dashboard_check`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.models import Installation, LifecycleSignal


async def doubt_told_pauses(
    session: AsyncSession, *, since: datetime, installation_id: int | None = None
) -> None:
    """Put in doubt, from `since`, the pauses APP_STATUS_CHANGED told of: every installation's,
    or `installation_id`'s."""
    statement = (
        update(Installation)
        .where(
            Installation.uninstalled_at.is_(None),
            Installation.is_active.is_(False),
            Installation.status_noticed_by == LifecycleSignal.WEBHOOK,
            or_(
                Installation.token_refused_noticed_by.is_(None),
                Installation.token_refused_noticed_by != LifecycleSignal.WEBHOOK_LOST,
            ),
        )
        .values(token_refused_at=since, token_refused_noticed_by=LifecycleSignal.WEBHOOK_LOST)
        .execution_options(synchronize_session=False)
    )
    if installation_id is not None:
        statement = statement.where(Installation.id == installation_id)
    await session.execute(statement)
