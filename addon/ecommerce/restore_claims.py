"""One first exchange at a time per cart: a restore link's first exchange claims the cart before
making its copy (`restore.restore`), so a second exchange at the same moment (a double click, two
tabs, a mail scanner opening the link as the shopper does) makes no second copy, which would be
a second cart, and a second series of abandoned-cart e-mails, in Mailchimp. It is answered
`409 RESTORE_IN_PROGRESS` with `Retry-After`, and then gets the copy made.

A claim is deleted when its exchange ends, recorded or failed; one left by a process that died
mid-exchange expires after `CLAIM_SECONDS`, and the next exchange takes it over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from addon.db.types import utcnow
from addon.ecommerce.cart_models import RestoreClaim
from addon.errors import Conflict, ErrorCode
from addon.services import Services

# Far above what a first exchange takes: a read, a few `checkoutCreate`s (lines Saleor refuses
# are left out one round at a time) and a metadata write, each bounded by the Saleor client's
# timeout.
CLAIM_SECONDS = 120
RETRY_AFTER_SECONDS = 1


class RestoreInProgress(Conflict):
    code = ErrorCode.RESTORE_IN_PROGRESS

    def __init__(self) -> None:
        super().__init__(
            "This cart is being restored by another request right now; try again in a moment."
        )

    @property
    def headers(self) -> dict[str, str]:  # answered by the app's handler (`addon.app`)
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


async def claim(services: Services, installation_id: int, checkout_id: str) -> datetime:
    """Claim the cart for this exchange; its date, which `release` names. Raises
    `RestoreInProgress` while another exchange's claim holds."""
    now = utcnow()
    query = RestoreClaim.of_installation(installation_id).where(
        RestoreClaim.checkout_id == checkout_id
    )
    try:
        async with services.db.transaction() as session:
            held = await session.scalar(query)
            if held is None:
                session.add(
                    RestoreClaim(
                        installation_id=installation_id, checkout_id=checkout_id, claimed_at=now
                    )
                )
            elif held.claimed_at > now - timedelta(seconds=CLAIM_SECONDS):
                raise RestoreInProgress()
            else:  # expired: taken over by one exchange only (the date read is the condition)
                taken = await session.execute(
                    update(RestoreClaim)
                    .where(RestoreClaim.id == held.id, RestoreClaim.claimed_at == held.claimed_at)
                    .values(claimed_at=now)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    raise RestoreInProgress()
    except IntegrityError:  # another exchange's claim, inserted meanwhile
        raise RestoreInProgress() from None
    return now


async def release(
    services: Services, installation_id: int, checkout_id: str, claimed_at: datetime
) -> None:
    """End this exchange's claim (not one that took it over after it expired)."""
    async with services.db.transaction() as session:
        await session.execute(
            delete(RestoreClaim).where(
                RestoreClaim.installation_id == installation_id,
                RestoreClaim.checkout_id == checkout_id,
                RestoreClaim.claimed_at == claimed_at,
            )
        )
