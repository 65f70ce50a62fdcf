"""A merge field changed in Mailchimp after the app read it (`stale_fields.py`): the value
Mailchimp refuses is left out and reported, the rest of the write goes, and the audience is
read again. Before, the whole subscription (or profile update) failed on every retry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.audiences.mapping import VALUE_NOT_SENT
from addon.audiences.service import IMPORT_JOB
from addon.jobs.models import Job, JobStatus
from tests.audiences.conftest import _customer, _map
from tests.subscriptions.conftest import Shop


async def _field(shop: Shop, **body: Any) -> dict[str, Any]:
    news = shop.ids["news"]
    made = await shop.mc("POST", f"/lists/{news}/merge-fields", body)
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()
    return made


async def _jobs(shop: Shop, kind: str) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == kind)))


async def test_a_choice_renamed_in_mailchimp_leaves_the_value_out(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    tier = await _field(
        shop, name="Tier", tag="TIER", type="dropdown", options={"choices": ["Gold", "Silver"]}
    )
    mapped = await _map(
        shop,
        news,
        [
            {"merge_tag": "TIER", "source": "metadata", "key": "tier"},
            {"merge_tag": "FNAME", "source": "first_name"},
        ],
    )
    assert mapped.status_code == 200, mapped.text
    imports = len(await _jobs(shop, IMPORT_JOB))
    # The marketer renames a choice in Mailchimp; the app reads the fields again hours later.
    await shop.mc(
        "PATCH",
        f"/lists/{news}/merge-fields/{tier['merge_id']}",
        {"name": "Tier", "options": {"choices": ["Gold", "Platinum"]}},
    )
    await _customer(shop, "ann@example.com", tier="Silver")
    await shop.work()

    member = shop.member(news, "ann@example.com")
    assert member is not None and member.status == "subscribed"
    assert member.merge_fields["FNAME"] == "Ann" and member.merge_fields["TIER"] == ""
    [note] = await _jobs(shop, VALUE_NOT_SENT)
    assert note.last_error is not None and "TIER" in note.last_error
    assert "changed in Mailchimp" in note.last_error
    assert len(await _jobs(shop, IMPORT_JOB)) > imports  # read again
    failed = [j for j in await _jobs(shop, "subscriptions.apply") if j.status != JobStatus.DONE]
    assert failed == []


async def test_a_profile_update_refused_for_a_changed_date_format_sends_the_rest(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    anniversary = await _field(
        shop, name="Anniversary", tag="ANNIV", type="date", options={"date_format": "MM/DD/YYYY"}
    )
    mapped = await _map(
        shop,
        news,
        [
            {"merge_tag": "ANNIV", "source": "metadata", "key": "anniv"},
            {"merge_tag": "FNAME", "source": "first_name"},
        ],
    )
    assert mapped.status_code == 200, mapped.text
    customer = await _customer(shop, "bo@example.com", anniv="2020-01-05")
    await shop.work()
    assert shop.member(news, "bo@example.com").merge_fields["ANNIV"] == "01/05/2020"

    await shop.mc(
        "PATCH",
        f"/lists/{news}/merge-fields/{anniversary['merge_id']}",
        {"name": "Anniversary", "options": {"date_format": "DD/MM/YYYY"}},
    )
    # 12/25/2020 is no day in DD/MM/YYYY: refused; the new first name still goes.
    await shop.saleor.update_customer(customer, first_name="Bo", metadata={"anniv": "2020-12-25"})
    await shop.work()
    member = shop.member(news, "bo@example.com")
    assert member.merge_fields["FNAME"] == "Bo"
    assert member.merge_fields["ANNIV"] == "01/05/2020"  # as it was
    notes = await _jobs(shop, VALUE_NOT_SENT)
    assert any("ANNIV" in (n.last_error or "") for n in notes)
