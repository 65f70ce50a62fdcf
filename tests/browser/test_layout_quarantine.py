"""The E-commerce page's quarantined records at 800 px (the table's rows stacked as cards), as
the Activity page's (test_layout_activity.py): a record with nothing to fix shows no "Fix" label
over an empty cell, one with a fix keeps it. The records are the app's answer's shape, one
with a retry and one that only waits (an action without words: nothing to show)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import WIDTHS, app_frame, check_a11y, open_page
from tests.browser.test_layout_activity import LABELLED

pytestmark = pytest.mark.browser


def record(n: int, subject: str, action: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": 900 + n,
        "channel_slug": "default-channel",
        "kind": "product",
        "saleor_id": f"UHJvZHVjdDo{n}",
        "label": subject,
        "mailchimp_id": None,
        "status": "quarantined",
        "attempts": 5,
        "last_error": "Mailchimp said no",
        "next_attempt_at": None,
        "pushed_at": None,
        "updated_at": "2026-11-02T10:00:00Z",
        "subject": f"Product {subject}",
        "reason": "Mailchimp refused the product.",
        "action": action,
        "details": "Mailchimp said no",
    }


RECORDS = [
    record(1, "Blue Hoodie", {"code": "retry", "label": "Retry", "channel": None}),
    record(2, "Red Cap", {"code": "wait", "label": "", "channel": None}),
]


def test_no_empty_fix_label_on_narrow_quarantine_cards(page: Page, live_site: LiveSite) -> None:
    page.set_viewport_size(WIDTHS["800"])

    def quarantined(route: Route) -> None:
        route.fulfill(json=RECORDS)

    page.route(re.compile(r"/api/ecommerce/records\?status=quarantined"), quarantined)
    app = open_page(page, live_site, "E-commerce")
    rows = app.locator("#quarantine-rows tr[data-record-id]")
    expect(rows).to_have_count(2)
    frame = app_frame(page)
    assert frame.evaluate(
        "getComputedStyle(document.querySelector('#quarantine-rows td')).display"
    ) == ("block"), "the rows are not stacked at 800 px"
    cells = frame.evaluate(LABELLED, "#quarantine-rows")
    assert any(c["label"] == "What" for c in cells)
    empty = [c for c in cells if c["label"] and not c["text"] and not c["control"]]
    assert not empty, f"labels over empty cells: {empty}"
    # Nor an empty cell left without its label (a gap in the card).
    assert not [c for c in cells if not c["text"] and not c["control"]], cells
    # The record with a fix keeps its label over its button.
    fixes = [c for c in cells if c["label"] == "Fix"]
    assert len(fixes) == 1 and fixes[0]["control"], fixes
    expect(rows.first.get_by_role("button", name="Retry")).to_be_visible()
    check_a11y(frame, "the E-commerce page's quarantined records at 800 px")
