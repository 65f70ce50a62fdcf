"""Linking an installation to a Mailchimp account: verify the credentials with Mailchimp, save
them, and say what became of the data of a previous account (continuity). Pasting an API key
ends here directly; the OAuth flow (`addon.connection.oauth_flow`) ends here with its token.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.account_data import forget_account_data
from addon.connection.letting_go import Leaving, LetGo, let_go
from addon.connection.models import ConnectionMethod, ConnectionStatus, MailchimpConnection
from addon.connection.reconnect import (
    CONNECTED_KIND,
    OWED_TO_ACCOUNT,
    RESUMED_KIND,
    Owed,
    owed_jobs,
    resume,
    run_now,
)
from addon.connection.repository import ConnectionRepository
from addon.connection.schemas import ConnectResult, Continuity
from addon.connection.service import (
    CHIMPY,
    OnConnection,
    connection_read,
    credentials_of,
    describe_error,
    record_check,
    show_account,
)
from addon.db.types import utcnow
from addon.errors import BadRequest, Conflict, ErrorCode, UpstreamUnavailable
from addon.installations.models import Installation
from addon.jobs.repository import JobRepository
from addon.mailchimp import (
    Account,
    ApiKey,
    InvalidApiKeyFormat,
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
)
from addon.mailchimp import Forbidden as MailchimpForbidden

logger = logging.getLogger(__name__)

# CONNECTED_KIND, RESUMED_KIND: job kinds other capabilities register a handler for, so this
# package imports none of them (see `reconnect.py`).
__all__ = ["CONNECTED_KIND", "RESUMED_KIND", "Linking", "no_longer_installed", "still_installed"]


class Linking(OnConnection):
    """Verify credentials with Mailchimp, then make them the installation's connection."""

    async def connect_api_key(
        self, installation: Installation, text: str, *, drop_owed: bool = False
    ) -> ConnectResult:
        try:
            key = ApiKey.parse(text)
        except InvalidApiKeyFormat as exc:
            raise BadRequest(str(exc), code=ErrorCode.INVALID_API_KEY_FORMAT) from exc
        credentials = MailchimpCredentials.from_api_key(key)
        account = await self.verify(credentials, rejected="Mailchimp did not accept this API key.")
        return await self.save(
            installation, ConnectionMethod.API_KEY, credentials, account, drop_owed=drop_owed
        )

    async def verify(self, credentials: MailchimpCredentials, *, rejected: str) -> Account:
        client = MailchimpClient(self.services.mailchimp, credentials)
        try:
            ping = await client.ping()
            if ping.health_status != CHIMPY:
                raise UpstreamUnavailable(
                    f"Mailchimp answered the health check with {ping.health_status!r}.",
                    code=ErrorCode.MAILCHIMP_UNHEALTHY,
                )
            return await client.account()
        except InvalidCredentials as exc:
            raise BadRequest(
                f"{rejected} Check it in Mailchimp (Profile → Extras → API keys) and try again.",
                code=ErrorCode.MAILCHIMP_REJECTED_CREDENTIALS,
            ) from exc
        except MailchimpForbidden as exc:
            raise BadRequest(describe_error(exc), code=ErrorCode.MAILCHIMP_FORBIDDEN) from exc
        except MailchimpError as exc:
            raise UpstreamUnavailable(
                describe_error(exc), code=ErrorCode.MAILCHIMP_UNAVAILABLE
            ) from exc

    async def save(
        self,
        installation: Installation,
        method: ConnectionMethod,
        credentials: MailchimpCredentials,
        account: Account,
        *,
        drop_owed: bool = False,
        let: LetGo | None = None,
    ) -> ConnectResult:
        """Make `account` the installation's; `drop_owed`: the admin confirmed connecting
        another account although work owed to the connected one waits (else a 409). `let`:
        what `let_go_of_previous` did, when the caller ran it before its transaction began
        (the OAuth callback saves in a savepoint); else it runs here first."""
        if let is None:
            let = await self.let_go_of_previous(installation.id, account, drop_owed=drop_owed)
        # Got or inserted, and locked while continuity is decided and written: a second save
        # at once (an API key and an OAuth callback, a form sent twice) waits, then decides on
        # the first's committed account. Before, it inserted the row too and failed on its key
        # (a 500), or decided on the row as it was (say RESUMED for account A while the first
        # connected B and forgot A's data).
        # Read afresh: an uninstall may have committed since the request read the installation
        # (an OAuth callback waits on Mailchimp), and the admin must not be told "connected".
        if not await still_installed(self.session, installation.id):
            raise no_longer_installed()
        connection = await self.repository.get_locked_or_insert(installation.id)
        owed = await owed_jobs(self.session, self.services.ports[OWED_TO_ACCOUNT], installation.id)
        now = utcnow()
        # A reset that forgot the account's data left the work owed to it: connecting another
        # account is a switch all the same.
        forgotten = connection.forgotten_account_id
        owed_elsewhere = owed.total and forgotten not in (None, account.account_id)
        if connection.account_id is None and not owed_elsewhere:
            continuity = Continuity.NEW
            message = f"Connected to Mailchimp account {account.account_name}.{_runs_now(owed)}"
        elif connection.account_id == account.account_id:
            continuity = Continuity.RESUMED
            message = (
                f"Reconnected to {account.account_name}: audiences, stores and sync state "
                f"were kept, nothing is created again.{_runs_now(owed)}"
            )
        else:
            if owed.total and not drop_owed:
                raise Conflict(
                    _owed_message(owed, connection, account),
                    code=ErrorCode.OWED_TO_PREVIOUS_ACCOUNT,
                )
            continuity = Continuity.STARTED_CLEAN
            await forget_account_data(self.session, installation.id)
            # What was asked before now is the previous account's: it never runs against this
            # one (`addon.connection.reconnect`).
            connection.account_switched_at = now
            message = (
                f"Connected to a different account, {account.account_name}: it starts clean. "
                "Data of the previous account was dropped here (nothing was deleted in "
                "Mailchimp): choose the audiences and channels again, then run the initial "
                "sync to send the store's history to it."
            )
            if owed.total:
                message += (
                    f" {owed.described()} owed to the previous account "
                    f"{'ends' if owed.total == 1 else 'end'} not done: {owed.dropped()} "
                    "(Activity lists them)."
                )
            if let.described():
                message += " " + let.described()
        connection.status = ConnectionStatus.CONNECTED
        connection.method = method
        connection.credential = credentials.secret
        connection.dc = credentials.dc
        connection.account_id = account.account_id
        connection.forgotten_account_id = None
        connection.connected_at = now
        show_account(connection, account)
        record_check(connection, True, CHIMPY, now)
        await self.session.flush()
        # Capabilities react through these jobs' kinds (audiences import the account's
        # audiences; e-commerce sends what found the account unreachable). Owed work waiting
        # hourly runs now: finishing (the same account) or ending not done.
        jobs = JobRepository(self.session)
        await jobs.enqueue(installation.id, CONNECTED_KIND, {}, coalesce_key=CONNECTED_KIND)
        if continuity is Continuity.RESUMED:
            await resume(self.session, owed, installation.id)
        else:
            await run_now(self.session, owed)
        logger.info(
            "Installation %s connected to Mailchimp account %s (%s, %s)",
            installation.id,
            account.account_id,
            method.value,
            continuity.value,
        )
        return ConnectResult(
            connection=connection_read(self.settings, connection),
            continuity=continuity,
            message=message,
        )

    async def let_go_of_previous(
        self, installation_id: int, account: Account, *, drop_owed: bool
    ) -> LetGo:
        """Before `account` replaces another one: what was set with the other's credentials is
        undone with them (`letting_go`). Read in a short session of its own, and to be run
        before the request's transaction begins (on SQLite it holds the write lock from its
        first statement). Nothing when no other account is connected, or when the switch is to
        be refused (the app uninstalled meanwhile, or work owed to it and not dropped: `save`'s
        checks, read here unlocked: one decided otherwise under `save`'s lock still finds the
        sync ended, a rare race left as it is)."""
        async with self.services.db.session() as read:
            if not await still_installed(read, installation_id):
                return LetGo()
            connection = await ConnectionRepository(read).get(installation_id)
            if connection is None or connection.account_id in (None, account.account_id):
                return LetGo()
            owed = await owed_jobs(read, self.services.ports[OWED_TO_ACCOUNT], installation_id)
            held = credentials_of(connection) if connection.credential is not None else None
        if owed.total and not drop_owed:
            return LetGo()
        return await let_go(self.services, installation_id, held, Leaving.SWITCHED)


async def still_installed(session: AsyncSession, installation_id: int) -> bool:
    """Whether the installation is there and not uninstalled (erased once its last job ends:
    `addon.installations.uninstall`), as committed now."""
    found = await session.scalar(
        select(Installation.id).where(
            Installation.id == installation_id, Installation.uninstalled_at.is_(None)
        )
    )
    return found is not None


def no_longer_installed() -> BadRequest:
    return BadRequest("The app is no longer installed.", code=ErrorCode.UNKNOWN_INSTALLATION)


def _runs_now(owed: Owed) -> str:
    """What becomes of the work owed to the account connected (again): it runs now."""
    if not owed.total:
        return ""
    return f" {owed.described()} waiting for it {'runs' if owed.total == 1 else 'run'} now."


def _owed_message(owed: Owed, connection: MailchimpConnection, account: Account) -> str:
    previous = connection.account_name or "the previous Mailchimp account"
    waits, them = ("waits", "it") if owed.total == 1 else ("wait", "them")
    return (
        f"{owed.described()} still {waits} for {previous}, the Mailchimp account connected "
        f"before. Reconnect {previous} to let {them} finish. Connecting {account.account_name} "
        f"instead ends {them} not done: {owed.dropped()}."
    )
