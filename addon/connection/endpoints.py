"""The dashboard's connection API, and the OAuth pop-up pages."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from addon.connection.attempts import AttemptService, Outcome, callback_error, failure
from addon.connection.cookies import leave_for_callback
from addon.connection.linking import Linking
from addon.connection.models import AttemptStatus
from addon.connection.oauth_flow import (
    POPUP_THEME_COOKIE,
    OAuthFlow,
    browser_cookie_name,
    state_ttl,
)
from addon.connection.schemas import (
    DROP_OWED_DESCRIPTION,
    ApiKeyConnect,
    AttemptRead,
    CheckResult,
    ConnectionRead,
    ConnectResult,
    OAuthStart,
    ResetRequest,
    ResetResult,
)
from addon.connection.service import CALLBACK_PATH, ConnectionService
from addon.dependencies import ServicesDep, SessionDep, service_dependency
from addon.errors import AppError, ErrorCode, error_responses, unexpected_problem
from addon.installations.dashboard_auth import DashboardAuth
from addon.logs import new_request_id, request_id_of
from addon.templating import templates

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/connection")


# JSON written into an inline script: with `<`, `>` and `&` escaped, a value (Mailchimp's
# `error_description` comes from the callback's URL) can neither end the script element (`</`)
# nor put the HTML parser in the script's escaped states (`<!--`, `<script`), where the page's
# own `</script>` no longer ends it (HTML Living Standard, 13.2.5.4 "Script data state" on).
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _script_json(value: object) -> str:
    return json.dumps(value).translate(_SCRIPT_ESCAPES)


def _html_page(description: str) -> dict[str, Any]:
    """An answer that is a page for the pop-up, for the OpenAPI document."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


Connection = Annotated[ConnectionService, service_dependency(ConnectionService)]
Link = Annotated[Linking, service_dependency(Linking)]
OAuth = Annotated[OAuthFlow, service_dependency(OAuthFlow)]


def _keep_browser_key(request: Request, response: Response, start: OAuthStart) -> Response:
    """The browser that asked for this page is the one the log-in started in (see
    `addon.connection.oauth_flow`); the dashboard's window keeps the key itself
    (oauth-window.js), with the same attributes."""
    lives = state_ttl(start.flow)
    leave_for_callback(request, response, start.browser_cookie, start.browser_key, lives)
    return response


@router.get("")
async def read_connection(auth: DashboardAuth, connection: Connection) -> ConnectionRead:
    return await connection.read(auth.installation)


@router.post("/api-key", responses=error_responses(400, 409, 502))
async def connect_with_api_key(
    body: ApiKeyConnect, auth: DashboardAuth, link: Link
) -> ConnectResult:
    return await link.connect_api_key(
        auth.installation, body.api_key, drop_owed=body.drop_owed_to_previous_account
    )


@router.get(
    "/oauth/start",
    response_model=OAuthStart,
    responses={
        **error_responses(409),
        200: _html_page("JSON when the request accepts it, else the sign-up page (HTML)."),
        307: {"description": "A plain browser is sent on to Mailchimp's authorization page."},
    },
)
async def start_oauth(
    request: Request,
    auth: DashboardAuth,
    oauth: OAuth,
    flow: Annotated[Literal["login", "signup"], Query()] = "login",
    drop_owed_to_previous_account: Annotated[
        bool, Query(description=DROP_OWED_DESCRIPTION + " Applies at the callback.")
    ] = False,
    accept: Annotated[str, Header()] = "",
) -> OAuthStart | Response:
    """JSON for the dashboard page (it opens the pop-up); a redirect for a plain browser, which
    keeps the browser key in its cookie at once."""
    start = await oauth.start(auth.installation, flow, drop_owed=drop_owed_to_previous_account)
    if "application/json" in accept:
        return start
    if start.signup_url:
        page = templates.TemplateResponse(
            request,
            "oauth/signup.html",
            {"signup_url": start.signup_url, "authorize_url": start.authorize_url},
        )
        return _keep_browser_key(request, page, start)
    return _keep_browser_key(request, RedirectResponse(start.authorize_url, status_code=307), start)


AttemptId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/oauth/attempts/{attempt_id}", responses=error_responses(404))
async def read_oauth_attempt(
    attempt_id: AttemptId, auth: DashboardAuth, session: SessionDep
) -> AttemptRead:
    """The outcome of one Mailchimp log-in window: cheap enough to poll twice a second."""
    return await AttemptService(session).read(auth.installation.id, attempt_id)


@router.post("/oauth/attempts/{attempt_id}/abandon", responses=error_responses(404))
async def abandon_oauth_attempt(
    attempt_id: AttemptId, auth: DashboardAuth, session: SessionDep
) -> AttemptRead:
    """The page saw the Mailchimp window closed; answers the attempt's final state."""
    return await AttemptService(session).abandon(auth.installation.id, attempt_id)


@router.get(
    "/oauth/callback",
    response_class=HTMLResponse,
    responses={
        400: _html_page("The page saying why nothing was connected."),
        500: _html_page("The page saying the app failed unexpectedly, naming the request id."),
    },
)
async def oauth_callback(
    request: Request,
    oauth: OAuth,
    services: ServicesDep,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> HTMLResponse:
    """Where Mailchimp sends the admin back. Shows the outcome; never shows the token.

    Reached again for a log-in that connected or is still connecting (the window reloaded),
    it says so, never that it failed (`OAuthFlow.replayed`)."""
    ok = False
    continuity = None
    status = 400
    replay: Outcome | None = None
    key = request.cookies.get(browser_cookie_name(state)) if state else None
    if error or not state or not code:
        outcome = (
            callback_error(error, error_description)
            if error
            else failure(
                "OAUTH_INCOMPLETE",
                "This page expects Mailchimp's answer. Start again from the Connection page.",
            )
        )
        refused = await oauth.replay_refusal(state) if state else None
        if refused is not None:  # a replay, as one with a code (below)
            outcome = failure(refused.code, refused.message)
            replay = await oauth.replayed(state, key)
    else:
        try:
            result = await oauth.complete(state, code, key)
        except AppError as exc:
            outcome = failure(exc.code, exc.message)
            if exc.code == ErrorCode.OAUTH_STATE_REPLAYED:
                replay = await oauth.replayed(state, key)
        except Exception:
            # Answered here rather than by the app's 500 handler: the pop-up shows a page and
            # the page polling the attempt learns it failed (instead of waiting for its expiry).
            request_id = request_id_of(request.scope) or new_request_id()
            logger.exception("The OAuth callback failed (request_id: %s)", request_id)
            outcome = failure(ErrorCode.INTERNAL_ERROR, unexpected_problem(request_id))
            status = 500
        else:
            ok, continuity = True, result.continuity.value
            outcome = Outcome(AttemptStatus.ALLOWED, "CONNECTED", result.message, continuity)
    if replay is not None:  # what the first callback did, or does: it records it
        outcome, ok, continuity = replay, replay.status is AttemptStatus.ALLOWED, replay.continuity
    else:
        # The page polling this attempt learns the outcome at once (a replay changes nothing).
        await oauth.record_outcome(state, outcome, key)
    message, code_name = outcome.message, outcome.code
    finishing = outcome.status is AttemptStatus.PENDING  # posts nothing: the attempt will say
    app_origin = "{0.scheme}://{0.netloc}".format(urlsplit(services.settings.app_url))
    payload = {
        "type": "mailchimp-oauth",
        "ok": ok,
        "code": code_name,
        "message": message,
        "continuity": continuity,
    }
    page = templates.TemplateResponse(
        request,
        "oauth/result.html",
        {
            "ok": ok,
            "finishing": finishing,
            "message": message,
            "result_json": _script_json(payload),
            "app_origin_json": _script_json(app_origin),
            # Left by the pop-up's first page (the dashboard's theme; light unless dark).
            "theme": "dark" if request.cookies.get(POPUP_THEME_COOKIE) == "dark" else "light",
        },
        # A replay is refused (it connects nothing itself) unless the log-in is finishing.
        status_code=200 if finishing or (ok and replay is None) else status,
    )
    if state:
        page.delete_cookie(browser_cookie_name(state), path=CALLBACK_PATH)
    return page


@router.post("/check", responses=error_responses(409, 502))
async def check_connection(auth: DashboardAuth, connection: Connection) -> CheckResult:
    return await connection.check(auth.installation)


@router.post("/reset", responses=error_responses(409))
async def reset_connection(
    body: ResetRequest, auth: DashboardAuth, connection: Connection
) -> ResetResult:
    return await connection.reset(
        auth.installation, forget_account_data_too=body.forget_account_data
    )
