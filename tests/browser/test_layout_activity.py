"""The Activity page at 800 px (the table's rows stacked as cards): a row with nothing to fix
shows no "Fix" label over an empty cell."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import WIDTHS, app_frame, connect_with_key, go, open_app

pytestmark = pytest.mark.browser

# The cells of the rows under the selector given, shown with a label (the stacked layout's
# ::before), and what they hold. The E-commerce page's quarantined records too
# (test_layout_quarantine.py).
LABELLED = """(rows) => Array.from(document.querySelectorAll(rows + ' td'))
  .filter((td) => getComputedStyle(td).display !== 'none')
  .map((td) => {
    const label = getComputedStyle(td, '::before').content;
    return {
      label: label && label !== 'none' && label !== 'normal' ? label.replace(/^"|"$/g, '') : '',
      text: td.textContent.trim(),
      control: Boolean(td.querySelector('button, a')),
    };
  })"""


def test_no_empty_fix_label_on_narrow_activity_cards(page: Page, live_site: LiveSite) -> None:
    page.set_viewport_size(WIDTHS["800"])
    app = open_app(page, live_site.dashboard)
    connect_with_key(app, live_site.stack.demo_account.api_key)
    go(app, "Activity")
    expect(app.locator("#activity-rows tr[data-job-id]").first).to_be_visible()
    frame = app_frame(page)
    assert frame.evaluate(
        "getComputedStyle(document.querySelector('#activity-rows td')).display"
    ) == ("block"), "the rows are not stacked at 800 px"
    cells = frame.evaluate(LABELLED, "#activity-rows")
    assert any(c["label"] == "What" for c in cells)
    empty = [c for c in cells if c["label"] and not c["text"] and not c["control"]]
    assert not empty, f"labels over empty cells: {empty}"
    assert not [c for c in cells if c["label"] == "Fix" and not c["control"] and not c["text"]]
