"""Batches end to end: async processing, tar.gz results in Mailchimp's format, expiry."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from typing import Any

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount, subscriber_hash

from .helpers import create_list, create_store
from .test_core import assert_problem


def read_results(archive: bytes) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".json"):
                handle = tar.extractfile(member)
                assert handle is not None
                results.extend(json.load(handle))
    return results


async def test_batch_end_to_end(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await create_list(client)
    good = {"email_address": "a@example.org", "status": "subscribed"}
    operations = [
        {
            "method": "POST",
            "path": f"/lists/{list_id}/members",
            "body": json.dumps(good),
            "operation_id": "ok",
        },
        {
            "method": "POST",
            "path": f"/lists/{list_id}/members",
            "body": json.dumps(good),
            "operation_id": "dup",
        },
        {
            "method": "GET",
            "path": f"/lists/{list_id}/members",
            "params": {"count": 5},
            "operation_id": "get",
        },
        {
            "method": "DELETE",
            "path": f"/lists/{list_id}/members/{subscriber_hash('a@example.org')}",
            "operation_id": "del",
        },
        {
            "method": "POST",
            "path": f"/lists/{list_id}/members",
            "body": "{oops",
            "operation_id": "bad-json",
        },
    ]
    submitted = await client.post("/batches", json={"operations": operations})
    assert submitted.status_code == 200
    batch = submitted.json()
    assert batch["status"] == "pending" and batch["total_operations"] == 5
    assert batch["finished_operations"] == 0 and batch["response_body_url"] == ""
    assert "submitted_at" in batch
    await sandbox.drain_batches()
    done = (await client.get(f"/batches/{batch['id']}")).json()
    assert done["status"] == "finished"
    assert done["finished_operations"] == 5 and done["errored_operations"] == 2
    archive = await client.get(done["response_body_url"])
    assert archive.status_code == 200
    results = {r["operation_id"]: r for r in read_results(archive.content)}
    assert set(results) == {"ok", "dup", "get", "del", "bad-json"}
    assert results["ok"]["status_code"] == 200
    assert isinstance(results["ok"]["response"], str)
    assert json.loads(results["ok"]["response"])["email_address"] == "a@example.org"
    assert results["dup"]["status_code"] == 400
    assert json.loads(results["dup"]["response"])["title"] == "Member Exists"
    assert json.loads(results["get"]["response"])["total_items"] == 1
    assert results["del"]["status_code"] == 204
    assert results["bad-json"]["status_code"] == 400
    member = sandbox.member(account, list_id, "a@example.org")
    assert member is not None and member.status == "archived"
    assert [r.via for r in sandbox.requests if r.via == "batch"] == ["batch"] * 5

    sandbox.clock.advance(sandbox.batch_result_ttl + 1)
    expired = await client.get(done["response_body_url"])
    assert expired.status_code == 403 and b"Request has expired" in expired.content


async def test_a_result_with_an_integer_beyond_64_bits(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    # A body may hold one (the decoder keeps it an integer): its echo is written exactly, and
    # the batch finishes, where orjson's encoder refused it and the batch stayed `started`.
    await create_store(client, await create_list(client))
    huge = 2**70
    product = {
        "id": "p1",
        "title": "P",
        "variants": [{"id": "v1", "title": "V", "inventory_quantity": huge}],
    }
    operations = [
        {
            "method": "POST",
            "path": "/ecommerce/stores/store-1/products",
            "body": json.dumps(product),
            "operation_id": "huge",
        }
    ]
    batch = (await client.post("/batches", json={"operations": operations})).json()
    await sandbox.drain_batches()
    done = (await client.get(f"/batches/{batch['id']}")).json()
    assert done["status"] == "finished" and done["errored_operations"] == 0
    (result,) = read_results((await client.get(done["response_body_url"])).content)
    assert json.loads(result["response"])["variants"][0]["inventory_quantity"] == huge


async def test_batch_status_progression_and_listing(
    sandbox: MailchimpSandbox,
    client: httpx.AsyncClient,
    account: SandboxAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each stage is held until the test lets it go: no stage can be missed on a slow machine.
    preprocessed = asyncio.Event()
    operation_may_run = asyncio.Event()
    finalized = asyncio.Event()
    runner = sandbox.batch_runner
    execute, finalize = runner._execute, runner._finalize

    async def held_preprocessing(batch: Any) -> None:
        await preprocessed.wait()

    async def held_operation(*args: Any) -> Any:
        await operation_may_run.wait()
        return await execute(*args)

    async def held_finalizing(batch: Any) -> bytes:
        await finalized.wait()
        return await finalize(batch)

    monkeypatch.setattr(runner, "_preprocess", held_preprocessing)
    monkeypatch.setattr(runner, "_execute", held_operation)
    monkeypatch.setattr(runner, "_finalize", held_finalizing)
    sandbox.batches_paused = True
    ops = [{"method": "GET", "path": "/ping", "operation_id": str(i)} for i in range(3)]
    batch = (await client.post("/batches", json={"operations": ops})).json()

    async def status() -> str:
        return str((await client.get(f"/batches/{batch['id']}")).json()["status"])

    async def next_status(after: str) -> str:
        give_up = asyncio.get_running_loop().time() + 60  # only a hang gets there
        while (now := await status()) == after:
            assert asyncio.get_running_loop().time() < give_up, f"the batch stayed {after}"
            await asyncio.sleep(0.005)
        return now

    assert await status() == "pending"
    sandbox.batches_paused = False  # the runner notices the resume on its next look
    assert await next_status("pending") == "preprocessing"
    preprocessed.set()
    assert await next_status("preprocessing") == "started"
    operation_may_run.set()
    assert await next_status("started") == "finalizing"
    finalizing = (await client.get(f"/batches/{batch['id']}")).json()
    assert finalizing["finished_operations"] == 3 and finalizing["response_body_url"] == ""
    finalized.set()
    await sandbox.drain_batches()
    assert await status() == "finished"
    listed = (await client.get("/batches")).json()
    assert listed["total_items"] == 1 and listed["batches"][0]["id"] == batch["id"]
    assert (await client.delete(f"/batches/{batch['id']}")).status_code == 204
    assert_problem(await client.get(f"/batches/{batch['id']}"), 404, "Resource Not Found")
    assert sandbox.batches(account) == []


async def test_batch_validation_and_pending_limit(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    doc = assert_problem(
        await client.post("/batches", json={"operations": [{"path": "/ping"}]}),
        400,
        "Invalid Resource",
    )
    assert doc["errors"][0] == {
        "field": "operations.item:0",
        "message": "Required fields were not provided: method",
    }
    sandbox.batch_start_delay = 60
    for _ in range(500):
        assert (await client.post("/batches", json={"operations": []})).status_code == 200
    over = await client.post("/batches", json={"operations": []})
    assert_problem(over, 429, "Too Many Requests")


async def test_missing_archive_is_404(raw_client: httpx.AsyncClient) -> None:
    assert (await raw_client.get("/_batch-results/nothing.tar.gz")).status_code == 404


async def test_an_accounts_batches_run_one_at_a_time_in_turn(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """Mailchimp runs one batch at a time (its spec, `DELETE /batches/{batch_id}`): a batch
    submitted while another runs waits `pending`, then runs."""
    sandbox.batch_operation_latency = 0.001
    pings = {"operations": [{"method": "GET", "path": "/ping"} for _ in range(20)]}
    first = (await client.post("/batches", json=pings)).json()["id"]
    second = (await client.post("/batches", json=pings)).json()["id"]
    seen: set[tuple[str, str]] = set()
    while True:
        # Both read at one instant: the sandbox runs in this event loop.
        states = {b.id: b.status for b in sandbox.batches(account)}
        seen.add((states[first], states[second]))
        if states[second] == "finished":
            break
        await asyncio.sleep(0)
    assert ("started", "pending") in seen
    assert not {pair for pair in seen if pair[1] != "pending" and pair[0] != "finished"}
    done = {b.id: b.completed_at for b in sandbox.batches(account)}
    assert done[first] is not None and done[second] is not None
    assert done[first] <= done[second]
