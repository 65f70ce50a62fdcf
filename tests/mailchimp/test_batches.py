"""Batch operations: submit, poll, download and parse the results archive."""

from __future__ import annotations

import pytest

from addon.mailchimp import (
    BatchOperation,
    CustomerInput,
    MailchimpClient,
    ProductInput,
    ProductVariantInput,
    ResultsUnavailable,
    StorePatch,
    batches,
)
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.conftest import RecordingTransport


async def test_batch_round_trip(
    client: MailchimpClient, sandbox: MailchimpSandbox, recorder: RecordingTransport
) -> None:
    operations = [
        BatchOperation.of("GET", "/ping", operation_id="ping"),
        BatchOperation.of("GET", "/", operation_id="root", params={"fields": "account_id"}),
        BatchOperation.of(
            "PATCH", "/ecommerce/stores/nope", StorePatch(name="x"), operation_id="p"
        ),
    ]
    batch = await client.create_batch(operations)
    assert batch.status == "pending"
    assert batch.total_operations == 3

    await sandbox.drain_batches()
    done = await client.get_batch(batch.id)
    assert done.status == "finished"
    assert done.finished_operations == 3
    assert done.errored_operations == 1
    assert done.response_body_url.startswith("http")

    results = await client.download_batch_results(done.response_body_url)
    by_id = {r.operation_id: r for r in results}
    assert by_id["ping"].ok and by_id["ping"].response == {"health_status": "Everything's Chimpy!"}
    assert by_id["root"].response == {"account_id": sandbox.accounts[0].id}
    assert not by_id["p"].ok and by_id["p"].status_code == 404
    assert by_id["p"].response["title"] == "Resource Not Found"

    # The archive is fetched without credentials.
    download = [i for i, s in enumerate(recorder.sent) if "_batch-results" in s[1]]
    assert download and not any(recorder.authorized[i] for i in download)


def test_batch_operation_body_is_a_json_string() -> None:
    op = BatchOperation.of(
        "PATCH", "/ecommerce/stores/s1", StorePatch(name="Shop"), operation_id="1"
    )
    assert op.body() == {
        "method": "PATCH",
        "path": "/ecommerce/stores/s1",
        "body": '{"name":"Shop"}',
        "operation_id": "1",
    }


async def test_expired_results_url_is_an_error(
    client: MailchimpClient, sandbox: MailchimpSandbox
) -> None:
    batch = await client.create_batch([BatchOperation.of("GET", "/ping")])
    await sandbox.drain_batches()
    url = (await client.get_batch(batch.id)).response_body_url
    sandbox.clock.advance(sandbox.batch_result_ttl + 1)
    # The storage host's refusal, never a Mailchimp role or plan refusal (`Forbidden`).
    with pytest.raises(ResultsUnavailable, match="storage host answered 403"):
        await client.download_batch_results(url)


async def test_a_finished_batch_without_a_results_url_has_no_results(
    client: MailchimpClient, recorder: RecordingTransport
) -> None:
    """Mailchimp answers `response_body_url: ""` until a batch's archive exists: no request,
    no results (each operation's outcome missing: transient to the callers)."""
    sent = len(recorder.sent)
    assert await client.download_batch_results("") == []
    assert len(recorder.sent) == sent


def test_operations_address_resources_as_the_client_does() -> None:
    product = ProductInput(
        id="p 1", title="Shoe", variants=[ProductVariantInput(id="v", title="S")]
    )
    created = batches.create_product("store-1", product, operation_id="gid-1")
    assert (created.method, created.path, created.operation_id) == (
        "POST",
        "/ecommerce/stores/store-1/products",
        "gid-1",
    )
    assert created.body_json is not None and '"id":"p 1"' in created.body_json
    customer = CustomerInput(id="c 1", email_address="c@example.com", opt_in_status=False)
    upsert = batches.upsert_customer("store-1", customer, operation_id="gid-2")
    assert (upsert.method, upsert.path) == ("PUT", "/ecommerce/stores/store-1/customers/c%201")
    with pytest.raises(ValueError, match="cannot be used as a Mailchimp id"):
        batches.upsert_customer("store/1", customer, operation_id="gid-3")
