"""Merge fields made from the app, and the mapping's input: what Mailchimp would refuse, or
what could not be read back, is refused with the reason before anything is saved."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.audiences.conftest import _map
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import Shop


async def _create(shop: Shop, **body: Any) -> httpx.Response:
    list_id = shop.ids["news"]
    return await shop.client.post(
        f"/api/audiences/{list_id}/merge-fields", json=body, headers=shop.headers
    )


async def test_a_date_takes_a_year_and_a_birthday_none(newsletter: Shop) -> None:
    shop = newsletter
    for kind, fmt in (("birthday", "MM/DD/YYYY"), ("date", "DD/MM"), ("text", "MM/DD")):
        refused = await _create(shop, name="Day", tag="DAY", type=kind, date_format=fmt)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "INVALID_INPUT"
    made = await _create(shop, name="Day", tag="DAY", type="birthday", date_format="DD/MM")
    assert made.status_code == 201, made.text
    [day] = [f for f in made.json()["merge_fields"] if f["tag"] == "DAY"]
    assert day["options"]["date_format"] == "DD/MM"


async def test_a_full_audience_refuses_another_field_with_mailchimps_reason(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    listed = len((await shop.mc("GET", f"/lists/{news}/merge-fields"))["merge_fields"])
    for i in range(29 - listed):
        made = await _create(shop, name=f"Field {i}", tag=f"F{i}", type="text")
        assert made.status_code == 201, made.text
    refused = await _create(shop, name="One more", tag="MORE", type="text")
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "MERGE_FIELD_REFUSED"
    assert "more merge fields than 30" in error["message"]


async def test_a_tags_key_of_spaces_is_refused_and_the_mapping_still_reads(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    body = {"fields": [], "tags": {"source": "metadata", "key": "   "}}
    refused = await shop.client.put(
        f"/api/audiences/{news}/mapping", json=body, headers=shop.headers
    )
    assert refused.status_code == 422, refused.text
    body["tags"]["key"] = "  segments "  # type: ignore[index]
    saved = await shop.client.put(f"/api/audiences/{news}/mapping", json=body, headers=shop.headers)
    assert saved.status_code == 200, saved.text
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert read.status_code == 200 and read.json()["tags"]["key"] == "segments"


async def test_a_mapping_mailchimp_could_not_take_is_refused_with_reasons(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _map(
        shop,
        news,
        [
            {"merge_tag": "ADDRESS", "source": "first_name"},
            {"merge_tag": "BIRTHDAY", "source": "metadata"},
            {"merge_tag": "NOPE", "source": "last_name"},
        ],
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "INVALID_MAPPING"
    assert "Address is an address field" in body["message"]
    assert "Birthday: name the metadata key" in body["message"]
    assert "no merge field NOPE" in body["message"]
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert read.json()["fields"] == []
    # A field Mailchimp refuses to create is explained (the tag is taken).
    refused = await shop.client.post(
        f"/api/audiences/{news}/merge-fields",
        json={"name": "Again", "tag": "FNAME", "type": "text"},
        headers=shop.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "MERGE_FIELD_REFUSED"


class _LosesFirstAnswer(httpx.AsyncBaseTransport):
    """The answer of the first POST to a path ending with `suffix` is lost (a read timeout),
    after Mailchimp acted on it (`acted`) or before it reached Mailchimp."""

    def __init__(self, inner: httpx.AsyncBaseTransport, suffix: str, *, acted: bool) -> None:
        self.inner, self.suffix, self.acted, self.lost = inner, suffix, acted, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        losing = (
            request.method == "POST" and request.url.path.endswith(self.suffix) and not self.lost
        )
        if losing and not self.acted:
            self.lost = True
            raise httpx.ReadTimeout("answer lost", request=request)
        response = await self.inner.handle_async_request(request)
        if losing:
            self.lost = True
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.mark.parametrize("tag", [None, "TIER"])
async def test_a_field_made_though_its_answer_was_lost_is_read_back(
    newsletter: Shop, outbound: RecordingTransport, tag: str | None
) -> None:
    """Sent once (`MailchimpClient.create_merge_field`): the field Mailchimp made is found by
    its tag, or by its name and type, and added as if the answer had come."""
    shop = newsletter
    news = shop.ids["news"]
    # A field of that name and type the audience had: not the one made now.
    await _create(shop, name="Loyalty tier", tag="OLDTIER", type="text")
    outbound.inner = _LosesFirstAnswer(outbound.inner, "/merge-fields", acted=True)
    body = {"name": "Loyalty tier", "type": "text", **({"tag": tag} if tag else {})}
    made = await _create(shop, **body)
    assert made.status_code == 201, made.text

    fields = (await shop.mc("GET", f"/lists/{news}/merge-fields"))["merge_fields"]
    [new] = [f for f in fields if f["name"] == "Loyalty tier" and f["tag"] != "OLDTIER"]
    assert tag is None or new["tag"] == tag
    listed = [f["tag"] for f in made.json()["merge_fields"] if f["name"] == "Loyalty tier"]
    assert listed == ["OLDTIER", new["tag"]]
    posted = [
        r for r in outbound.requests if r.method == "POST" and r.url.path.endswith("/merge-fields")
    ]
    assert len(posted) == 2  # OLDTIER's, then the new one's: once


async def test_a_field_not_made_when_its_answer_was_lost_is_reported(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    shop = newsletter
    outbound.inner = _LosesFirstAnswer(outbound.inner, "/merge-fields", acted=False)
    failed = await _create(shop, name="Loyalty tier", tag="TIER", type="text")
    assert failed.status_code == 502, failed.text
    error = failed.json()["error"]
    assert error["code"] == "MAILCHIMP_UNAVAILABLE"
    assert "may or may not" in error["message"]
    # Asked again, it is made.
    assert (await _create(shop, name="Loyalty tier", tag="TIER", type="text")).status_code == 201
