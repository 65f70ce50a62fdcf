"""`GET /lists/{id}/members`: every filter and order the spec lists, and the values it refuses
(`member_query.py`); an audience's groups (interests) are limited to 60."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.mailchimp.campaigns import send_campaign

from .helpers import create_list
from .test_core import assert_problem


async def _add(client: httpx.AsyncClient, list_id: str, email: str, **body: object) -> None:
    response = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": email, "status": "subscribed", **body},
    )
    assert response.status_code == 200, response.text


async def _emails(client: httpx.AsyncClient, list_id: str, **params: str) -> list[str]:
    response = await client.get(f"/lists/{list_id}/members", params=params)
    assert response.status_code == 200, response.text
    return [m["email_address"] for m in response.json()["members"]]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "active"),
        ("sort_field", "email_address"),
        ("sort_dir", "asc"),
    ],
)
async def test_a_value_outside_the_parameters_enum_is_refused(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    list_id = await create_list(client)
    await _add(client, list_id, "a@x.test")
    response = await client.get(f"/lists/{list_id}/members", params={name: value})
    doc = assert_problem(response, 400, "Invalid Resource")
    assert doc["errors"][0]["field"] == name  # type: ignore[index]


async def test_members_sorted_by_last_changed_both_ways(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    list_id = await create_list(client)
    for email in ("a@x.test", "b@x.test", "c@x.test"):
        await _add(client, list_id, email)
        sandbox.clock.advance(60)
    patched = await client.patch(
        f"/lists/{list_id}/members/a@x.test", json={"merge_fields": {"FNAME": "Ann"}}
    )
    assert patched.status_code == 200
    ascending = await _emails(client, list_id, sort_field="last_changed", sort_dir="ASC")
    assert ascending == ["b@x.test", "c@x.test", "a@x.test"]
    descending = await _emails(client, list_id, sort_field="last_changed", sort_dir="DESC")
    assert descending == ["a@x.test", "c@x.test", "b@x.test"]


async def test_archived_is_a_status_to_filter_by(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    await _add(client, list_id, "a@x.test")
    await _add(client, list_id, "b@x.test")
    assert (await client.delete(f"/lists/{list_id}/members/b@x.test")).status_code == 204
    assert await _emails(client, list_id, status="archived") == ["b@x.test"]
    assert await _emails(client, list_id, status="subscribed") == ["a@x.test"]


async def test_opt_in_time_unique_id_and_email_type_filter(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    list_id = await create_list(client)
    await _add(client, list_id, "a@x.test", timestamp_opt="2020-01-01T10:00:00+00:00")
    await _add(client, list_id, "b@x.test", timestamp_opt="2022-01-01T10:00:00Z")
    await _add(client, list_id, "c@x.test", email_type="text")
    since = await _emails(client, list_id, since_timestamp_opt="2021-01-01T00:00:00+00:00")
    assert since == ["b@x.test", "c@x.test"]
    before = await _emails(client, list_id, before_timestamp_opt="2021-01-01T00:00:00+00:00")
    assert before == ["a@x.test"]
    assert await _emails(client, list_id, email_type="text") == ["c@x.test"]
    member = (await client.get(f"/lists/{list_id}/members/b@x.test")).json()
    assert await _emails(client, list_id, unique_email_id=member["unique_email_id"]) == ["b@x.test"]
    bad = await client.get(f"/lists/{list_id}/members", params={"since_timestamp_opt": "2021"})
    assert_problem(bad, 400, "Invalid Resource")


async def test_interest_filters_go_together_and_match_any_all_or_none(
    client: httpx.AsyncClient,
) -> None:
    list_id = await create_list(client)
    category = (
        await client.post(
            f"/lists/{list_id}/interest-categories",
            json={"title": "Topics", "type": "checkboxes"},
        )
    ).json()["id"]
    path = f"/lists/{list_id}/interest-categories/{category}/interests"
    shoes = (await client.post(path, json={"name": "Shoes"})).json()["id"]
    hats = (await client.post(path, json={"name": "Hats"})).json()["id"]
    await _add(client, list_id, "a@x.test", interests={shoes: True, hats: True})
    await _add(client, list_id, "b@x.test", interests={shoes: True})
    await _add(client, list_id, "c@x.test")
    both = f"{shoes},{hats}"

    def query(match: str) -> dict[str, str]:
        return {"interest_category_id": category, "interest_ids": both, "interest_match": match}

    assert await _emails(client, list_id, **query("any")) == ["a@x.test", "b@x.test"]
    assert await _emails(client, list_id, **query("all")) == ["a@x.test"]
    assert await _emails(client, list_id, **query("none")) == ["c@x.test"]
    alone = await client.get(f"/lists/{list_id}/members", params={"interest_ids": both})
    assert_problem(alone, 400, "Invalid Resource")
    unknown = {**query("any"), "interest_ids": "nope"}
    refused = await client.get(f"/lists/{list_id}/members", params=unknown)
    assert_problem(refused, 400, "Invalid Resource")


async def test_unsubscribed_since_needs_the_unsubscribed_status(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    list_id = await create_list(client)
    for email in ("a@x.test", "b@x.test", "c@x.test"):
        await _add(client, list_id, email)
    await client.patch(f"/lists/{list_id}/members/a@x.test", json={"status": "unsubscribed"})
    sandbox.clock.advance(3600)
    cutoff = sandbox.clock.iso()
    sandbox.clock.advance(60)
    await client.patch(f"/lists/{list_id}/members/b@x.test", json={"status": "unsubscribed"})
    # A later change of the one unsubscribed before the cutoff does not make it a newer one.
    await client.patch(f"/lists/{list_id}/members/a@x.test", json={"vip": True})
    params = {"status": "unsubscribed", "unsubscribed_since": cutoff}
    assert await _emails(client, list_id, **params) == ["b@x.test"]
    alone = await client.get(f"/lists/{list_id}/members", params={"unsubscribed_since": cutoff})
    assert_problem(alone, 400, "Invalid Resource")
    wrong = {"status": "subscribed", "unsubscribed_since": cutoff}
    assert_problem(
        await client.get(f"/lists/{list_id}/members", params=wrong), 400, "Invalid Resource"
    )


async def test_since_last_campaign_needs_a_status(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await create_list(client)
    await _add(client, list_id, "a@x.test")
    await _add(client, list_id, "b@x.test")
    everyone = {"status": "subscribed", "since_last_campaign": "true"}
    assert await _emails(client, list_id, **everyone) == ["a@x.test", "b@x.test"]
    sandbox.clock.advance(60)
    send_campaign(sandbox, account, list_id, title="News", sent_at=sandbox.clock.now())
    sandbox.clock.advance(60)
    await client.patch(f"/lists/{list_id}/members/b@x.test", json={"vip": True})
    assert await _emails(client, list_id, **everyone) == ["b@x.test"]
    no_status = await client.get(
        f"/lists/{list_id}/members", params={"since_last_campaign": "true"}
    )
    assert_problem(no_status, 400, "Invalid Resource")


async def test_an_audience_holds_sixty_group_names_in_all_its_categories(
    client: httpx.AsyncClient,
) -> None:
    list_id = await create_list(client)
    paths = []
    for title in ("Topics", "Sizes"):
        made = await client.post(
            f"/lists/{list_id}/interest-categories", json={"title": title, "type": "checkboxes"}
        )
        paths.append(f"/lists/{list_id}/interest-categories/{made.json()['id']}/interests")
    for n in range(60):
        response = await client.post(paths[n % 2], json={"name": f"Group {n}"})
        assert response.status_code == 200, response.text
    refused = await client.post(paths[0], json={"name": "One more"})
    doc = assert_problem(refused, 400, "Invalid Resource")
    assert "60" in str(doc["detail"])
