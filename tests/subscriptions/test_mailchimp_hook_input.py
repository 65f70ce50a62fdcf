"""What the audience webhook takes from its form: an address that is none is not stored (Mailchimp
sends the addresses its members have), a NUL anywhere is refused whatever the Content-Type
said. Before, an address of 400 characters or a NUL failed the insert on PostgreSQL (a 500),
and "not an address" became a contact and a job that wrote its status to Saleor."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from addon.jobs.models import Job
from addon.subscriptions.models import ContactState
from tests.subscriptions.conftest import Shop


def _form(shop: Shop, **data: str) -> str:
    fields = {"type": "unsubscribe", "fired_at": "2026-01-01 00:00:00"}
    fields |= {f"data[{k}]": v for k, v in {"list_id": shop.ids["news"], **data}.items()}
    return urlencode(fields)


async def _stored(shop: Shop) -> tuple[int, int]:
    async with shop.services.db.session() as session:
        contacts = await session.scalar(select(func.count()).select_from(ContactState))
        events = await session.scalar(
            select(func.count()).where(Job.kind == "subscriptions.mailchimp_event")
        )
    return contacts or 0, events or 0


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an address"},
        {"email": "a" * 400 + "@example.com"},
        {"email": "Ann <ann@example.com>"},
    ],
)
async def test_an_address_that_is_none_is_ignored(newsletter: Shop, data: dict[str, str]) -> None:
    shop = newsletter
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    before = await _stored(shop)
    answer = await shop.client.post(
        url,
        content=_form(shop, **data),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    assert await _stored(shop) == before


async def test_an_address_change_to_an_address_that_is_none_is_ignored(newsletter: Shop) -> None:
    shop = newsletter
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    before = await _stored(shop)
    form = _form(shop, old_email="ola@example.com", new_email="ola@").replace(
        "type=unsubscribe", "type=upemail"
    )
    answer = await shop.client.post(
        url, content=form, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200, answer.text
    assert await _stored(shop) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_nul_is_refused_whatever_the_content_type(
    newsletter: Shop, content_type: str
) -> None:
    shop = newsletter
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    before = await _stored(shop)
    answer = await shop.client.post(
        url, content=_form(shop, email="a\x00b@example.com"), headers={"content-type": content_type}
    )
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]["code"] in ("INVALID_BODY", "INVALID_INPUT")
    assert await _stored(shop) == before


async def test_a_real_address_is_taken_as_mailchimp_sends_it(newsletter: Shop) -> None:
    shop = newsletter
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    answer = await shop.client.post(
        url,
        content=_form(shop, email="Ola@Example.com"),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    async with shop.services.db.session() as session:
        emails = list(await session.scalars(select(ContactState.email)))
    assert "ola@example.com" in emails
