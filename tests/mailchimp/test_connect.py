"""Connecting an account: ping, account info, wrong and revoked credentials."""

from __future__ import annotations

import pytest

from addon.mailchimp import (
    InvalidCredentials,
    MailchimpClient,
    MailchimpCredentials,
    MailchimpHttp,
)
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox


async def test_ping_and_account(client: MailchimpClient, account: SandboxAccount) -> None:
    ping = await client.ping()
    assert ping.health_status == "Everything's Chimpy!"
    info = await client.account()
    assert info.account_id == account.id
    assert info.account_name == "Chimp Shop"
    assert info.email == "owner@chimp.test"
    assert info.role == "owner"
    assert (info.first_name, info.last_name) == ("Ada", "Lovelace")
    assert info.login_id == account.login_id


async def test_pasted_key_with_whitespace_connects(
    http: MailchimpHttp, account: SandboxAccount
) -> None:
    creds = MailchimpCredentials.from_api_key(f"\n  {account.api_key}  \n")
    assert (await MailchimpClient(http, creds).ping()).health_status


async def test_wrong_key_is_invalid_credentials(
    http: MailchimpHttp, account: SandboxAccount, requests_to: object
) -> None:
    wrong = "f" * 32 + "-us21"
    client = MailchimpClient(http, MailchimpCredentials.from_api_key(wrong))
    with pytest.raises(InvalidCredentials) as info:
        await client.ping()
    assert info.value.status == 401
    assert info.value.title == "API Key Invalid"
    assert "revoked or the key is wrong" in str(info.value)
    assert wrong not in str(info.value)


async def test_key_of_another_data_centre_is_invalid_credentials(
    http: MailchimpHttp, sandbox: MailchimpSandbox
) -> None:
    other = sandbox.create_account("Elsewhere", "x@else.test", dc="us6")
    secret = other.api_key.rpartition("-")[0]
    creds = MailchimpCredentials.from_api_key(f"{secret}-us21")
    with pytest.raises(InvalidCredentials):
        await MailchimpClient(http, creds).ping()


async def test_revoked_after_connect_is_invalid_credentials(
    client: MailchimpClient, sandbox: MailchimpSandbox, account: SandboxAccount
) -> None:
    await client.ping()
    sandbox.revoke(account.api_key)
    with pytest.raises(InvalidCredentials):
        await client.account()


async def test_other_data_centre_account_uses_its_own_host_path(
    http: MailchimpHttp, sandbox: MailchimpSandbox
) -> None:
    other = sandbox.create_account("Elsewhere", "x@else.test", dc="us6")
    client = MailchimpClient(http, MailchimpCredentials.from_api_key(other.api_key))
    assert client.base_url == "http://mailchimp.test/us6/3.0"
    assert (await client.account()).account_id == other.id
