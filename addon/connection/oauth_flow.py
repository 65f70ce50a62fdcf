"""Connecting by logging in to Mailchimp (or signing up first): the OAuth 2 flow.

`start` issues a one-time state (kept hashed, valid `state_ttl`) and the attempt the dashboard
polls; `complete` is the callback: it checks and consumes the state, exchanges the code and
links the account through `addon.connection.linking`; `record_outcome` tells the attempt.

The state alone says which installation; it does not say whose browser. A link to Mailchimp's
page (or to the pop-up's first page) passed on to someone else would connect the Mailchimp
account of whoever allows access there to this store (RFC 6749 §10.12: bind the state to the
user agent). So `start` also issues a browser key, which the dashboard's frame hands only to the
Mailchimp window it opened, by `postMessage` from the app's own origin (never in a URL). The
window keeps it in a cookie named after the state (`browser_cookie_name`), and the callback
connects only when the cookie's key is the state's. The window is first-party, so its cookie is
not a third-party one, which the frame inside the dashboard could not set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from addon.connection.attempts import FINISHING, FINISHING_MESSAGE, AttemptService, Outcome
from addon.connection.linking import Linking, no_longer_installed
from addon.connection.models import AttemptStatus, ConnectionMethod, OAuthState
from addon.connection.repository import lifetime_text
from addon.connection.schemas import ConnectResult, OAuthStart
from addon.connection.service import (
    CALLBACK_PATH,
    OnConnection,
    describe_error,
    oauth_unavailable_reason,
)
from addon.db.types import utcnow
from addon.errors import BadRequest, Conflict, ErrorCode, UpstreamUnavailable
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.mailchimp import MailchimpCredentials, MailchimpError, OAuthError

OAUTH_STATE_TTL = timedelta(minutes=10)
# A sign-up creates the Mailchimp account first (its e-mail address confirmed, a profile filled
# in) before Mailchimp asks to authorize the app: ten minutes cut many short.
SIGNUP_STATE_TTL = timedelta(hours=2)


def state_ttl(flow: str) -> timedelta:
    """How long a log-in (`login`) or a sign-up (`signup`, or its state's method
    `ConnectionMethod.OAUTH_SIGNUP`) started from the dashboard lives."""
    signup = flow in ("signup", ConnectionMethod.OAUTH_SIGNUP)
    return SIGNUP_STATE_TTL if signup else OAUTH_STATE_TTL


# The dashboard's theme for the pop-up's last page: Mailchimp calls back on a fixed URL, so
# the pop-up's first page leaves it in a cookie for the callback (nothing secret in it).
POPUP_THEME_COOKIE = "mailchimp_oauth_theme"
ATTEMPTS_PATH = "/api/connection/oauth/attempts"


def _hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def browser_cookie_name(state: str) -> str:
    """The cookie holding one log-in's browser key: one per state, so two log-ins under way in
    one browser (two stores' dashboards) keep their own."""
    return "mailchimp_oauth_" + _hash_state(state)[:16]


def _started_in(record: OAuthState, browser_key: str | None) -> bool:
    """Whether the browser holding `browser_key` (its cookie's) is the one the log-in started in."""
    expected = record.browser_key_hash
    return bool(expected and browser_key) and hmac.compare_digest(
        expected or "", _hash_state(browser_key or "")
    )


def _replayed() -> BadRequest:
    return BadRequest(
        "This sign-in link was used already. Start again from the Connection page.",
        code=ErrorCode.OAUTH_STATE_REPLAYED,
    )


class OAuthFlow(OnConnection):
    """Start, complete and record one log-in with Mailchimp (see the module)."""

    async def start(
        self, installation: Installation, flow: str, *, drop_owed: bool = False
    ) -> OAuthStart:
        settings = self.settings
        if not settings.oauth_configured or settings.mailchimp_client_id is None:
            raise Conflict(
                oauth_unavailable_reason(settings) or "", code=ErrorCode.OAUTH_NOT_CONFIGURED
            )
        state = secrets.token_urlsafe(32)
        browser_key = secrets.token_urlsafe(32)
        method = ConnectionMethod.OAUTH_SIGNUP if flow == "signup" else ConnectionMethod.OAUTH_LOGIN
        now = utcnow()
        expires_at = now + state_ttl(flow)
        await self.repository.prune_states(now)
        await self.repository.add_state(
            OAuthState(
                state_hash=_hash_state(state),
                installation_id=installation.id,
                method=method,
                created_at=now,
                expires_at=expires_at,
                browser_key_hash=_hash_state(browser_key),
                drop_owed=drop_owed,
            )
        )
        attempt = await AttemptService(self.session).begin(
            installation.id, _hash_state(state), now, expires_at
        )
        authorize_url = self.services.oauth.authorize_url(
            settings.mailchimp_client_id, self.redirect_uri, state
        )
        return OAuthStart(
            flow="signup" if flow == "signup" else "login",
            authorize_url=authorize_url,
            signup_url=settings.mailchimp_signup_url if flow == "signup" else None,
            expires_at=expires_at,
            attempt_id=attempt.id,
            status_url=f"{ATTEMPTS_PATH}/{attempt.id}",
            browser_cookie=browser_cookie_name(state),
            browser_key=browser_key,
        )

    @property
    def redirect_uri(self) -> str:
        return self.settings.app_url + CALLBACK_PATH

    async def complete(self, state: str, code: str, browser_key: str | None) -> ConnectResult:
        """The OAuth callback: check the state and the browser's key (its cookie), exchange the
        code, connect the account.

        The state is checked and used up in a short transaction of its own before Mailchimp is
        asked: the request's transaction would hold the write (on SQLite the database's write
        lock) for as long as Mailchimp takes. The account is saved in the request's."""
        settings = self.settings
        client_id, client_secret = settings.mailchimp_client_id, settings.mailchimp_client_secret
        if not settings.oauth_configured or not client_id or not client_secret:
            # Configured at the start, not now (the app restarted without them meanwhile): the
            # code cannot be exchanged. Said as the start says it; before, an assertion's 500.
            raise Conflict(
                oauth_unavailable_reason(settings) or "", code=ErrorCode.OAUTH_NOT_CONFIGURED
            )
        async with self.services.db.transaction() as session:
            flow = OAuthFlow(session, self.services)
            record, installation = await flow._use_state(state, browser_key)
            method, drop_owed = record.method, record.drop_owed
        try:
            token = await self.services.oauth.exchange_code(
                client_id,
                client_secret,
                self.redirect_uri,
                code,
            )
            metadata = await self.services.oauth.metadata(token.access_token)
        except OAuthError as exc:
            named = f" ({exc.error})" if exc.error else ""  # none for an answer not understood
            raise BadRequest(
                f"Mailchimp did not complete the sign-in{named}: "
                f"{exc.error_description or 'start again.'}",
                code=ErrorCode.OAUTH_EXCHANGE_FAILED,
            ) from exc
        except MailchimpError as exc:
            raise UpstreamUnavailable(
                describe_error(exc), code=ErrorCode.OAUTH_EXCHANGE_FAILED
            ) from exc
        credentials = MailchimpCredentials.from_oauth_token(token.access_token, metadata.dc)
        linking = Linking(self.session, self.services)
        rejected = "Mailchimp did not accept the sign-in."
        account = await linking.verify(credentials, rejected=rejected)
        # Before the savepoint begins the request's transaction (`let_go_of_previous`).
        let = await linking.let_go_of_previous(installation.id, account, drop_owed=drop_owed)
        # A savepoint: should saving fail unexpectedly, its writes are undone and the callback
        # still records the attempt's outcome in the request's transaction.
        async with self.session.begin_nested():
            return await linking.save(
                installation, method, credentials, account, drop_owed=drop_owed, let=let
            )

    async def _use_state(
        self, state: str, browser_key: str | None
    ) -> tuple[OAuthState, Installation]:
        """Check the callback's state and browser key and use the state up; it and its
        installation."""
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
            lifetime = lifetime_text(state_ttl(record.method))
            raise BadRequest(
                f"This sign-in took longer than {lifetime} and expired. Start again.",
                code=ErrorCode.OAUTH_STATE_EXPIRED,
            )
        if record.used_at is not None:
            raise _replayed()
        if not _started_in(record, browser_key):
            # Checked before Mailchimp is asked: the code is never exchanged. The state stays
            # for the window it was started in (`record_outcome` records nothing).
            raise BadRequest(
                "This Mailchimp log-in was not started in this browser window, so nothing was "
                "connected. Open the app's Connection page in the Saleor dashboard and start "
                "again from there.",
                code=ErrorCode.OAUTH_OTHER_BROWSER,
            )
        if not await self.repository.consume_state(state_hash, now):
            raise _replayed()
        installation = await InstallationRepository(self.session).get(record.installation_id)
        if installation is None or installation.uninstalled_at is not None:
            # Uninstalled, it waits for its last job to be erased: no token is asked for.
            raise no_longer_installed()
        return record, installation

    async def replay_refusal(self, state: str) -> BadRequest | None:
        """The refusal of a callback that connects nothing itself (Mailchimp's `error`, or no
        code) for a state used already, or None: it is a replay, as one with a code is
        (`_use_state`). It must not end the attempt of the callback that used the state, nor
        say that nothing was connected when that one connected (the admin went back to
        Mailchimp's page and pressed Deny, or the link was opened again)."""
        record = await self.repository.get_state(_hash_state(state))
        return _replayed() if record is not None and record.used_at is not None else None

    async def replayed(self, state: str, browser_key: str | None) -> Outcome | None:
        """A callback of a state used already (the window reloaded, the link opened again): how
        the log-in of the callback that used it stands, for a page that does not tell the
        dashboard it failed. Still finishing (that callback talks to Mailchimp): a neutral
        outcome (`FINISHING`), the dashboard learning the end from the attempt; connected: its
        outcome, in the browser the log-in started in only (it names the account). None
        otherwise: the replay is refused as such."""
        state_hash = _hash_state(state)
        attempt = await self.repository.attempt_of_state(state_hash)
        if attempt is None:
            return None
        if attempt.status is AttemptStatus.PENDING:
            return Outcome(AttemptStatus.PENDING, FINISHING, FINISHING_MESSAGE)
        record = await self.repository.get_state(state_hash)
        if attempt.status is not AttemptStatus.ALLOWED or not (
            record is not None and _started_in(record, browser_key)
        ):
            return None
        return Outcome(
            AttemptStatus.ALLOWED,
            attempt.code or "CONNECTED",
            f"This sign-in link was used already, and Mailchimp is connected. {attempt.message}",
            attempt.continuity,
        )

    async def record_outcome(self, state: str, outcome: Outcome, browser_key: str | None) -> None:
        """What the callback saw, for the page polling the attempt. A state that ended in a
        refusal or an error is used up, so it cannot be completed later; a replay records
        nothing, nor does a callback in another browser than the log-in's: only the window the
        log-in started in ends it (a denial at Mailchimp included)."""
        if not state or outcome.code == ErrorCode.OAUTH_STATE_REPLAYED:
            # A replay's attempt is the one of the callback that used the state: that callback
            # records it, maybe once it has finished talking to Mailchimp (the state is used up
            # before the code exchange), so a reloaded pop-up must not close it as an error.
            return
        state_hash = _hash_state(state)
        record = await self.repository.get_state(state_hash)
        if record is None or not _started_in(record, browser_key):
            return
        await self.repository.consume_state(state_hash, utcnow())
        await AttemptService(self.session).finish(state_hash, outcome)
