"""A Mailchimp account disabled (closed, suspended): Mailchimp answers every call 403 "User
Disabled" (error glossary, https://mailchimp.com/developer/marketing/docs/errors/). Before, such
a 403 was a plain `Forbidden`: background work refused by it left the connection shown
connected with its check passed, and the admin's check blamed "the user's role or plan". Now it
is `AccountDisabled`, which revokes the connection as a refused credential does, saying the
account is disabled (the sandbox's `disable`)."""

from __future__ import annotations

import httpx
import pytest

from addon.connection.service import mailchimp_for
from addon.mailchimp import Forbidden
from addon.mailchimp.error_responses import error_from_response
from addon.mailchimp.errors import AccountDisabled
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.factories import connection_row


def _disable(sandbox: MailchimpSandbox, account: SandboxAccount) -> None:
    sandbox.disable(account)  # every call refused: 403 "User Disabled"


async def _connect(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> None:
    answer = await client.post("/api/connection/api-key", json={"api_key": key}, headers=headers)
    assert answer.status_code == 200, answer.text


def _answer(title: str) -> httpx.Response:
    request = httpx.Request("GET", "https://us21.api.mailchimp.com/3.0/lists")
    body = {"title": title, "status": 403, "detail": "…", "instance": "abc"}
    return httpx.Response(403, json=body, request=request)


def test_a_403_titled_user_disabled_is_account_disabled_and_others_stay_forbidden() -> None:
    disabled = error_from_response(_answer("User Disabled"))
    assert type(disabled) is AccountDisabled and isinstance(disabled, Forbidden)
    assert type(error_from_response(_answer("Forbidden"))) is Forbidden


async def test_background_work_refused_by_a_disabled_account_revokes_the_connection(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    services: Services,
) -> None:
    await _connect(app_client, headers, account.api_key)
    installation_id = (await connection_row(services)).installation_id
    _disable(mailchimp, account)
    with pytest.raises(AccountDisabled):
        async with mailchimp_for(services, installation_id) as client:
            await client.ping()
    shown = (await app_client.get("/api/connection", headers=headers)).json()
    assert (shown["status"], shown["last_check_ok"]) == ("revoked", False), shown
    assert "disabled" in shown["last_check_message"]


async def test_a_check_of_a_disabled_account_says_so_and_revokes_it(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
) -> None:
    await _connect(app_client, headers, account.api_key)
    _disable(mailchimp, account)
    check = (await app_client.post("/api/connection/check", headers=headers)).json()
    assert check["ok"] is False and check["connection"]["status"] == "revoked"
    assert "role or plan" not in check["message"]
    assert "has been disabled" in check["message"] and "Contact Mailchimp" in check["message"]
