"""A webhook of the app paused in Saleor, as a store admin meets it on the Activity page: the
notice says which events reach nobody, and its button turns the webhook back on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from addon.installations.service import WEBHOOK_UPKEEP
from tests.browser.conftest import LiveSite
from tests.browser.pages import app_frame, check_a11y, open_app, shot, toast

pytestmark = pytest.mark.browser


def test_a_paused_webhook_is_shown_and_turned_back_on(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    [saleor_app] = live_site.stack.saleor.store.apps.values()
    [hook] = [h for h in saleor_app.webhooks if h.target_url.endswith("/ecommerce-products")]
    hook.is_active = False  # a staff member paused it through Saleor's API
    try:
        live_site.enqueue(WEBHOOK_UPKEEP, {})  # as the next lifecycle check queues it
        app = open_app(page, live_site.dashboard)
        app.get_by_role("link", name="Activity").click()
        notice = app.locator('[data-notice="paused-webhooks"]')
        deadline = time.monotonic() + 15
        while not notice.count():
            assert time.monotonic() < deadline, "the paused webhook was not shown"
            app.get_by_role("button", name="Refresh").click()
            page.wait_for_timeout(200)
        expect(notice).to_contain_text("One of the app's webhooks is paused in Saleor")
        expect(notice).to_contain_text("product updated")
        check_a11y(app_frame(page), "the Activity page with a paused webhook")
        shot(page, artifacts, "activity-paused-webhook-light")

        notice.get_by_role("button", name="Turn back on").click()
        toast(page, "Webhooks turned back on")
        expect(notice).to_have_count(0)
        expect(app.locator("#backlog")).to_be_focused()  # not lost with the button
        assert hook.is_active
    finally:
        if not hook.is_active:
            hook.is_active = True
            live_site.enqueue(WEBHOOK_UPKEEP, {})
