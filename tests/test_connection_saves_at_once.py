"""Two saves of an installation's Mailchimp connection at once (an API key saved while an OAuth
callback lands, a form sent twice) take turns: the second waits for the first to commit, then
decides its continuity on the first's account (PostgreSQL; SQLite's writers take turns).

Before, the first connection's second save inserted the row too and failed on its key once the
first committed (an IntegrityError, a 500); and with a row already there, both decided on it as
it was, so a save to account A could report RESUMED (keeping nothing: the save to B running at
the same time had forgotten A's data) and leave A connected without its data. Each test holds
the first save's transaction open, lets the second run into it (`tests.transactions_at_once`:
no sleep), commits the first, and reads what the second answered and what was left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.linking import Linking
from addon.connection.models import ConnectionMethod, ConnectionStatus, MailchimpConnection
from addon.connection.schemas import ConnectResult, Continuity
from addon.connection.service import ConnectionService
from addon.installations.models import Installation
from addon.mailchimp import Account, MailchimpCredentials
from addon.services import Services
from tests.factories import make_installation
from tests.transactions_at_once import second_runs_into_first

ACCOUNTS = {
    "A": Account(account_id="account-a", account_name="Shop A", email="a@a.example", role="owner"),
    "B": Account(account_id="account-b", account_name="Shop B", email="b@b.example", role="owner"),
}
Save = Callable[[AsyncSession], Awaitable[ConnectResult]]


@pytest.fixture(autouse=True)
def postgresql_only(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")


def saving(services: Services, installation_id: int, method: ConnectionMethod, name: str) -> Save:
    """A save of account `name` by `method`, as the API key's and the OAuth callback's paths
    end (Mailchimp verified the credentials already)."""
    credentials = (
        MailchimpCredentials.from_api_key(name.lower() * 32 + "-us21")
        if method is ConnectionMethod.API_KEY
        else MailchimpCredentials.from_oauth_token(f"token-{name}", "us21")
    )

    async def save(session: AsyncSession) -> ConnectResult:
        installation = await session.get(Installation, installation_id)
        assert installation is not None
        linking = Linking(session, services)
        return await linking.save(installation, method, credentials, ACCOUNTS[name])

    return save


async def connection(services: Services, installation_id: int) -> MailchimpConnection:
    async with services.db.session() as session:
        rows = select(func.count()).select_from(MailchimpConnection)
        assert await session.scalar(rows) == 1
        row = await session.get(MailchimpConnection, installation_id)
        assert row is not None
        return row


@pytest.mark.parametrize(
    ("second_account", "continuity"),
    [("A", Continuity.RESUMED), ("B", Continuity.STARTED_CLEAN)],
)
async def test_the_first_connection_saved_twice_at_once_makes_one_row(
    services: Services, second_account: str, continuity: Continuity
) -> None:
    installation = await make_installation(services)
    first = saving(services, installation, ConnectionMethod.API_KEY, "A")
    second = saving(services, installation, ConnectionMethod.OAUTH_LOGIN, second_account)

    result = await second_runs_into_first(services, first, second)

    assert result.continuity is continuity  # decided on the first's account, committed
    row = await connection(services, installation)
    assert row.status is ConnectionStatus.CONNECTED
    assert row.account_id == ACCOUNTS[second_account].account_id
    assert row.method is ConnectionMethod.OAUTH_LOGIN


async def test_a_save_running_into_one_to_another_account_decides_on_its_outcome(
    services: Services,
) -> None:
    """Connected to A; a save to B (which forgets A's data) and a save to A at once. The save
    to A must see B connected and start clean, not resume A's data the other just forgot."""
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        await saving(services, installation, ConnectionMethod.API_KEY, "A")(session)
    to_b = saving(services, installation, ConnectionMethod.API_KEY, "B")
    to_a = saving(services, installation, ConnectionMethod.OAUTH_LOGIN, "A")

    result = await second_runs_into_first(services, to_b, to_a)

    assert result.continuity is Continuity.STARTED_CLEAN
    row = await connection(services, installation)
    assert row.account_id == ACCOUNTS["A"].account_id
    assert row.method is ConnectionMethod.OAUTH_LOGIN


async def test_a_refusal_of_the_old_key_does_not_revoke_a_connection_saved_meanwhile(
    services: Services,
) -> None:
    """A job's call with the old key was refused (401) while the admin connected again: the
    refusal is recorded only against the old credential (`mark_revoked`). Before, it read the
    row unlocked, saw the old key, and its update, waiting for the save's lock, marked the
    new connection revoked once the save committed."""
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        await saving(services, installation, ConnectionMethod.API_KEY, "A")(session)
    old = await connection(services, installation)
    again = saving(services, installation, ConnectionMethod.OAUTH_LOGIN, "A")

    async def refused(session: AsyncSession) -> None:
        await ConnectionService(session, services).mark_revoked(
            installation, "API Key Invalid", refused=old
        )

    await second_runs_into_first(services, again, refused)

    row = await connection(services, installation)
    assert row.status is ConnectionStatus.CONNECTED
    assert row.method is ConnectionMethod.OAUTH_LOGIN
