"""A finished batch's results URL: a pre-signed S3 URL that expires, asked for again, and the
results Mailchimp deletes. Before, an archive's expiry was the archive's, not the URL's, and
`GET /batches/{id}` could not model a URL signed again."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox


async def finished_batch(sandbox: MailchimpSandbox, client: httpx.AsyncClient) -> dict[str, str]:
    submitted = await client.post("/batches", json={"operations": []})
    await sandbox.drain_batches()
    batch = (await client.get(f"/batches/{submitted.json()['id']}")).json()
    assert batch["status"] == "finished"
    return dict(batch)


async def test_a_url_signed_again_works_and_the_old_one_stays_expired(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    batch = await finished_batch(sandbox, client)
    sandbox.clock.advance(sandbox.batch_result_ttl + 1)
    # By default (Mailchimp's docs promise no fresh URL) the same, expired URL.
    same = (await client.get(f"/batches/{batch['id']}")).json()
    assert same["response_body_url"] == batch["response_body_url"]
    expired = await client.get(same["response_body_url"])
    assert expired.status_code == 403 and b"Request has expired" in expired.content
    sandbox.batch_url_renewed_on_get = True
    again = (await client.get(f"/batches/{batch['id']}")).json()
    assert again["response_body_url"] != batch["response_body_url"]
    assert (await client.get(again["response_body_url"])).status_code == 200
    assert (await client.get(batch["response_body_url"])).status_code == 403


async def test_a_url_never_signed_is_refused(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    batch = await finished_batch(sandbox, client)
    url = httpx.URL(batch["response_body_url"])
    forged = url.copy_set_param("Expires", str(int(url.params["Expires"]) + 3600))
    refused = await client.get(forged)
    assert refused.status_code == 403 and b"SignatureDoesNotMatch" in refused.content


async def test_deleted_results_answer_404_whatever_the_url(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    sandbox.batch_url_renewed_on_get = True
    batch = await finished_batch(sandbox, client)
    sandbox.batch_runner.delete_results(batch["id"])
    again = (await client.get(f"/batches/{batch['id']}")).json()
    gone = await client.get(again["response_body_url"])
    assert gone.status_code == 404 and b"NoSuchKey" in gone.content
