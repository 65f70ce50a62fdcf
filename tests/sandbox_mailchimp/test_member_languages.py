"""A member's ``language`` is one of Mailchimp's contact language codes, and a new member's
``tags`` hold no blank name (`languages.py`, `members.check_tag_names`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .helpers import create_list
from .test_core import assert_problem
from .test_lists_members import member_path

EMAIL = "lang@example.org"


def field_errors(response: httpx.Response) -> list[dict[str, Any]]:
    doc = assert_problem(response, 400, "Invalid Resource")
    errors: list[dict[str, Any]] = list(doc["errors"])  # type: ignore[call-overload]
    return errors


@pytest.mark.parametrize("language", ["en_US", "pt-BR", "EN", "fr_ca", "xx", ""])
async def test_a_language_mailchimp_does_not_list_is_refused(
    client: httpx.AsyncClient, language: str
) -> None:
    list_id = await create_list(client)
    path = member_path(list_id, EMAIL)
    put = await client.put(
        path, json={"email_address": EMAIL, "status_if_new": "subscribed", "language": language}
    )
    assert [e["field"] for e in field_errors(put)] == ["language"]
    assert (await client.get(path)).status_code == 404  # nothing was added

    post = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": EMAIL, "status": "subscribed", "language": language},
    )
    assert [e["field"] for e in field_errors(post)] == ["language"]


async def test_a_refused_language_leaves_the_member_as_it_was(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    path = member_path(list_id, EMAIL)
    made = await client.put(
        path, json={"email_address": EMAIL, "status_if_new": "subscribed", "language": "fr_CA"}
    )
    assert made.status_code == 200, made.text
    assert made.json()["language"] == "fr_CA"
    patch = await client.patch(path, json={"language": "de_DE", "vip": True})
    assert [e["field"] for e in field_errors(patch)] == ["language"]
    member = (await client.get(path)).json()
    assert (member["language"], member["vip"]) == ("fr_CA", False)
    for language in ("de", "pt_PT", "es_ES", "pt", "no", "he"):
        accepted = await client.patch(path, json={"language": language})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["language"] == language


async def test_a_blank_tag_of_a_new_member_is_refused(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    response = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": EMAIL, "status": "subscribed", "tags": ["School", "", "  "]},
    )
    assert field_errors(response) == [
        {"field": "tags[1]", "message": "This value should not be blank."},
        {"field": "tags[2]", "message": "This value should not be blank."},
    ]
    assert (await client.get(member_path(list_id, EMAIL))).status_code == 404
    made = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": EMAIL, "status": "subscribed", "tags": ["School"]},
    )
    assert made.status_code == 200, made.text
    assert [t["name"] for t in made.json()["tags"]] == ["School"]
