"""A reset while another admin connects a different account (PostgreSQL; SQLite's writers
take turns): the reset waits for that save and resets what it saved.

Before, the reset read the connection unlocked: it saw account A, waited for the save to B at
its write, then recorded A as the account whose data it forgot. Connecting B again later
counted the erasures and unsubscribes owed to B as owed to another account (refused with
OWED_TO_PREVIOUS_ACCOUNT, or ended not done once the admin confirmed)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.models import ConnectionMethod, ConnectionStatus
from addon.connection.schemas import ResetResult
from addon.connection.service import ConnectionService
from addon.installations.models import Installation
from addon.services import Services
from tests.factories import make_installation
from tests.test_connection_saves_at_once import ACCOUNTS, connection, saving
from tests.transactions_at_once import second_runs_into_first


async def test_a_reset_forgetting_the_data_while_another_account_connects_forgets_that_one(
    services: Services,
) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        await saving(services, installation, ConnectionMethod.API_KEY, "A")(session)
    to_b = saving(services, installation, ConnectionMethod.OAUTH_LOGIN, "B")

    async def reset(session: AsyncSession) -> ResetResult:
        row = await session.get(Installation, installation)
        assert row is not None
        return await ConnectionService(session, services).reset(row, forget_account_data_too=True)

    await second_runs_into_first(services, to_b, reset)

    row = await connection(services, installation)
    assert row.status is ConnectionStatus.DISCONNECTED and row.credential is None
    assert row.account_id is None
    assert row.forgotten_account_id == ACCOUNTS["B"].account_id
