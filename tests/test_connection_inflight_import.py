"""An audience import that read Mailchimp while the admin reset the connection (forgetting the
account's data) or connected another account. Before, the import wrote what it read all the
same, in a transaction of its own: the audiences of the account the app had just forgotten came
back, or were offered as those of the account connected in its place. Now the import writes only
if the connection still holds the credentials it read with (`still_connected_as`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from addon.audiences.models import Audience
from addon.audiences.service import ImportRequest, handle_import
from addon.connection.service import still_connected_as
from addon.installations.models import Installation
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import MailchimpCredentials
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.held_mailchimp import until
from tests.sandbox_mailchimp.helpers import list_body


class HoldLists:
    """Holds GET /lists (the import's read) until released."""

    def __init__(self, sandbox: MailchimpSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        self.go = asyncio.Event()
        self.arrived = 0
        call = sandbox.router.call

        async def held(request: Any) -> Any:
            if request.method == "GET" and request.path.rstrip("/").endswith("/lists"):
                self.arrived += 1
                await self.go.wait()
            return await call(request)

        monkeypatch.setattr(sandbox.router, "call", held)


async def _connect(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> dict[str, Any]:
    answer = await client.post("/api/connection/api-key", json={"api_key": key}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _installation_id(services: Services) -> int:
    async with services.db.session() as session:
        return (await session.scalars(select(Installation.id))).one()


async def _list_ids(services: Services) -> list[str]:
    async with services.db.session() as session:
        return list((await session.scalars(select(Audience.list_id))).all())


def _import(services: Services, installation_id: int) -> asyncio.Task[None]:
    job = ClaimedJob(
        id=0, installation_id=installation_id, kind="audiences.import", payload={}, attempts=1
    )
    return asyncio.create_task(handle_import(job, ImportRequest(), services))


async def test_an_import_reading_while_a_reset_forgets_the_account_writes_nothing(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a_list = (await mailchimp.call(account, "POST", "/lists", body=list_body("A's News"))).body
    await _connect(app_client, headers, account.api_key)
    hold = HoldLists(mailchimp, monkeypatch)
    task = _import(services, await _installation_id(services))
    await until(lambda: hold.arrived > 0, "the import reading the lists")
    reset = await app_client.post(
        "/api/connection/reset", json={"forget_account_data": True}, headers=headers
    )
    assert reset.status_code == 200, reset.text
    hold.go.set()
    with caplog.at_level(logging.INFO, logger="addon.audiences.service"):
        await task  # dropped quietly: no error
    assert a_list["id"] not in await _list_ids(services)
    assert "connection changed while it read" in caplog.text


async def test_an_import_reading_while_another_account_is_connected_writes_nothing(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_list = (await mailchimp.call(account, "POST", "/lists", body=list_body("A's News"))).body
    await _connect(app_client, headers, account.api_key)
    other = mailchimp.create_account("Other Shop", "owner@other.example", dc="us21")
    hold = HoldLists(mailchimp, monkeypatch)
    task = _import(services, await _installation_id(services))
    await until(lambda: hold.arrived > 0, "the import reading the lists")
    switched = await _connect(app_client, headers, other.api_key)
    assert switched["continuity"] == "started_clean"
    hold.go.set()
    await task
    assert a_list["id"] not in await _list_ids(services)


async def test_an_import_of_the_connection_as_it_stands_is_written(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    services: Services,
) -> None:
    a_list = (await mailchimp.call(account, "POST", "/lists", body=list_body("A's News"))).body
    await _connect(app_client, headers, account.api_key)
    installation_id = await _installation_id(services)
    await _import(services, installation_id)
    assert a_list["id"] in await _list_ids(services)
    # The same key named for another account, or another key: no longer the connection's.
    same = MailchimpCredentials.from_api_key(account.api_key, account_id=account.id)
    elsewhere = MailchimpCredentials.from_api_key(account.api_key, account_id="someone-else")
    async with services.db.session() as session:
        assert await still_connected_as(session, installation_id, same)
        assert not await still_connected_as(session, installation_id, elsewhere)
