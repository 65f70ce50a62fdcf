"""A registration's creation and its confirmation handled at the same moment (PostgreSQL, two
workers): the confirmation's claim did not see the creation's uncommitted record, its insert
waited on the record's key, then inserted nothing, and the claim took the consent for applied
in full already: the confirmation applied nothing, the record stayed awaiting. (SQLite runs one
writer at a time.)"""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from sqlalchemy import func, select, text

from addon.services import Services
from addon.subscriptions.metadata import Consent
from addon.subscriptions.models import RegistrationConsent
from addon.subscriptions.registration_consents import claim_in_full, record_in_part
from tests.factories import make_installation
from tests.transactions_at_once import BLOCKED_BY
from tests.worker_process import until

USER = "VXNlcjox"


async def _blocked_by(services: Services, pid: int) -> bool:
    """Whether a transaction waits on a lock the one of backend `pid` holds (only this test's:
    a lock wait anywhere else on the server, another test's, says nothing of this race)."""
    async with services.db.session() as session:
        return bool(await session.scalar(BLOCKED_BY, {"pid": pid}))


async def test_a_confirmation_racing_the_creation_applies_the_consent(services: Services) -> None:
    if services.db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises the two transactions")
    installation_id = await make_installation(services)
    consent = Consent(subscribe=True, groups=["g1"])
    recorded = asyncio.Event()
    claimed: list[bool] = []

    async def created() -> None:  # CUSTOMER_CREATED's job: the account still unconfirmed
        async with services.db.transaction() as session:
            await record_in_part(session, installation_id, USER, consent)
            await session.flush()
            pid = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
            recorded.set()
            # Commits only once the confirmation's insert waits on the record's key.
            await until(
                partial(_blocked_by, services, pid), "the confirmation to wait on the record"
            )

    async def confirmed() -> None:  # ACCOUNT_CONFIRMED's job, at the same moment
        await recorded.wait()
        async with services.db.transaction() as session:
            claimed.append(await claim_in_full(session, installation_id, USER, consent))

    await asyncio.gather(created(), confirmed())
    async with services.db.session() as session:
        awaiting = await session.scalar(
            select(func.count())
            .select_from(RegistrationConsent)
            .where(RegistrationConsent.applied_at.is_(None))
        )
    assert (claimed, awaiting) == ([True], 0)
