"""Mailchimp's OAuth2 endpoints (login.mailchimp.com) and a sign-up page, for the sandbox.

* ``GET /oauth2/authorize`` - a login page listing the sandbox accounts, "Allow" per account.
* ``POST /oauth2/authorize`` - 302 to ``redirect_uri?code=…&state=…`` (or ``error=access_denied``).
* ``POST /oauth2/token`` - exchanges a single-use, short-lived code for an access token.
* ``GET /oauth2/metadata`` - who the token belongs to, and the API endpoint for its datacenter.
* ``GET|POST /signup/`` - create a sandbox account, then continue to the authorize page.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .state import OAuthCode

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox

AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "state")

STYLE = """
body{font-family:Helvetica,Arial,sans-serif;background:#f6f6f4;color:#241c15;margin:0}
header{background:#ffe01b;padding:16px 24px;font-weight:bold;font-size:20px}
main{max-width:560px;margin:32px auto;background:#fff;padding:24px;border-radius:8px}
.account{display:flex;justify-content:space-between;align-items:center;
border-bottom:1px solid #eee;padding:12px 0}
button{background:#007c89;color:#fff;border:0;padding:8px 16px;border-radius:4px;cursor:pointer}
button.deny{background:#ccc;color:#241c15}
input{padding:6px;margin:4px 0 12px;width:100%;box-sizing:border-box}
.error{color:#b00}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><header>Mailchimp</header><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in params.items()
    )


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _oauth_error(error: str, description: str, status: int) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def routes(sandbox: MailchimpSandbox) -> list[BaseRoute]:
    state = sandbox.state
    # Links and forms point at the public URL, which includes any mount path.
    base = escape(sandbox.public_base_url)
    # The token each redeemed code was exchanged for (read and written under `state.lock`):
    # RFC 6749 §4.1.2, "If an authorization code is used more than once, the authorization
    # server MUST deny the request and SHOULD revoke (when possible) all tokens previously
    # issued based on that authorization code". Mailchimp's guide does not say whether it
    # revokes; the stricter reading shows a client that redeems a code twice (a retried
    # exchange) losing the token it got first.
    issued_from: dict[str, str] = {}

    def authorize_params(source: dict[str, str]) -> dict[str, str]:
        return {k: source[k] for k in AUTHORIZE_PARAMS if k in source}

    def check_client(params: dict[str, str]) -> str | None:
        client = state.oauth_clients.get(params.get("client_id", ""))
        if client is None:
            return "Invalid client_id."
        if not params.get("redirect_uri"):
            return "Missing redirect_uri."
        # Only the app's registered Redirect URI (`OAuthClient`): a code sent anywhere else
        # would go to whoever wrote the link (RFC 6749 §3.1.2.2, §10.6).
        if client.redirect_uri != params["redirect_uri"]:
            return "Invalid redirect_uri."
        # RFC 6749 §4.1.1: `response_type` is REQUIRED, and "code" the one grant offered.
        if "response_type" not in params:
            return "Missing response_type."
        if params["response_type"] != "code":
            return "Unsupported response_type."
        return None

    async def authorize_get(request: Request) -> Response:
        params = authorize_params(dict(request.query_params))
        problem = check_client(params)
        if problem:
            return _page("Login | Mailchimp", f"<p class='error'>{escape(problem)}</p>", 400)
        with state.lock:
            accounts = [d.account for d in state.accounts.values()]
        items = "".join(
            f"<form method='post' action='{base}/oauth2/authorize' class='account'>"
            f"{_hidden(params)}<input type='hidden' name='account_id' value='{escape(a.id)}'>"
            f"<span><strong>{escape(a.name)}</strong><br>{escape(a.login_email)} "
            f"({escape(a.dc)})</span>"
            f"<button type='submit' name='decision' value='allow'>Allow</button></form>"
            for a in accounts
        )
        if not items:
            items = "<p>No accounts yet.</p>"
        signup = f"{base}/signup/?{urlencode(params)}"
        body = (
            "<h1>Log in to authorize this app</h1>"
            "<p>An app wants to connect to your Mailchimp account. Choose an account:</p>"
            f"{items}"
            f"<form method='post' action='{base}/oauth2/authorize'>{_hidden(params)}"
            "<button class='deny' type='submit' name='decision' value='deny'>Deny</button></form>"
            f"<p>Need a Mailchimp account? <a href='{escape(signup)}'>Sign up</a></p>"
        )
        return _page("Login | Mailchimp", body)

    async def authorize_post(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        params = authorize_params(form)
        problem = check_client(params)
        if problem:
            return _page("Login | Mailchimp", f"<p class='error'>{escape(problem)}</p>", 400)
        redirect_uri = params["redirect_uri"]
        extra = {"state": params["state"]} if "state" in params else {}
        account_id = form.get("account_id", "")
        # Deny (or no account chosen): RFC 6749 §4.1.2.1 - the authorization server redirects
        # to redirect_uri with error=access_denied in the query, plus the request's state
        # ("REQUIRED if a state parameter was present"), and no code. Mailchimp's authorize
        # page follows it (https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/).
        if form.get("decision", "allow") != "allow" or account_id not in state.accounts:
            target = _with_query(redirect_uri, {"error": "access_denied", **extra})
            return RedirectResponse(target, status_code=302)
        code = secrets.token_hex(16)
        with state.lock:
            state.oauth_codes[code] = OAuthCode(
                code=code,
                client_id=params["client_id"],
                redirect_uri=redirect_uri,
                account_id=account_id,
                expires_at=state.clock.now() + sandbox.oauth_code_ttl,
            )
        return RedirectResponse(_with_query(redirect_uri, {"code": code, **extra}), 302)

    async def token(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.", 400)
        client = state.oauth_clients.get(form.get("client_id", ""))
        # Compared as bytes: `compare_digest` refuses str with non-ASCII characters (a 500
        # where Mailchimp answers invalid_client).
        if client is None or not secrets.compare_digest(
            client.client_secret.encode(), form.get("client_secret", "").encode()
        ):
            return _oauth_error("invalid_client", "Invalid client credentials.", 401)
        with state.lock:
            code = state.oauth_codes.get(form.get("code", ""))
            if code is None or code.client_id != client.client_id:
                return _oauth_error("invalid_grant", "Invalid authorization code.", 400)
            if code.used:
                if code.code in issued_from:
                    state.revoked.add(issued_from[code.code])
                return _oauth_error("invalid_grant", "Invalid authorization code.", 400)
            code.used = True
            if code.expires_at <= state.clock.now():
                return _oauth_error("invalid_grant", "Authorization code expired.", 400)
            if code.redirect_uri != form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "Invalid redirect_uri.", 400)
            access_token = sandbox.issue_oauth_token(code.account_id)
            issued_from[code.code] = access_token
        return JSONResponse({"access_token": access_token, "expires_in": 0, "scope": None})

    async def metadata(request: Request) -> Response:
        scheme, _, token_value = request.headers.get("authorization", "").partition(" ")
        token_value = token_value.strip()
        with state.lock:
            account_id = state.tokens.get(token_value)
            # "Authorization: OAuth {access_token}", as Mailchimp's OAuth guide sends it.
            valid = scheme.lower() == "oauth" and account_id is not None
            if not valid or token_value in state.revoked or account_id is None:
                return _oauth_error("invalid_token", "Invalid or revoked access token.", 401)
            account = state.accounts[account_id].account
        return JSONResponse(
            {
                "dc": account.dc,
                "role": account.role,
                "accountname": account.name,
                "user_id": account.user_id,
                "login": {
                    "email": account.login_email,
                    "avatar": None,
                    "login_id": int(account.login_id),
                    "login_name": account.login_email,
                    "login_email": account.login_email,
                },
                "login_url": f"{sandbox.public_base_url}/oauth2/authorize",
                "api_endpoint": sandbox.api_endpoint(account.dc),
            }
        )

    async def signup_get(request: Request) -> Response:
        params = authorize_params(dict(request.query_params))
        body = (
            "<h1>Sign up for Mailchimp</h1>"
            f"<form method='post' action='{base}/signup/'>"
            f"{_hidden(params)}"
            "<label>Business name<input name='name' required></label>"
            "<label>Email<input name='login_email' type='email' required></label>"
            "<label>Datacenter<input name='dc' value='us21' pattern='[a-z]+[0-9]+'></label>"
            "<button type='submit'>Sign Up</button></form>"
        )
        return _page("Signup | Mailchimp", body)

    async def signup_post(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        name, email = form.get("name", "").strip(), form.get("login_email", "").strip()
        if not name or "@" not in email:
            msg = "Please enter a business name and a valid email address."
            return _page("Signup | Mailchimp", f"<p class='error'>{escape(msg)}</p>", 400)
        account = sandbox.create_account(name, email, dc=form.get("dc") or "us21")
        params = authorize_params(form)
        next_step = (
            f"<p><a href='{base}/oauth2/authorize?{escape(urlencode(params))}'>"
            "Continue to authorize the app</a></p>"
            if params.get("client_id")
            else "<p>You can now return to the app and connect Mailchimp.</p>"
        )
        body = (
            f"<h1>Welcome, {escape(account.name)}!</h1>"
            f"<p>Your account ({escape(account.login_email)}) is ready.</p>{next_step}"
        )
        return _page("Signup | Mailchimp", body)

    return [
        Route("/oauth2/authorize", authorize_get, methods=["GET"]),
        Route("/oauth2/authorize", authorize_post, methods=["POST"]),
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/metadata", metadata, methods=["GET"]),
        Route("/signup/", signup_get, methods=["GET"]),
        Route("/signup/", signup_post, methods=["POST"]),
    ]
