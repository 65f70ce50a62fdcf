"""The installation's Mailchimp connection as it stands: reading it, using it, checking and
resetting it.

Every Mailchimp call of the app goes through `mailchimp_for` (background work) or a client built
from `credentials_of`, so a 401 anywhere marks the connection revoked and the admin is asked to
reconnect. Making a connection is `addon.connection.linking` (API key) and
`addon.connection.oauth_flow` (log-in and sign-up).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.connection.account_data import forget_account_data
from addon.connection.letting_go import Leaving, let_go
from addon.connection.models import ConnectionMethod, ConnectionStatus, MailchimpConnection
from addon.connection.reconnect import CONNECTED_KIND, OWED_TO_ACCOUNT, owed_jobs, resume
from addon.connection.repository import ConnectionRepository
from addon.connection.schemas import CheckResult, ConnectionRead, ResetResult
from addon.db.types import utcnow
from addon.errors import Conflict, ErrorCode
from addon.installations.models import Installation
from addon.jobs.repository import JobRepository
from addon.mailchimp import (
    Account,
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
    RateLimited,
    TransientError,
)
from addon.mailchimp import Forbidden as MailchimpForbidden
from addon.mailchimp.errors import AccountDisabled
from addon.services import Services

logger = logging.getLogger(__name__)

# Where Mailchimp sends the admin back after logging in (registered with the OAuth app).
CALLBACK_PATH = "/api/connection/oauth/callback"
CHIMPY = "Everything's Chimpy!"


class NotConnected(Conflict):
    code = ErrorCode.MAILCHIMP_NOT_CONNECTED


# Mailchimp refuses every call of a disabled account (403 "User Disabled") as it does a deleted
# key (401): either way the connection cannot be used, and it is shown revoked.
REFUSED_CREDENTIALS = (InvalidCredentials, AccountDisabled)


def describe_error(exc: MailchimpError) -> str:
    if isinstance(exc, InvalidCredentials):
        return "Mailchimp rejected the credentials: the key was deleted or access was revoked."
    if isinstance(exc, AccountDisabled):
        return (
            "Mailchimp says this account has been disabled (closed or suspended), so it refuses "
            "every call. Contact Mailchimp to have it enabled again, or connect another account."
        )
    if isinstance(exc, MailchimpForbidden):
        return f"Mailchimp refused access for this user's role or plan: {exc.detail or exc.title}"
    if isinstance(exc, RateLimited | TransientError):
        return "Mailchimp is not answering right now. Try again in a minute."
    return str(exc)


def credentials_of(connection: MailchimpConnection) -> MailchimpCredentials:
    assert connection.credential is not None and connection.dc is not None
    if connection.method is ConnectionMethod.API_KEY:
        return MailchimpCredentials.from_api_key(
            connection.credential.get_secret_value(), account_id=connection.account_id
        )
    return MailchimpCredentials.from_oauth_token(
        connection.credential, connection.dc, account_id=connection.account_id
    )


@asynccontextmanager
async def mailchimp_for(services: Services, installation_id: int) -> AsyncIterator[MailchimpClient]:
    """A client for the installation's Mailchimp account, for background work.

    No database transaction is held while Mailchimp answers. A 401 (or a 403 of a disabled
    account) marks the connection revoked (in a transaction of its own) and propagates, so the
    admin is asked to reconnect.
    """
    async with services.db.session() as session:
        connection = await ConnectionRepository(session).get(installation_id)
        if connection is None or connection.status is not ConnectionStatus.CONNECTED:
            raise NotConnected("Mailchimp is not connected. Connect it on the Connection page.")
        credentials = credentials_of(connection)
    try:
        yield MailchimpClient(services.mailchimp, credentials)
    except REFUSED_CREDENTIALS as exc:
        async with services.db.transaction() as session:
            await ConnectionService(session, services).mark_revoked(
                installation_id, describe_error(exc), refused=connection
            )
        raise


async def still_connected_as(
    session: AsyncSession, installation_id: int, seen: MailchimpCredentials
) -> bool:
    """Whether the installation is still connected with the credentials `seen` (those work
    read Mailchimp with: `MailchimpClient.credentials` of `mailchimp_for`), to the same account.

    False once a reset removed them (and perhaps forgot the account's data) or another key or
    account was connected meanwhile: what the work read is then not to be written. Revoked
    meanwhile (a 401 elsewhere) is still True: what was read is the same account's. Locked,
    as `mark_revoked`'s read: a reset or a save committing meanwhile waits for the writer's
    transaction, then forgets or replaces what it wrote."""
    connection = await ConnectionRepository(session).get(installation_id, for_update=True)
    return (
        connection is not None
        and connection.credential is not None
        and connection.account_id == seen.account_id
        and connection.credential.get_secret_value() == seen.secret.get_secret_value()
    )


def oauth_unavailable_reason(settings: Settings) -> str | None:
    """Why logging in with Mailchimp is not offered, or None when it is."""
    if settings.oauth_configured:
        return None
    return (
        "Logging in with Mailchimp needs MAILCHIMP_CLIENT_ID and MAILCHIMP_CLIENT_SECRET "
        "(register the app at https://admin.mailchimp.com/account/oauth2/ with redirect "
        f"URI {settings.app_url}{CALLBACK_PATH}). You can paste an API key instead."
    )


def connection_read(settings: Settings, connection: MailchimpConnection | None) -> ConnectionRead:
    """What the dashboard shows of the connection (never its credential)."""
    offer = {
        "oauth_available": settings.oauth_configured,
        "oauth_unavailable_reason": oauth_unavailable_reason(settings),
        "signup_url": settings.mailchimp_signup_url,
    }
    if connection is None:
        return ConnectionRead(status=ConnectionStatus.DISCONNECTED, **offer)
    return ConnectionRead.of(connection, **offer)


def show_account(connection: MailchimpConnection, account: Account) -> None:
    """Keep what Mailchimp last said about the account (it can change between checks)."""
    connection.account_name = account.account_name
    connection.login_email = account.email
    connection.role = account.role


def record_check(
    connection: MailchimpConnection, ok: bool | None, message: str | None, at: datetime | None
) -> None:
    """The outcome of the latest look at the connection (all None: not looked at since reset)."""
    connection.last_check_ok = ok
    connection.last_check_message = message
    connection.last_checked_at = at


def _same_credential(connection: MailchimpConnection, other: MailchimpConnection) -> bool:
    mine, theirs = connection.credential, other.credential
    return (
        mine is not None
        and theirs is not None
        and mine.get_secret_value() == theirs.get_secret_value()
    )


class OnConnection:
    """What each service of the connection works with (see linking and oauth_flow too)."""

    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.settings = services.settings
        self.repository = ConnectionRepository(session)


class ConnectionService(OnConnection):
    async def read(self, installation: Installation) -> ConnectionRead:
        return connection_read(self.settings, await self.repository.get(installation.id))

    async def mark_revoked(
        self, installation_id: int, message: str, *, refused: MailchimpConnection
    ) -> None:
        """Mailchimp refused the credential of `refused` (the connection as read before the
        call): the connection is revoked, unless its credential was replaced meanwhile (the
        admin connected again while the call was out: the new one is not refused). Locked,
        as the check's: a save committing meanwhile is seen, not overwritten as revoked."""
        connection = await self.repository.get(installation_id, for_update=True)
        if (
            connection is not None
            and connection.status is ConnectionStatus.CONNECTED
            and _same_credential(connection, refused)
        ):
            self._mark_revoked(connection, message)
            await self.session.flush()

    def _mark_revoked(self, connection: MailchimpConnection, message: str) -> None:
        logger.warning(
            "Mailchimp connection of installation %s revoked", connection.installation_id
        )
        connection.status = ConnectionStatus.REVOKED
        record_check(connection, False, message + " Reconnect on the Connection page.", utcnow())

    async def check(self, installation: Installation) -> CheckResult:
        # Read in a short session of its own and ask Mailchimp before the request's transaction
        # begins: on SQLite it holds the write lock from its first statement.
        async with self.services.db.session() as read:
            checked = await ConnectionRepository(read).get(installation.id)
        if checked is None or checked.credential is None:
            raise NotConnected("Mailchimp is not connected yet.")
        client = MailchimpClient(self.services.mailchimp, credentials_of(checked))
        now = utcnow()
        health: str | None = None
        account: Account | None = None
        failure: MailchimpError | None = None
        try:
            health = (await client.ping()).health_status
            account = await client.account()
        except MailchimpError as exc:
            failure = exc
        # Locked: a key connected meanwhile commits before or after this check's outcome.
        connection = await self.repository.get(installation.id, for_update=True)
        if connection is None or connection.credential is None:  # reset meanwhile
            raise NotConnected("Mailchimp is not connected yet.")
        if _same_credential(connection, checked):  # not replaced meanwhile
            if isinstance(failure, REFUSED_CREDENTIALS):
                self._mark_revoked(connection, describe_error(failure))
            elif failure is not None:
                record_check(connection, False, describe_error(failure), now)
            else:
                assert account is not None
                if connection.status is ConnectionStatus.REVOKED:
                    # The key works again (a passing 401, a key enabled again): what waited
                    # for the account goes now, as at a reconnection.
                    await self._resume(installation.id)
                connection.status = ConnectionStatus.CONNECTED
                show_account(connection, account)
                record_check(connection, health == CHIMPY, health, now)
            connection.last_checked_at = now
            await self.session.flush()
        return CheckResult(
            ok=bool(connection.last_check_ok),
            health_status=health,
            message=connection.last_check_message or "",
            checked_at=now,
            connection=connection_read(self.settings, connection),
        )

    async def _resume(self, installation_id: int) -> None:
        """As a reconnection of the same account (`Linking.save`): the capabilities react to
        the connection made usable again (audiences import and start their schedule again,
        which ended while it was revoked) and to the account reachable again."""
        await JobRepository(self.session).enqueue(
            installation_id, CONNECTED_KIND, {}, coalesce_key=CONNECTED_KIND
        )
        owed = await owed_jobs(self.session, self.services.ports[OWED_TO_ACCOUNT], installation_id)
        await resume(self.session, owed, installation_id)

    async def reset(
        self, installation: Installation, *, forget_account_data_too: bool
    ) -> ResetResult:
        # Before the credentials go, what was set with them is undone (`letting_go`): read in
        # a short session of its own and done before the request's transaction begins (on
        # SQLite it holds the write lock from its first statement).
        async with self.services.db.session() as read:
            before = await ConnectionRepository(read).get(installation.id)
        let = None
        # A second reset without credentials to use forgets nothing new unless it forgets.
        if before is not None and (before.credential is not None or forget_account_data_too):
            held = credentials_of(before) if before.credential is not None else None
            leaving = (
                Leaving.RESET_FORGETTING_DATA
                if forget_account_data_too
                else Leaving.RESET_KEEPING_DATA
            )
            let = await let_go(self.services, installation.id, held, leaving)
        # Locked, as the check's and `Linking.save`'s: a connection saved meanwhile is the one
        # reset. Read unlocked, a save to another account committing meanwhile left the
        # account it replaced as the forgotten one (`forgotten_account_id`), so the work owed
        # to the account just connected counted as owed to another one.
        connection = await self.repository.get(installation.id, for_update=True)
        if connection is None:
            raise NotConnected("Mailchimp is not connected; there is nothing to reset.")
        connection.status = ConnectionStatus.DISCONNECTED
        connection.credential = None
        record_check(connection, None, None, None)
        if forget_account_data_too:
            await forget_account_data(self.session, installation.id)
            # Still known, for the work owed to it (`Linking.save`).
            connection.forgotten_account_id = (
                connection.account_id or connection.forgotten_account_id
            )
            connection.account_id = None
            connection.account_forgotten_at = utcnow()
            message = (
                "Disconnected. The credentials and this account's data in the app were removed; "
                "nothing was deleted in Mailchimp."
            )
        else:
            message = (
                "Disconnected. The credentials were removed; your settings and this account's "
                "audiences, stores and sync state were kept, so reconnecting to the same account "
                "resumes. Connecting another account starts it clean. Nothing was deleted in "
                "Mailchimp."
            )
        if let is not None and let.described():
            message += " " + let.described()
        await self.session.flush()
        logger.info("Installation %s reset its Mailchimp connection", installation.id)
        return ResetResult(connection=connection_read(self.settings, connection), message=message)
