"""The sandbox checks merge values by their field's type and options, as Mailchimp does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox_mailchimp.helpers import create_list


async def _field(client: httpx.AsyncClient, list_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/lists/{list_id}/merge-fields", json=body)
    assert response.status_code == 200, response.text
    field: dict[str, Any] = response.json()
    return field


async def _put(
    client: httpx.AsyncClient, list_id: str, merge_fields: dict[str, Any], query: str = ""
) -> httpx.Response:
    return await client.put(
        f"/lists/{list_id}/members/ann@example.com{query}",
        json={
            "email_address": "ann@example.com",
            "status_if_new": "subscribed",
            "merge_fields": merge_fields,
        },
    )


async def test_new_fields_get_the_options_of_their_type(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    assert (await _field(client, list_id, name="Joined", type="date"))["options"] == {
        "date_format": "MM/DD/YYYY"
    }
    assert (await _field(client, list_id, name="Born", type="birthday", tag="BORN"))["options"] == {
        "date_format": "MM/DD"
    }
    own = await _field(
        client, list_id, name="Since", type="date", options={"date_format": "DD/MM/YYYY"}
    )
    assert own["options"]["date_format"] == "DD/MM/YYYY"
    refused = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "Odd", "type": "colour"}
    )
    assert refused.status_code == 400


async def test_a_date_takes_a_year_and_a_birthday_none(client: httpx.AsyncClient) -> None:
    """The formats Mailchimp offers each type; another is refused, on creation and on change."""
    list_id = await create_list(client)
    for kind, fmt in (("birthday", "MM/DD/YYYY"), ("date", "DD/MM"), ("date", "YYYY-MM-DD")):
        refused = await client.post(
            f"/lists/{list_id}/merge-fields",
            json={"name": "Day", "type": kind, "options": {"date_format": fmt}},
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["field"] == "options.date_format"
    born = await _field(client, list_id, name="Born", type="birthday", tag="BORN")
    changed = await client.patch(
        f"/lists/{list_id}/merge-fields/{born['merge_id']}",
        json={"name": "Born", "options": {"date_format": "DD/MM/YYYY"}},
    )
    assert changed.status_code == 400, changed.text


async def test_a_field_made_without_a_tag_is_numbered_and_a_long_tag_is_cut(
    client: httpx.AsyncClient,
) -> None:
    list_id = await create_list(client)
    made = await _field(client, list_id, name="Größe (cm)", type="text")
    assert made["tag"] == f"MMERGE{made['merge_id']}"
    cut = await _field(client, list_id, name="Brand", type="text", tag="brand_preference")
    assert cut["tag"] == "BRAND_PREF"


async def test_an_audience_holds_thirty_fields_the_address_among_them(
    client: httpx.AsyncClient,
) -> None:
    list_id = await create_list(client)
    listed = (await client.get(f"/lists/{list_id}/merge-fields")).json()["total_items"]
    for i in range(29 - listed):
        await _field(client, list_id, name=f"Field {i}", type="text", tag=f"F{i}")
    refused = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "One more", "type": "text"}
    )
    assert refused.status_code == 400, refused.text
    assert "more merge fields than 30" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("kind", "options", "good", "bad"),
    [
        ("text", {}, "x" * 255, "x" * 256),
        # 255 bytes, not characters: 127 "é" are 254 bytes, 128 are 256.
        ("text", {}, "é" * 127, "é" * 128),
        ("number", {}, "12.5", "twelve"),
        ("number", {}, "-1.5e3", "1_000"),
        ("number", {}, 7, "nan"),
        ("number", {}, "42", "\u0664\u0662"),  # Arabic-Indic digits: Python's float reads them
        ("date", {"date_format": "DD/MM/YYYY"}, "17/05/2024", "05/17/2024"),
        ("date", {}, "05/17/2024", "2024-05-17T00:00"),
        ("birthday", {"date_format": "DD/MM"}, "29/02", "02/29"),
        ("phone", {"phone_format": "US"}, "415-555-2671", "+44 20 7946 0958"),
        ("zip", {}, "62701", "SW1A 1AA"),
        ("zip", {}, "62701", "62701-1234"),  # five digits only: no ZIP+4
        ("url", {}, "https://shop.example", "shop.example"),
        ("dropdown", {"choices": ["Gold", "Silver"]}, "Gold", "Bronze"),
        (
            "address",
            {},
            {"addr1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
            {"addr1": "1 Main St", "city": "Springfield", "state": "", "zip": "62701"},
        ),
    ],
)
async def test_values_are_checked_by_the_fields_type(
    client: httpx.AsyncClient, kind: str, options: dict[str, Any], good: Any, bad: Any
) -> None:
    list_id = await create_list(client)
    await _field(client, list_id, name="Checked", tag="CHECKED", type=kind, options=options)

    refused = await _put(client, list_id, {"CHECKED": bad})
    assert refused.status_code == 400
    body = refused.json()
    assert body["detail"] == "Your merge fields were invalid."
    assert [e["field"] for e in body["errors"]] == ["CHECKED"]

    accepted = await _put(client, list_id, {"CHECKED": good})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["merge_fields"]["CHECKED"] == good


async def test_a_required_field_is_needed_unless_merge_validation_is_skipped(
    client: httpx.AsyncClient,
) -> None:
    list_id = await create_list(client)
    await _field(client, list_id, name="Company", tag="COMPANY", type="text", required=True)
    refused = await _put(client, list_id, {"FNAME": "Ann"})
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["COMPANY"]
    accepted = await _put(client, list_id, {"FNAME": "Ann"}, "?skip_merge_validation=true")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["merge_fields"]["COMPANY"] == ""

    # The member lacks it: a later PUT or PATCH is refused too, even one not about it.
    member = f"/lists/{list_id}/members/ann@example.com"
    refused = await _put(client, list_id, {"FNAME": "Anna"})
    assert [e["field"] for e in refused.json()["errors"]] == ["COMPANY"]
    unsubscribe = {"status": "unsubscribed"}
    refused = await client.patch(member, json=unsubscribe)
    assert refused.status_code == 400 and refused.json()["detail"] == (
        "Your merge fields were invalid."
    )
    kept = (await client.get(member)).json()
    assert (kept["status"], kept["merge_fields"]["FNAME"]) == ("subscribed", "Ann")
    skipped = await client.patch(f"{member}?skip_merge_validation=true", json=unsubscribe)
    assert skipped.status_code == 200 and skipped.json()["status"] == "unsubscribed"


@pytest.mark.parametrize("value", [None, True, False])
async def test_a_null_or_a_boolean_is_refused_by_the_request_schema(
    client: httpx.AsyncClient, value: Any
) -> None:
    """Merge values are strings, numbers or addresses: a null (mailchimp/mc-magento#507) or a
    boolean (VingtCinq/python-mailchimp#146) is refused, whatever the tag; "" clears."""
    list_id = await create_list(client)
    refused = await _put(client, list_id, {"FNAME": value})
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "field": "merge_fields.FNAME",
            "message": "Data did not match any of the schemas described in anyOf.",
        }
    ]
    cleared = await _put(client, list_id, {"FNAME": ""})
    assert cleared.status_code == 200, cleared.text
