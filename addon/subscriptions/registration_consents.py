"""A registration's consent applied in full once the account is confirmed, however the app
learns of the confirmation.

Every user is created unconfirmed, so CUSTOMER_CREATED applies a registration's consent only in
part (`consent.py`); the confirmation applies it in full. `confirmAccount` sends ACCOUNT_CONFIRMED
(saleor/graphql/account/mutations/account/confirm_account.py), but staff confirming the account
(`customerUpdate(input: {isConfirmed: true})`) send CUSTOMER_UPDATED alone (saleor/graphql/
account/mutations/staff/customer_update.py `generate_events`, 3.20.119 and main), and the
catch-up replays a confirmation it missed as CUSTOMER_UPDATED (`addon/installations/replay.py`):
both reach `consent.handle_customer_updated` (webhooks/subscriptions_customer_updated).

Each consent the app saw is a `RegistrationConsent`: recorded when applied in part, marked when
applied in full, in the transaction that applies it. A CUSTOMER_UPDATED applies one only while
one of the customer's awaits (an account registered before this record, or whose consent was
applied in full, is left as it is); the mark makes every later delivery of the confirmation (a
retry, a duplicate, the other event, in either order) apply nothing.
"""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import ColumnElement, and_, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.subscriptions.metadata import Consent
from addon.subscriptions.models import RegistrationConsent


def consent_digest(consent: Consent) -> str:
    """What identifies one consent of a customer: the values it consents to (in any order).
    The same values read again (a retry, a duplicate, a replay) are the same consent; values the
    storefront writes later are a new one."""

    def ids(values: list[str] | None) -> list[str] | None:
        return None if values is None else sorted(set(values))

    values = {
        "audiences": ids(consent.audiences),
        "groups": ids(consent.groups),  # None (no key) keeps the groups: not [] (none)
        "permissions": ids(consent.permissions),
    }
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def _of(installation_id: int, user_id: str) -> ColumnElement[bool]:
    return and_(
        RegistrationConsent.installation_id == installation_id,
        RegistrationConsent.saleor_user_id == user_id,
    )


async def awaits_confirmation(session: AsyncSession, installation_id: int, user_id: str) -> bool:
    """Whether a registration consent of the customer was applied only in part (or not at all,
    the app then not connected) and not yet in full."""
    pending = select(RegistrationConsent.id).where(
        _of(installation_id, user_id), RegistrationConsent.applied_at.is_(None)
    )
    return bool(await session.scalar(select(exists(pending))))


async def record_in_part(
    session: AsyncSession, installation_id: int, user_id: str, consent: Consent
) -> None:
    """The consent, read while the account is unconfirmed, awaits its confirmation (nothing
    changes for one recorded already, awaiting or applied)."""
    await session.execute(
        insert_for(session.get_bind().dialect.name, RegistrationConsent)
        .values(
            installation_id=installation_id,
            saleor_user_id=user_id,
            consent_digest=consent_digest(consent),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=["installation_id", "saleor_user_id", "consent_digest"]
        )
    )


async def claim_in_full(
    session: AsyncSession, installation_id: int, user_id: str, consent: Consent
) -> bool:
    """Mark the consent applied in full, in the transaction applying it: False when it was
    already. A transaction marking it at the same time holds the row (the update's lock, the
    unique key's for the insert) until it commits, then this one finds it marked; one rolled
    back leaves it to this one."""
    now, digest = utcnow(), consent_digest(consent)
    mark = (
        update(RegistrationConsent)
        .where(
            _of(installation_id, user_id),
            RegistrationConsent.consent_digest == digest,
            RegistrationConsent.applied_at.is_(None),
        )
        .values(applied_at=now)
        .returning(RegistrationConsent.id)
    )
    if (await session.execute(mark)).scalar() is None:
        inserted = await session.execute(
            insert_for(session.get_bind().dialect.name, RegistrationConsent)
            .values(
                installation_id=installation_id,
                saleor_user_id=user_id,
                consent_digest=digest,
                applied_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=["installation_id", "saleor_user_id", "consent_digest"]
            )
            .returning(RegistrationConsent.id)
        )
        # Nothing inserted: the row exists. Either it is marked already, or it was recorded
        # awaiting by a transaction that committed after this one's first look (the creation's
        # job, racing the confirmation's: PostgreSQL's update did not see it, the insert waited
        # on its key). A new statement sees it now (READ COMMITTED): marked here, unless it was.
        if inserted.scalar() is None and (await session.execute(mark)).scalar() is None:
            return False  # applied in full already
    # Other values awaiting are superseded: the consent as Saleor holds it now is the one applied.
    await session.execute(
        delete(RegistrationConsent).where(
            _of(installation_id, user_id), RegistrationConsent.applied_at.is_(None)
        )
    )
    return True
