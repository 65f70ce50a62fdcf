"""The sandbox holds merge tags, merge-field changes and address values to Mailchimp's rules
(sandboxes/src/sandboxes/mailchimp/merge_fields.py, merge_values.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox_mailchimp.helpers import create_list

ANY_OF = "Data did not match any of the schemas described in anyOf."
HOME = {"addr1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}


async def _put(client: httpx.AsyncClient, list_id: str, merge_fields: dict[str, Any]) -> Any:
    response = await client.put(
        f"/lists/{list_id}/members/ann@example.com",
        json={
            "email_address": "ann@example.com",
            "status_if_new": "subscribed",
            "merge_fields": merge_fields,
        },
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("country", ["Germany", "de", "DEU", "XX", "XK", "EU"])
async def test_an_address_country_is_an_iso_code(client: httpx.AsyncClient, country: str) -> None:
    """Mailchimp stores a country it does not know as the USA: refused here, Saleor's "XK"
    (Kosovo) and "EU" among them, which ISO 3166-1 does not list."""
    list_id = await create_list(client)
    status, body = await _put(client, list_id, {"ADDRESS": {**HOME, "country": country}})
    assert status == 400, body
    assert [e["field"] for e in body["errors"]] == ["ADDRESS"]

    for taken in ("DE", "US", ""):
        status, body = await _put(client, list_id, {"ADDRESS": {**HOME, "country": taken}})
        assert status == 200, body
        assert body["merge_fields"]["ADDRESS"]["country"] == taken


@pytest.mark.parametrize(
    "value",
    [{**HOME, "zip": 62701}, {**HOME, "addr2": None}, {**HOME, "city": ["Springfield"]}, ["x"]],
)
async def test_an_address_of_other_than_strings_is_no_merge_value(
    client: httpx.AsyncClient, value: Any
) -> None:
    list_id = await create_list(client)
    status, body = await _put(client, list_id, {"ADDRESS": value})
    assert status == 400, body
    assert body["errors"] == [{"field": "merge_fields.ADDRESS", "message": ANY_OF}]


@pytest.mark.parametrize("part", ["addr1", "city", "state", "zip"])
async def test_an_address_without_a_required_part_is_no_merge_value(
    client: httpx.AsyncClient, part: str
) -> None:
    """The API definition requires addr1, city, state and zip in an address: an Omani address
    sent without `state` was refused by the request schema (mailchimp/mc-magento2#593)."""
    list_id = await create_list(client)
    value = {k: v for k, v in HOME.items() if k != part}
    status, body = await _put(client, list_id, {"ADDRESS": {**value, "country": "DE"}})
    assert status == 400, body
    assert body["errors"] == [{"field": "merge_fields.ADDRESS", "message": ANY_OF}]


@pytest.mark.parametrize("part", ["addr1", "city", "state", "zip"])
@pytest.mark.parametrize("blank", ["", "  "])
async def test_an_address_with_a_blank_required_part_is_incomplete(
    client: httpx.AsyncClient, part: str, blank: str
) -> None:
    """A German or British address has no state: sent blank, it is still incomplete (Mailchimp
    support: "you can not pass null or blank data"; ibericode/mailchimp-for-wordpress fills
    "N/A" for a missing state), whatever the country."""
    list_id = await create_list(client)
    address = {**HOME, part: blank, "country": "GB"}
    status, body = await _put(client, list_id, {"ADDRESS": address})
    assert status == 400, body
    assert body["errors"] == [{"field": "ADDRESS", "message": "Please enter a complete address"}]
    status, body = await _put(client, list_id, {"ADDRESS": {**HOME, "country": "GB"}})
    assert status == 200, body


@pytest.mark.parametrize("tag", ["MY-TAG", "ÉTÉ", "*|X|*", "A.B"])
async def test_a_merge_tag_is_capitals_digits_and_underscores(
    client: httpx.AsyncClient, tag: str
) -> None:
    list_id = await create_list(client)
    refused = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "Odd", "type": "text", "tag": tag}
    )
    assert refused.status_code == 400, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["tag"]
    made = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "Fine", "type": "text", "tag": "vip_2"}
    )
    assert made.status_code == 200 and made.json()["tag"] == "VIP_2"


async def test_the_email_tag_is_taken(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    refused = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "Mail", "type": "text", "tag": "email"}
    )
    assert refused.status_code == 400, refused.text
    assert (
        refused.json()["detail"]
        == 'A Merge Field with the tag "EMAIL" already exists for this list.'
    )


async def test_a_changed_tag_keeps_to_the_rules_of_a_new_one(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    made = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "Brand", "type": "text", "tag": "BRAND"}
    )
    field = f"/lists/{list_id}/merge-fields/{made.json()['merge_id']}"

    cut = await client.patch(field, json={"name": "Brand", "tag": "brand_preference"})
    assert cut.status_code == 200 and cut.json()["tag"] == "BRAND_PREF"
    kept = await client.patch(field, json={"name": "Brand", "tag": "BRAND_PREF"})
    assert kept.status_code == 200, kept.text  # its own tag is not taken
    for tag in ("FNAME", "EMAIL"):
        taken = await client.patch(field, json={"name": "Brand", "tag": tag})
        assert taken.status_code == 400, taken.text
        assert "already exists" in taken.json()["detail"]
    for odd_tag in ("a b-c", " "):
        odd = await client.patch(field, json={"name": "Brand", "tag": odd_tag})
        assert [e["field"] for e in odd.json()["errors"]] == ["tag"]
    tags = [
        f["tag"]
        for f in (await client.get(f"/lists/{list_id}/merge-fields")).json()["merge_fields"]
    ]
    assert tags.count("FNAME") == 1 and "BRAND_PREF" in tags


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"required": "yes"}, "required"),
        ({"public": 1}, "public"),
        ({"options": {"choices": "Gold"}}, "options.choices"),
        ({"help_text": None}, "help_text"),
    ],
)
async def test_a_change_is_typed_as_the_spec_types_it(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    list_id = await create_list(client)
    made = await client.post(
        f"/lists/{list_id}/merge-fields",
        json={"name": "Tier", "type": "dropdown", "options": {"choices": ["Gold"]}},
    )
    path = f"/lists/{list_id}/merge-fields/{made.json()['merge_id']}"
    refused = await client.patch(path, json={"name": "Tier", **body})
    assert refused.status_code == 400, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert (await client.get(path)).json() == made.json()


@pytest.mark.parametrize(
    ("kind", "long"),
    [
        ("text", "x" * 250 + " " * 6),  # 256 bytes as sent, 250 once trimmed
        ("url", "https://shop.example/" + "é" * 120),  # 141 characters, 261 bytes
    ],
)
async def test_a_text_or_web_address_is_measured_in_bytes_as_sent(
    client: httpx.AsyncClient, kind: str, long: str
) -> None:
    list_id = await create_list(client)
    made = await client.post(
        f"/lists/{list_id}/merge-fields", json={"name": "Long", "type": kind, "tag": "LONG"}
    )
    assert made.status_code == 200, made.text
    status, body = await _put(client, list_id, {"LONG": long})
    assert status == 400, body
    assert [e["field"] for e in body["errors"]] == ["LONG"]
