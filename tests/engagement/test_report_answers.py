"""Mailchimp's answers as it sends them: a report's unset `last_open` / `last_click` is ""
until the campaign has an open / a click (airbytehq/airbyte, source-mailchimp streams.py,
`Reports.remove_empty_datetime_fields`), as the sandbox answers too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from addon.engagement import repository
from addon.mailchimp.campaigns import (
    Campaign,
    CampaignReport,
    EngagementMember,
    OutreachOrder,
)
from tests.engagement.conftest import ALICE, Engagement


async def test_a_campaign_opened_but_not_clicked_yet_is_collected(e: Engagement) -> None:
    campaign = e.send("News", e.at(days=-1))
    e.send("Nobody read it", e.at(hours=-2))
    e.activity(campaign, (ALICE, "open", e.at(hours=-3)))

    await e.collect()

    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
        rows = await repository.campaign_rows(
            session, e.installation_id, sent_from=None, sent_to=None
        )
    assert (run.state, run.last_error) == ("idle", None)
    assert sorted((r.title, r.opens, r.clicks) for r in rows) == [
        ("News", 1, 0),
        ("Nobody read it", 0, 0),
    ]


def test_an_empty_date_time_is_unset() -> None:
    report = CampaignReport.model_validate(
        {
            "id": "c1",
            "send_time": "",
            "opens": {"opens_total": 0, "last_open": ""},
            "clicks": {"clicks_total": 0, "last_click": ""},
        }
    )
    assert (report.send_time, report.opens.last_open, report.clicks.last_click) == (None,) * 3
    assert Campaign.model_validate({"id": "c1", "send_time": ""}).send_time is None
    order = OutreachOrder.model_validate({"id": "o1", "processed_at_foreign": ""})
    assert order.processed_at_foreign is None
    member = {"id": "m", "email_address": ALICE, "last_changed": ""}
    assert EngagementMember.model_validate(member).last_changed is None
    # A time is read as one; anything else that is not one is still refused.
    clicked = {"id": "c1", "clicks": {"last_click": "2027-01-15T08:05:00+00:00"}}
    last = CampaignReport.model_validate(clicked).clicks.last_click
    assert last == datetime(2027, 1, 15, 8, 5, tzinfo=UTC)
    with pytest.raises(ValidationError):
        CampaignReport.model_validate({"id": "c1", "clicks": {"last_click": "soon"}})
