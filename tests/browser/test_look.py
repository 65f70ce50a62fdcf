"""Every page and pop-up, light and dark, 1280 and 800 px wide: axe-core finds nothing, and a
screenshot of each goes to test-artifacts/ (the README's picture is written on request)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    WIDTHS,
    app_frame,
    check_a11y,
    clear_toasts,
    connect_with_key,
    go,
    open_app,
    shot,
)

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
TABS = ("Connection", "Audiences & groups", "Subscriptions", "E-commerce", "Activity", "Reports")


def slug(tab: str) -> str:
    return tab.lower().replace(" & ", "-").replace(" ", "-")


@pytest.mark.parametrize("width", ["1280", "800"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_is_accessible_and_pictured(
    page: Page, live_site: LiveSite, artifacts: Path, theme: str, width: str
) -> None:
    page.set_viewport_size(WIDTHS[width])
    app = open_app(page, live_site.dashboard, theme=theme)
    connect_with_key(app, live_site.stack.demo_account.api_key)
    for tab in TABS:
        go(app, tab)
        expect(app.locator("html")).to_have_attribute("data-theme", theme)
        clear_toasts(page)
        check_a11y(app_frame(page), f"{tab} ({theme}, {width} px)")
        shot(page, artifacts, f"{slug(tab)}-{theme}-{width}")
        if tab == "Audiences & groups":
            # The unsaved-changes pop-up, then Discard.
            app.get_by_label("Tags for every contact the store subscribes").fill("look-test")
            app.get_by_role("link", name="Activity", exact=True).click()
            leave = app.get_by_role("dialog", name="Leave without saving?")
            expect(leave).to_be_visible()
            check_a11y(app_frame(page), f"the leave dialog ({theme}, {width} px)")
            shot(page, artifacts, f"leave-dialog-{theme}-{width}")
            leave.get_by_role("button", name="Stay on this page").click()
            app.get_by_role("button", name="Discard").click()
            expect(app.get_by_role("button", name="Save", exact=True)).to_be_disabled()
        if tab == "Subscriptions":
            app.locator("#guide > summary").click()
            check_a11y(app_frame(page), f"the storefront guide ({theme}, {width} px)")
            shot(page, artifacts, f"subscriptions-guide-{theme}-{width}")
    go(app, "Connection")
    clear_toasts(page)
    if theme == "light" and width == "1280" and os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        # The README's picture changes with every run (times): rewritten only when asked.
        page.mouse.move(0, 0)
        page.screenshot(path=str(DOCS / "connection.png"))

    # The Reset dialog is a pop-up of its own.
    app.get_by_role("button", name="Reset connection…").click()
    expect(app.get_by_role("dialog")).to_be_visible()
    check_a11y(app_frame(page), f"the Reset dialog ({theme}, {width} px)")
    shot(page, artifacts, f"connection-reset-dialog-{theme}-{width}")
    page.keyboard.press("Escape")
    expect(app.get_by_role("dialog")).to_be_hidden()
