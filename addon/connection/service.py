"""Connect an installation to Mailchimp, check the connection, reset it.

Every Mailchimp call of the app goes through `ConnectionService.mailchimp()`, so a 401 anywhere
marks the connection revoked and the admin is asked to reconnect.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.account_data import forget_account_data
from addon.connection.attempts import AttemptService, Outcome
from addon.connection.models import (
    ConnectionMethod,
    ConnectionStatus,
    MailchimpConnection,
    OAuthState,
)
from addon.connection.repository import ConnectionRepository
from addon.connection.schemas import (
    CheckResult,
    ConnectionRead,
    ConnectResult,
    Continuity,
    OAuthStart,
    ResetResult,
)
from addon.db.types import utcnow
from addon.errors import AppError, BadRequest, Conflict, ErrorCode, UpstreamUnavailable
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.jobs.repository import JobRepository
from addon.mailchimp import (
    Account,
    ApiKey,
    InvalidApiKeyFormat,
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
    OAuthError,
    RateLimited,
    TransientError,
)
from addon.mailchimp import Forbidden as MailchimpForbidden
from addon.services import Services

logger = logging.getLogger(__name__)

OAUTH_STATE_TTL = timedelta(minutes=10)
CALLBACK_PATH = "/api/connection/oauth/callback"
# The dashboard's theme for the pop-up's last page: Mailchimp calls back on a fixed URL, so
# the pop-up's first page leaves it in a cookie for the callback (nothing secret in it).
POPUP_THEME_COOKIE = "mailchimp_oauth_theme"
ATTEMPTS_PATH = "/api/connection/oauth/attempts"
CHIMPY = "Everything's Chimpy!"
# The event of a new connection: a job kind other capabilities register a handler for, so this
# package imports none of them. The payload is empty (handlers read the connection).
CONNECTED_KIND = "connection.connected"


class NotConnected(AppError):
    status_code = 409
    code = ErrorCode.MAILCHIMP_NOT_CONNECTED


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def describe_error(exc: MailchimpError) -> str:
    if isinstance(exc, InvalidCredentials):
        return "Mailchimp rejected the credentials: the key was deleted or access was revoked."
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

    No database transaction is held while Mailchimp answers. A 401 marks the connection
    revoked (in a transaction of its own) and propagates, so the admin is asked to reconnect.
    """
    async with services.db.session() as session:
        connection = await ConnectionRepository(session).get(installation_id)
        if connection is None or connection.status is not ConnectionStatus.CONNECTED:
            raise NotConnected("Mailchimp is not connected. Connect it on the Connection page.")
        credentials = credentials_of(connection)
    try:
        yield MailchimpClient(services.mailchimp, credentials)
    except InvalidCredentials as exc:
        async with services.db.transaction() as session:
            await ConnectionService(session, services).mark_revoked(
                installation_id, describe_error(exc)
            )
        raise


class ConnectionService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.settings = services.settings
        self.repository = ConnectionRepository(session)

    # --- reading -------------------------------------------------------------------------

    def read_model(self, connection: MailchimpConnection | None) -> ConnectionRead:
        settings = self.settings
        reason = None
        if not settings.oauth_configured:
            reason = (
                "Logging in with Mailchimp needs MAILCHIMP_CLIENT_ID and MAILCHIMP_CLIENT_SECRET "
                "(register the app at https://admin.mailchimp.com/account/oauth2/ with redirect "
                f"URI {settings.app_url}{CALLBACK_PATH}). You can paste an API key instead."
            )
        common = {
            "oauth_available": settings.oauth_configured,
            "oauth_unavailable_reason": reason,
            "signup_url": settings.mailchimp_signup_url,
        }
        if connection is None:
            return ConnectionRead(status=ConnectionStatus.DISCONNECTED, **common)
        return ConnectionRead.of(connection, **common)

    async def read(self, installation: Installation) -> ConnectionRead:
        return self.read_model(await self.repository.get(installation.id))

    # --- connecting ----------------------------------------------------------------------

    async def connect_api_key(self, installation: Installation, text: str) -> ConnectResult:
        try:
            key = ApiKey.parse(text)
        except InvalidApiKeyFormat as exc:
            raise BadRequest(str(exc), code=ErrorCode.INVALID_API_KEY_FORMAT) from exc
        credentials = MailchimpCredentials.from_api_key(key)
        account = await self._verify(credentials, rejected="Mailchimp did not accept this API key.")
        return await self._save(installation, ConnectionMethod.API_KEY, credentials, account)

    async def start_oauth(self, installation: Installation, flow: str) -> OAuthStart:
        settings = self.settings
        if not settings.oauth_configured or settings.mailchimp_client_id is None:
            raise Conflict(
                self.read_model(None).oauth_unavailable_reason or "",
                code=ErrorCode.OAUTH_NOT_CONFIGURED,
            )
        state = secrets.token_urlsafe(32)
        method = ConnectionMethod.OAUTH_SIGNUP if flow == "signup" else ConnectionMethod.OAUTH_LOGIN
        now = utcnow()
        await self.repository.prune_states(now)
        await self.repository.add_state(
            OAuthState(
                state_hash=_hash_state(state),
                installation_id=installation.id,
                method=method,
                created_at=now,
                expires_at=now + OAUTH_STATE_TTL,
            )
        )
        attempt = await AttemptService(self.session).begin(
            installation.id, _hash_state(state), now, now + OAUTH_STATE_TTL
        )
        authorize_url = self.services.oauth.authorize_url(
            settings.mailchimp_client_id, self.redirect_uri, state
        )
        return OAuthStart(
            flow="signup" if flow == "signup" else "login",
            authorize_url=authorize_url,
            signup_url=settings.mailchimp_signup_url if flow == "signup" else None,
            expires_at=now + OAUTH_STATE_TTL,
            attempt_id=attempt.id,
            status_url=f"{ATTEMPTS_PATH}/{attempt.id}",
        )

    @property
    def redirect_uri(self) -> str:
        return self.settings.app_url + CALLBACK_PATH

    async def complete_oauth(self, state: str, code: str) -> ConnectResult:
        """The OAuth callback: check the state, exchange the code, connect the account."""
        now = utcnow()
        state_hash = _hash_state(state)
        record = await self.repository.get_state(state_hash)
        # The lookup is by hash; the comparison is constant-time all the same.
        if record is None or not hmac.compare_digest(record.state_hash, state_hash):
            raise BadRequest(
                "This sign-in does not match a connection started from the dashboard. "
                "Start again from the Connection page.",
                code=ErrorCode.OAUTH_STATE_MISMATCH,
            )
        if record.expires_at < now:
            raise BadRequest(
                "This sign-in took longer than 10 minutes and expired. Start again.",
                code=ErrorCode.OAUTH_STATE_EXPIRED,
            )
        if not await self.repository.consume_state(state_hash, now):
            raise BadRequest(
                "This sign-in link was used already. Start again from the Connection page.",
                code=ErrorCode.OAUTH_STATE_REPLAYED,
            )
        installation = await InstallationRepository(self.session).get(record.installation_id)
        if installation is None:
            raise BadRequest("The app is no longer installed.", code=ErrorCode.UNKNOWN_INSTALLATION)
        settings = self.settings
        assert settings.mailchimp_client_id and settings.mailchimp_client_secret
        try:
            token = await self.services.oauth.exchange_code(
                settings.mailchimp_client_id,
                settings.mailchimp_client_secret,
                self.redirect_uri,
                code,
            )
            metadata = await self.services.oauth.metadata(token.access_token)
        except OAuthError as exc:
            raise BadRequest(
                f"Mailchimp did not complete the sign-in ({exc.error or exc.title}): "
                f"{exc.error_description or exc.detail or 'start again.'}",
                code=ErrorCode.OAUTH_EXCHANGE_FAILED,
            ) from exc
        except MailchimpError as exc:
            raise UpstreamUnavailable(
                describe_error(exc), code=ErrorCode.OAUTH_EXCHANGE_FAILED
            ) from exc
        credentials = MailchimpCredentials.from_oauth_token(token.access_token, metadata.dc)
        account = await self._verify(credentials, rejected="Mailchimp did not accept the sign-in.")
        return await self._save(installation, record.method, credentials, account)

    async def record_outcome(self, state: str, outcome: Outcome) -> None:
        """What the callback saw, for the page polling the attempt. A state that ended in a
        refusal or an error is used up, so it cannot be completed later."""
        if not state:
            return
        state_hash = _hash_state(state)
        await self.repository.consume_state(state_hash, utcnow())
        await AttemptService(self.session).finish(state_hash, outcome)

    async def _verify(self, credentials: MailchimpCredentials, *, rejected: str) -> Account:
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

    async def _save(
        self,
        installation: Installation,
        method: ConnectionMethod,
        credentials: MailchimpCredentials,
        account: Account,
    ) -> ConnectResult:
        connection = await self.repository.get(installation.id)
        if connection is None:
            connection = MailchimpConnection(installation_id=installation.id)
            self.session.add(connection)
        if connection.account_id is None:
            continuity = Continuity.NEW
            message = f"Connected to Mailchimp account {account.account_name}."
        elif connection.account_id == account.account_id:
            continuity = Continuity.RESUMED
            message = (
                f"Reconnected to {account.account_name}: audiences, stores and sync state "
                "were kept, nothing is created again."
            )
        else:
            continuity = Continuity.STARTED_CLEAN
            await forget_account_data(self.session, installation.id)
            message = (
                f"Connected to a different account, {account.account_name}: it starts clean. "
                "Data of the previous account was dropped here (nothing was deleted in Mailchimp)."
            )
        now = utcnow()
        connection.status = ConnectionStatus.CONNECTED
        connection.method = method
        connection.credential = credentials.secret
        connection.dc = credentials.dc
        connection.account_id = account.account_id
        connection.account_name = account.account_name
        connection.login_email = account.email
        connection.role = account.role
        connection.connected_at = now
        connection.last_checked_at = now
        connection.last_check_ok = True
        connection.last_check_message = CHIMPY
        await self.session.flush()
        # Capabilities react through this job's kind (audiences import the account's audiences).
        await JobRepository(self.session).enqueue(
            installation.id, CONNECTED_KIND, {}, coalesce_key=CONNECTED_KIND
        )
        logger.info(
            "Installation %s connected to Mailchimp account %s (%s, %s)",
            installation.id,
            account.account_id,
            method.value,
            continuity.value,
        )
        return ConnectResult(
            connection=self.read_model(connection), continuity=continuity, message=message
        )

    # --- using ---------------------------------------------------------------------------

    def _credentials(self, connection: MailchimpConnection) -> MailchimpCredentials:
        return credentials_of(connection)

    async def mark_revoked(self, installation_id: int, message: str) -> None:
        connection = await self.repository.get(installation_id)
        if connection is not None and connection.status is ConnectionStatus.CONNECTED:
            self._mark_revoked(connection, message)
            await self.session.flush()

    def _mark_revoked(self, connection: MailchimpConnection, message: str) -> None:
        logger.warning(
            "Mailchimp connection of installation %s revoked", connection.installation_id
        )
        connection.status = ConnectionStatus.REVOKED
        connection.last_check_ok = False
        connection.last_check_message = message + " Reconnect on the Connection page."
        connection.last_checked_at = utcnow()

    async def check(self, installation: Installation) -> CheckResult:
        connection = await self.repository.get(installation.id)
        if connection is None or connection.credential is None:
            raise NotConnected("Mailchimp is not connected yet.")
        client = MailchimpClient(self.services.mailchimp, self._credentials(connection))
        now = utcnow()
        health: str | None = None
        try:
            health = (await client.ping()).health_status
            account = await client.account()
        except InvalidCredentials as exc:
            self._mark_revoked(connection, describe_error(exc))
        except MailchimpError as exc:
            connection.last_check_ok = False
            connection.last_check_message = describe_error(exc)
        else:
            connection.status = ConnectionStatus.CONNECTED
            connection.account_name = account.account_name
            connection.login_email = account.email
            connection.role = account.role
            connection.last_check_ok = health == CHIMPY
            connection.last_check_message = health
        connection.last_checked_at = now
        await self.session.flush()
        return CheckResult(
            ok=bool(connection.last_check_ok),
            health_status=health,
            message=connection.last_check_message or "",
            checked_at=now,
            connection=self.read_model(connection),
        )

    async def reset(
        self, installation: Installation, *, forget_account_data_too: bool
    ) -> ResetResult:
        connection = await self.repository.get(installation.id)
        if connection is None:
            raise NotConnected("Mailchimp is not connected; there is nothing to reset.")
        connection.status = ConnectionStatus.DISCONNECTED
        connection.credential = None
        connection.last_check_ok = None
        connection.last_check_message = None
        connection.last_checked_at = None
        if forget_account_data_too:
            await forget_account_data(self.session, installation.id)
            connection.account_id = None
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
        await self.session.flush()
        logger.info("Installation %s reset its Mailchimp connection", installation.id)
        return ResetResult(connection=self.read_model(connection), message=message)
