"""Campaigns, reports, e-mail activity and account-wide orders: consistent with what was sent
(every answer is checked against the Marketing API contract by the autouse fixture)."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.mailchimp.campaigns import (
    record_activity,
    record_unsubscribe,
    send_campaign,
    set_member_rating,
)
from sandboxes.mailchimp.state import subscriber_hash

from .helpers import create_list, create_store, order_body, product_body
from .test_core import assert_problem

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


async def _audience(client: httpx.AsyncClient, *emails: str) -> str:
    list_id = await create_list(client)
    for email in emails:
        response = await client.post(
            f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
        )
        assert response.status_code == 200, response.text
    return list_id


async def test_campaigns_and_reports_follow_what_was_sent(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await _audience(client, "a@x.test", "b@x.test", "c@x.test", "d@x.test")
    await client.post(
        f"/lists/{list_id}/members", json={"email_address": "u@x.test", "status": "unsubscribed"}
    )
    first = send_campaign(sandbox, account, list_id, title="Spring", sent_at=T0)
    second = send_campaign(sandbox, account, list_id, title="Summer", sent_at=T0 + 86_400)
    record_activity(
        sandbox,
        account,
        first,
        [
            ("a@x.test", "open", T0 + 60),
            ("a@x.test", "open", T0 + 120),
            ("a@x.test", "click", T0 + 130),
            ("b@x.test", "open", T0 + 300),
            ("d@x.test", "bounce", T0 + 5),
        ],
    )
    record_unsubscribe(sandbox, account, first, "c@x.test")

    listed = (await client.get("/campaigns", params={"list_id": list_id, "count": 1})).json()
    assert listed["total_items"] == 2 and [c["id"] for c in listed["campaigns"]] == [first]
    assert listed["campaigns"][0]["recipients"]["recipient_count"] == 4  # subscribed only
    window = await client.get(
        "/campaigns",
        params={"since_send_time": "2027-01-15T08:00:00+00:00", "status": "sent"},
    )
    assert [c["id"] for c in window.json()["campaigns"]] == [second]  # "after": exclusive
    before = await client.get("/campaigns", params={"before_send_time": "2027-01-16T00:00:00Z"})
    assert [c["id"] for c in before.json()["campaigns"]] == [first]
    assert (await client.get("/campaigns", params={"status": "save"})).json()["campaigns"] == []
    for not_rfc3339 in ("soon", "2027-01-15 08:00:00+00:00"):
        doc = assert_problem(
            await client.get("/campaigns", params={"since_send_time": not_rfc3339}),
            400,
            "Invalid Resource",
        )
        assert doc["errors"] == [
            {"field": "since_send_time", "message": "This value is not a valid datetime."}
        ]
    assert_problem(
        await client.get("/campaigns", params={"status": "done"}), 400, "Invalid Resource"
    )
    titles = await client.get("/campaigns", params={"fields": "campaigns.settings.title"})
    assert titles.json() == {
        "campaigns": [{"settings": {"title": t}} for t in ("Spring", "Summer")]
    }

    report = (await client.get(f"/reports/{first}")).json()
    assert report["emails_sent"] == 4 and report["unsubscribed"] == 1
    assert report["opens"]["opens_total"] == 3 and report["opens"]["unique_opens"] == 2
    assert report["opens"]["open_rate"] == round(2 / 3, 4)  # over the 3 delivered
    assert report["opens"]["last_open"] == "2027-01-15T08:05:00+00:00"
    assert report["clicks"]["clicks_total"] == 1 and report["clicks"]["click_rate"] == round(
        1 / 3, 4
    )
    assert report["bounces"] == {"hard_bounces": 1, "soft_bounces": 0, "syntax_errors": 0}
    quiet = (await client.get(f"/reports/{second}")).json()
    # No open or click yet: "", as Mailchimp answers (`render_report`).
    assert quiet["opens"]["last_open"] == "" and quiet["opens"]["unique_opens"] == 0
    assert quiet["clicks"]["last_click"] == ""
    assert_problem(await client.get("/reports/nope"), 404, "Resource Not Found")


async def test_email_activity_pages_and_since(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    emails = [f"m{i}@x.test" for i in range(5)]
    list_id = await _audience(client, *emails)
    campaign = send_campaign(sandbox, account, list_id, title="News", sent_at=T0)
    record_activity(sandbox, account, campaign, [(emails[1], "open", T0 + 10)])
    record_activity(sandbox, account, campaign, [(emails[3], "click", T0 + 500)])
    record_activity(sandbox, account, campaign, [(emails[1], "open", T0 + 600)])

    page = (
        await client.get(f"/reports/{campaign}/email-activity", params={"count": 2, "offset": 1})
    ).json()
    assert page["total_items"] == 5 and page["campaign_id"] == campaign
    assert [e["email_address"] for e in page["emails"]] == emails[1:3]
    assert [a["action"] for a in page["emails"][0]["activity"]] == ["open", "open"]
    since = (
        await client.get(
            f"/reports/{campaign}/email-activity",
            params={"since": "2027-01-15T08:00:10+00:00", "count": 1000},
        )
    ).json()
    # Only events after `since`, of the members who have one, in send order.
    assert [
        (e["email_address"], [a["action"] for a in e["activity"]]) for e in since["emails"]
    ] == [
        (emails[1], ["open"]),
        (emails[3], ["click"]),
    ]
    assert since["total_items"] == 2
    assert_problem(
        await client.get(f"/reports/{campaign}/email-activity", params={"since": "x"}),
        400,
        "Invalid Resource",
    )
    assert_problem(
        await client.get(f"/reports/{campaign}/email-activity", params={"count": "many"}),
        400,
        "Invalid Resource",
    )
    capped = await client.get(f"/reports/{campaign}/email-activity", params={"count": 5000})
    assert len(capped.json()["emails"]) == 5  # count is capped at 1000, not refused

    try:
        record_activity(sandbox, account, campaign, [("stranger@x.test", "open", T0 + 1)])
    except KeyError:
        pass
    else:
        raise AssertionError("activity of a non-recipient was recorded")
    try:
        record_activity(sandbox, account, campaign, [(emails[0], "open", T0 - 1)])
    except ValueError:
        pass
    else:
        raise AssertionError("activity before the send was recorded")


async def test_ratings_tags_and_since_last_changed(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await _audience(client, "a@x.test", "b@x.test")
    set_member_rating(sandbox, account, list_id, "a@x.test", 5)
    members = (await client.get(f"/lists/{list_id}/members")).json()["members"]
    assert {m["email_address"]: m["member_rating"] for m in members} == {
        "a@x.test": 5,
        "b@x.test": 2,
    }
    sandbox.clock.advance(3600)
    cutoff = sandbox.clock.iso()
    sandbox.clock.advance(60)
    tagged = await client.post(
        f"/lists/{list_id}/members/b@x.test/tags",
        json={"tags": [{"name": "vip", "status": "active"}]},
    )
    assert tagged.status_code == 204
    changed = await client.get(
        f"/lists/{list_id}/members",
        params={"since_last_changed": cutoff, "fields": "members.email_address,members.tags"},
    )
    assert [
        (m["email_address"], [t["name"] for t in m["tags"]]) for m in changed.json()["members"]
    ] == [("b@x.test", ["vip"])]
    for not_rfc3339 in ("x", "2027-01-15", "2027-01-15T08:00:00"):
        assert_problem(
            await client.get(
                f"/lists/{list_id}/members", params={"since_last_changed": not_rfc3339}
            ),
            400,
            "Invalid Resource",
        )


async def test_orders_across_stores_carry_their_campaign(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await _audience(client, "buyer@acme.test")
    await create_store(client, list_id)
    assert (await client.post("/ecommerce/stores/store-1/products", json=product_body())).is_success
    campaign = send_campaign(sandbox, account, list_id, title="Sale", sent_at=T0)
    for order_id, extra in (("o1", {"campaign_id": campaign}), ("o2", {})):
        response = await client.post(
            "/ecommerce/stores/store-1/orders", json=order_body(order_id, **extra)
        )
        assert response.status_code == 200, response.text

    attributed = (await client.get("/ecommerce/orders", params={"campaign_id": campaign})).json()
    assert [o["id"] for o in attributed["orders"]] == ["o1"]
    assert attributed["orders"][0]["outreach"]["id"] == campaign
    assert attributed["orders"][0]["outreach"]["name"] == "Sale"
    with_outreach = await client.get("/ecommerce/orders", params={"has_outreach": "false"})
    assert [o["id"] for o in with_outreach.json()["orders"]] == ["o2"]
    assert_problem(
        await client.get("/ecommerce/orders", params={"has_outreach": "maybe"}),
        400,
        "Invalid Resource",
    )
    report = (await client.get(f"/reports/{campaign}")).json()
    # The spec's `E_Commerce_Report`: revenue is the totals less shipping (2) and tax (1).
    assert report["ecommerce"] == {
        "total_orders": 1,
        "total_spent": 19.0,
        "total_revenue": 16.0,
        "currency_code": "USD",
    }


async def test_bounces_count_addresses_and_every_listed_filter_applies(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    """`hard_bounces` counts addresses (a recipient bouncing twice is one bounce, hard if either
    was), rates are over the delivered; the spec's create-time, member and folder filters of
    `GET /campaigns` are applied, not ignored (campaigns.py's docstring)."""
    list_id = await _audience(client, "a@x.test", "b@x.test", "c@x.test", "d@x.test")
    first = send_campaign(sandbox, account, list_id, title="Spring", sent_at=T0)
    record_activity(
        sandbox, account, first, [("a@x.test", "bounce", T0 + 5), ("a@x.test", "bounce", T0 + 9)]
    )
    record_activity(sandbox, account, first, [("b@x.test", "bounce", T0 + 5)], bounce_type="soft")
    record_activity(sandbox, account, first, [("b@x.test", "bounce", T0 + 7)], bounce_type="hard")
    record_activity(sandbox, account, first, [("c@x.test", "bounce", T0 + 5)], bounce_type="soft")
    record_activity(sandbox, account, first, [("d@x.test", "open", T0 + 60)])
    for late in (("a@x.test", "open", T0 + 90), ("d@x.test", "bounce", T0 + 90)):
        try:  # a hard bounce was never delivered: no open of it, no hard bounce after an open
            record_activity(sandbox, account, first, [late])
        except ValueError:
            pass
        else:
            raise AssertionError(f"{late} was recorded")
    report = (await client.get(f"/reports/{first}")).json()
    assert report["bounces"] == {"hard_bounces": 2, "soft_bounces": 1, "syntax_errors": 0}
    assert report["opens"]["open_rate"] == 1.0  # 1 unique open over the 1 delivered

    await client.post(
        f"/lists/{list_id}/members", json={"email_address": "late@x.test", "status": "subscribed"}
    )
    second = send_campaign(sandbox, account, list_id, title="Summer", sent_at=T0 + 86_400)

    async def ids(**params: str) -> list[str]:
        got = await client.get("/campaigns", params=params)
        assert got.status_code == 200, got.text
        return [c["id"] for c in got.json()["campaigns"]]

    assert await ids(since_create_time="2027-01-15T08:00:00+00:00") == [second]  # exclusive
    assert await ids(before_create_time="2027-01-16T08:00:00+00:00") == [first]  # exclusive
    assert await ids(member_id=subscriber_hash("nobody@x.test")) == []
    assert await ids(member_id=subscriber_hash("late@x.test")) == [second]
    assert await ids(member_id=subscriber_hash("a@x.test")) == [first, second]
    assert await ids(folder_id="f1") == []
    assert_problem(
        await client.get("/campaigns", params={"since_create_time": "soon"}),
        400,
        "Invalid Resource",
    )
