"""An OAuth callback that cannot finish says why in the app's error model, never as an
unexpected failure (a 500 naming a request id): Mailchimp's login host answering a page that
is not JSON, or metadata naming no data centre, and the app restarted without its OAuth
settings between the start of a log-in and Mailchimp's answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.responses import HTMLResponse, JSONResponse, Response

from addon.connection.models import AttemptStatus, OAuthAttempt
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.transport import HostRoutingTransport
from tests.factories import oauth

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def answering(
    sandbox: MailchimpSandbox, path: str, answer: Response
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The sandbox, except that `path` answers `answer` (a 200 Mailchimp would not send)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == path:
            await answer(scope, receive, send)
        else:
            await sandbox.app(scope, receive, send)

    return app


async def attempt(services: Services) -> OAuthAttempt:
    async with services.db.session() as session:
        return (await session.execute(select(OAuthAttempt))).scalar_one()


@pytest.mark.parametrize(
    ("path", "answer", "said"),
    [
        # A maintenance or proxy page with a 200: Mailchimp is not answering as it does.
        (
            "/oauth2/token",
            HTMLResponse("<html><body>Down for maintenance</body></html>"),
            "Mailchimp is not answering right now",
        ),
        # No data centre to build the API host from: an answer not understood.
        (
            "/oauth2/metadata",
            JSONResponse({"dc": "", "accountname": "Green Grocer"}),
            "Mailchimp did not complete the sign-in: Mailchimp's answer to the sign-in was not "
            "understood",
        ),
    ],
)
async def test_an_answer_mailchimp_would_not_give_ends_the_log_in_plainly(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    mailchimp: MailchimpSandbox,
    network: HostRoutingTransport,
    services: Services,
    path: str,
    answer: Response,
    said: str,
) -> None:
    network.add("mailchimp.test", answering(mailchimp, path, answer))
    page, _ = await oauth(app_client, headers, account)
    assert page.status_code != 500, page.text
    assert '"code": "OAUTH_EXCHANGE_FAILED"' in page.text and said in page.text
    ended = await attempt(services)
    assert ended.status is AttemptStatus.ERROR and ended.code == "OAUTH_EXCHANGE_FAILED"


async def test_oauth_settings_gone_at_the_callback_say_what_to_configure(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    services: Services,
) -> None:
    """Started with MAILCHIMP_CLIENT_SECRET set; the app restarted without it meanwhile."""
    secret = services.settings.mailchimp_client_secret

    async def restarted_without_secret(request: httpx.Request) -> None:
        if request.url.path == "/api/connection/oauth/callback":
            object.__setattr__(services.settings, "mailchimp_client_secret", None)

    app_client.event_hooks["request"].append(restarted_without_secret)
    try:
        page, _ = await oauth(app_client, headers, account)
    finally:
        object.__setattr__(services.settings, "mailchimp_client_secret", secret)
    assert page.status_code != 500, page.text
    assert '"code": "OAUTH_NOT_CONFIGURED"' in page.text and "MAILCHIMP_CLIENT_SECRET" in page.text
    ended = await attempt(services)
    assert ended.status is AttemptStatus.ERROR and ended.code == "OAUTH_NOT_CONFIGURED"
