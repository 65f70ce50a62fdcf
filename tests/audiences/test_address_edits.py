"""A customer's address edited or deleted in Saleor reaches the merge fields that map it.

Saleor sends ADDRESS_UPDATED or ADDRESS_DELETED alone for these (no CUSTOMER_UPDATED), and the
address names no user: its owner is found among the customers Saleor changed since
(addon/saleor/address_owners.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.jobs.models import Job, JobStatus
from addon.subscriptions import address_changed
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.saleor import Customer
from tests.audiences.conftest import ADDRESS
from tests.subscriptions.conftest import Shop


async def _subscriber(shop: Shop, email: str) -> Customer:
    return await shop.saleor.create_customer(
        email,
        "Ann",
        "Apple",
        addresses=[shop.saleor.store.new_address(**ADDRESS)],
        metadata={CONSENT_SUBSCRIBE: "true"},
    )


async def _map(shop: Shop, fields: list[dict[str, Any]]) -> None:
    response = await shop.client.put(
        f"/api/audiences/{shop.ids['news']}/mapping",
        json={"fields": fields},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text


async def test_an_edited_address_and_phone_reach_the_member(newsletter: Shop) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    await _map(
        shop,
        [
            {"merge_tag": "ADDRESS", "source": "billing_address"},
            {"merge_tag": "PHONE", "source": "billing_phone"},
        ],
    )
    customer = await _subscriber(shop, "ann@example.com")
    await _subscriber(shop, "bo@example.com")
    await shop.work()
    assert shop.member(news, "ann@example.com").merge_fields["ADDRESS"]["addr1"] == "1 Main St"
    before = len(shop.saleor.deliveries)

    await shop.saleor.update_address(
        customer, customer.addresses[0].id, street_address_1="9 Elm St", phone="+14155550000"
    )
    assert {d.event_type for d in shop.saleor.deliveries[before:]} == {"ADDRESS_UPDATED"}
    await shop.work()

    member = shop.member(news, "ann@example.com")
    assert member.merge_fields["ADDRESS"]["addr1"] == "9 Elm St"
    assert member.merge_fields["PHONE"] == "+14155550000"
    assert shop.member(news, "bo@example.com").merge_fields["ADDRESS"]["addr1"] == "1 Main St"


async def test_a_deleted_default_address_is_cleared_from_the_member(newsletter: Shop) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    await _map(shop, [{"merge_tag": "PHONE", "source": "billing_phone"}])
    customer = await _subscriber(shop, "ann@example.com")
    await shop.work()
    assert shop.member(news, "ann@example.com").merge_fields["PHONE"] == "+14155552671"

    await shop.saleor.delete_address(customer, customer.addresses[0].id)
    await shop.work()
    assert shop.member(news, "ann@example.com").merge_fields["PHONE"] == ""


async def test_without_an_address_mapped_saleor_is_not_asked(
    newsletter: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = newsletter
    await _map(shop, [{"merge_tag": "FNAME", "source": "first_name"}])
    customer = await _subscriber(shop, "ann@example.com")
    await shop.work()

    async def asked(*args: Any, **kwargs: Any) -> list[Any]:
        raise AssertionError("the owner was looked up")

    monkeypatch.setattr(address_changed, "address_owners", asked)
    await shop.saleor.update_address(customer, customer.addresses[0].id, city="Peoria")
    await shop.work()
    async with shop.services.db.session() as session:
        jobs = list(
            await session.scalars(select(Job).where(Job.kind == "webhook.subscriptions-addresses"))
        )
    assert [job.status for job in jobs] == [JobStatus.DONE]
