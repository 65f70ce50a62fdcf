"""`POST .../merge-fields` and `POST .../webhooks` are never sent twice (as `POST /batches`): a
failure once they may have reached Mailchimp is an unknown outcome (`OutcomeUnknown`). Resent,
a merge field without a tag was made twice (Mailchimp gives each its own MMERGEn), and one with
a tag, or a webhook, was refused as taken although the first send had made it."""

from __future__ import annotations

import httpx
import pytest

from addon.mailchimp import (
    MailchimpClient,
    MailchimpCredentials,
    OutcomeUnknown,
    WebhookEvents,
    WebhookInput,
    WebhookSources,
)
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.conftest import MakeHttp, RecordingTransport
from tests.mailchimp.test_lists import make_list


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """Passes every request on; the answer of the first POST to a path ending with `suffix` is
    lost (a read timeout once Mailchimp acted)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, suffix: str) -> None:
        self.inner, self.suffix, self.lost = inner, suffix, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith(self.suffix) and not self.lost:
            self.lost = True
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


def posts(recorder: RecordingTransport, suffix: str) -> int:
    return sum(1 for method, path, _ in recorder.sent if method == "POST" and path.endswith(suffix))


@pytest.mark.parametrize("tag", [None, "TIER"])
async def test_a_merge_field_whose_answer_is_lost_is_not_made_again(
    make_http: MakeHttp,
    transport: httpx.AsyncBaseTransport,
    credentials: MailchimpCredentials,
    client: MailchimpClient,
    recorder: RecordingTransport,
    tag: str | None,
) -> None:
    audience = await make_list(client)
    lossy = MailchimpClient(
        make_http(transport=LosesFirstAnswer(transport, "/merge-fields")), credentials
    )
    with pytest.raises(OutcomeUnknown, match="may or may not"):
        await lossy.create_merge_field(audience.id, "Loyalty tier", "text", tag=tag)
    assert posts(recorder, "/merge-fields") == 1
    made = [f async for f in client.merge_fields(audience.id) if f.name == "Loyalty tier"]
    assert len(made) == 1
    assert tag is None or made[0].tag == tag


async def test_a_webhook_whose_answer_is_lost_is_not_sent_again(
    make_http: MakeHttp,
    transport: httpx.AsyncBaseTransport,
    credentials: MailchimpCredentials,
    client: MailchimpClient,
    recorder: RecordingTransport,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
) -> None:
    audience = await make_list(client)
    lossy = MailchimpClient(
        make_http(transport=LosesFirstAnswer(transport, "/webhooks")), credentials
    )
    hook = WebhookInput(
        url="http://app.test/hook",
        events=WebhookEvents(subscribe=True, campaign=False),
        sources=WebhookSources(user=True, admin=True),
    )
    with pytest.raises(OutcomeUnknown, match="may or may not"):
        await lossy.create_webhook(audience.id, hook)
    assert posts(recorder, "/webhooks") == 1
    assert [w.url for w in sandbox.webhooks(account, audience.id)] == [hook.url]
