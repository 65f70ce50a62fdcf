"""``release_batches``: while batches are paused, a test lets exactly as many start as it says."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount


async def submit(client: httpx.AsyncClient, n: int) -> list[str]:
    ids = []
    for i in range(n):
        ops = [{"method": "GET", "path": "/ping", "operation_id": str(i)}]
        response = await client.post("/batches", json={"operations": ops})
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


async def until_finished(sandbox: MailchimpSandbox, account: SandboxAccount, count: int) -> None:
    """Until `count` batches are finished (the runner looks every few milliseconds)."""
    give_up = asyncio.get_running_loop().time() + 60  # only a hang gets there
    while sum(b.status == "finished" for b in sandbox.batches(account)) < count:
        assert asyncio.get_running_loop().time() < give_up, "no batch finished"
        await asyncio.sleep(0.005)


async def test_each_release_lets_one_waiting_batch_start(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    sandbox.batches_paused = True
    ids = await submit(client, 3)

    sandbox.release_batches()
    await until_finished(sandbox, account, 1)
    # The one release is taken: the other two cannot start while paused.
    assert sandbox.batch_releases == 0
    statuses = sorted(b.status for b in sandbox.batches(account))
    assert statuses == ["finished", "pending", "pending"]

    sandbox.release_batches(2)
    await until_finished(sandbox, account, 3)
    assert sandbox.batch_releases == 0
    assert {b.id for b in sandbox.batches(account)} == set(ids)


async def test_a_release_waits_for_the_next_batch_and_is_taken_once(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    sandbox.batches_paused = True
    # Given from another thread, as a browser test does while the sandbox serves the live stack.
    thread = threading.Thread(target=sandbox.release_batches)
    thread.start()
    thread.join()
    assert sandbox.batch_releases == 1
    await submit(client, 2)
    await until_finished(sandbox, account, 1)
    assert sandbox.batch_releases == 0
    assert sorted(b.status for b in sandbox.batches(account)) == ["finished", "pending"]

    # Resuming lets the rest go, without any release.
    sandbox.batches_paused = False
    await sandbox.drain_batches()
    assert [b.status for b in sandbox.batches(account)] == ["finished"] * 2


async def test_a_cancelled_batch_takes_no_release(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    sandbox.batches_paused = True
    [first] = await submit(client, 1)
    assert (await client.delete(f"/batches/{first}")).status_code == 204
    await sandbox.drain_batches()  # the deleted batch's runner ends without starting it
    sandbox.release_batches()
    assert sandbox.batch_releases == 1
    await submit(client, 1)
    await until_finished(sandbox, account, 1)
    assert sandbox.batch_releases == 0


def test_a_negative_release_is_refused(sandbox: MailchimpSandbox) -> None:
    with pytest.raises(ValueError, match="n must be"):
        sandbox.release_batches(-1)
    assert sandbox.batch_releases == 0
