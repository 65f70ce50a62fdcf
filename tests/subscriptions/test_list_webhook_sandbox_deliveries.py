"""The Mailchimp sandbox's audience-webhook deliveries, as strict as Mailchimp's: the member sent
whole in Mailchimp's form encoding (every merge field, `INTERESTS`, `GROUPINGS`), the
validator's and the deliveries' user agents, campaign events whatever the webhook's sources, and
a delivery the receiver did not take sent again, as first sent (`sandboxes/mailchimp/webhooks`).
Before, a delivery carried only what the test gave, a failed one was never sent again, and a
campaign event went only to webhooks whose sources matched."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.transport import HostRoutingTransport
from tests.sandbox_mailchimp.helpers import list_body

URL = "http://receiver.test/hook"
ANN = "ann@example.com"


class Receiver:
    """A webhook receiver answering each POST with the next of `answers` (then 200)."""

    def __init__(self, network: HostRoutingTransport, *answers: int) -> None:
        self.answers = list(answers)
        self.posts: list[tuple[str, list[tuple[str, str]]]] = []
        self.checks: list[str] = []
        network.add(
            "receiver.test", Starlette(routes=[Route("/hook", self.hook, methods=["GET", "POST"])])
        )

    async def hook(self, request: Request) -> PlainTextResponse:
        agent = request.headers.get("user-agent", "")
        if request.method == "GET":
            self.checks.append(agent)
            return PlainTextResponse("ok")
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        self.posts.append((agent, form))
        return PlainTextResponse("ok", status_code=self.answers.pop(0) if self.answers else 200)


async def _call(
    sandbox: MailchimpSandbox, account: SandboxAccount, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    result = await sandbox.call(account, method, path, body=body)
    assert result.status < 300, result.body
    return result.body or {}


async def _audience(sandbox: MailchimpSandbox, account: SandboxAccount, **sources: bool) -> str:
    """An audience with a "Topics" group (Fruit, Veg) and a webhook at `URL`."""
    list_id = str((await _call(sandbox, account, "POST", "/lists", list_body("News")))["id"])
    hook = {"url": URL, "sources": {"user": True, "admin": True, "api": False, **sources}}
    await _call(sandbox, account, "POST", f"/lists/{list_id}/webhooks", hook)
    return list_id


async def test_a_member_event_carries_the_member_whole_in_mailchimps_form(
    mailchimp: MailchimpSandbox, account: SandboxAccount, network: HostRoutingTransport
) -> None:
    receiver = Receiver(network)
    list_id = await _audience(mailchimp, account)
    assert receiver.checks == ["MailChimp.com WebHook Validator"]
    base = f"/lists/{list_id}/interest-categories"
    category = await _call(
        mailchimp, account, "POST", base, {"title": "Topics", "type": "checkboxes"}
    )
    ids = [
        (
            await _call(
                mailchimp, account, "POST", f"{base}/{category['id']}/interests", {"name": n}
            )
        )["id"]
        for n in ("Fruit", "Veg, greens")
    ]
    member = await _call(
        mailchimp,
        account,
        "PUT",
        f"/lists/{list_id}/members/{ANN}",
        {
            "email_address": ANN,
            "status_if_new": "subscribed",
            "merge_fields": {"FNAME": "Ann"},
            "interests": dict.fromkeys(ids, True),
        },
    )

    [answer] = await mailchimp.fire_list_webhook(account, list_id, "profile", {"email": ANN})

    assert answer.status_code == 200
    [(agent, form)] = receiver.posts
    assert agent == "MailChimp.com"
    fields = dict(form)
    assert (
        form[0][0] == "type" and form[1][0] == "fired_at" and form[-1] == ("data[list_id]", list_id)
    )
    assert fields["data[id]"] == member["unique_email_id"]
    assert fields["data[web_id]"] == str(member["web_id"])
    assert fields["data[email]"] == fields["data[merges][EMAIL]"] == ANN
    assert (fields["data[email_type]"], fields["data[merges][FNAME]"]) == ("html", "Ann")
    assert fields["data[merges][ADDRESS]"] == ""  # an empty address: one empty field
    assert fields["data[merges][INTERESTS]"] == "Fruit, Veg\\, greens"
    assert fields["data[merges][GROUPINGS][0][unique_id]"] == category["id"]
    assert fields["data[merges][GROUPINGS][0][name]"] == "Topics"
    assert fields["data[merges][GROUPINGS][0][groups]"] == "Fruit, Veg\\, greens"


async def test_campaign_events_go_whatever_the_webhooks_sources(
    mailchimp: MailchimpSandbox, account: SandboxAccount, network: HostRoutingTransport
) -> None:
    receiver = Receiver(network)
    list_id = await _audience(mailchimp, account, user=False, admin=False)

    assert await mailchimp.fire_list_webhook(account, list_id, "subscribe", {"email": ANN}) == []
    sent = {"id": "5aa2102003", "subject": "Hello", "status": "sent", "reason": ""}
    [answer] = await mailchimp.fire_list_webhook(account, list_id, "campaign", sent)
    assert answer.status_code == 200
    assert dict(receiver.posts[0][1])["type"] == "campaign"


@pytest.mark.parametrize("failure", [500, 404])
async def test_a_delivery_not_taken_is_sent_again_as_first_sent(
    mailchimp: MailchimpSandbox,
    account: SandboxAccount,
    network: HostRoutingTransport,
    failure: int,
) -> None:
    receiver = Receiver(network, failure, failure, failure, failure)
    list_id = await _audience(mailchimp, account)

    [first] = await mailchimp.fire_list_webhook(
        account, list_id, "cleaned", {"email": ANN, "reason": "hard"}
    )
    assert first.status_code == failure
    tries = [await mailchimp.redeliver_list_webhooks(account, list_id) for _ in range(4)]

    # Three more tries, then given up; each the same delivery (its first `fired_at`).
    assert [[r.status_code for r in t] for t in tries] == [[failure]] * 3 + [[]]
    assert len({tuple(form) for _, form in receiver.posts}) == 1


async def test_a_delivery_taken_at_a_retry_is_not_sent_again(
    mailchimp: MailchimpSandbox, account: SandboxAccount, network: HostRoutingTransport
) -> None:
    receiver = Receiver(network, 503)
    list_id = await _audience(mailchimp, account)

    await mailchimp.fire_list_webhook(account, list_id, "unsubscribe", {"email": ANN})
    assert [r.status_code for r in await mailchimp.redeliver_list_webhooks(account, list_id)] == [
        200
    ]
    assert await mailchimp.redeliver_list_webhooks(account, list_id) == []
    assert len(receiver.posts) == 2
