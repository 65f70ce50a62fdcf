"""Erasing a customer from the customer panel in Chromium, inside the sandbox dashboard, as staff
who may manage customers (MANAGE_USERS only) do it: the confirmation names what will be erased,
and Mailchimp forgets the address."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    app_api,
    app_frame,
    check_a11y,
    connect_demo,
    eventually,
    go,
    loaded,
    mailchimp_api,
    only_users,
    said,
    set_theme,
    shot,
    toast,
)
from tests.sandbox_mailchimp.helpers import list_body

pytestmark = pytest.mark.browser

AUDIENCE = "Erasure news"


def _connected_with_audience(live_site: LiveSite) -> tuple[str, dict[str, Any]]:
    """The demo account connected, with a new audience imported and the only active one;
    returns it and the newsletter settings to put back afterwards."""
    with app_api(live_site) as api:
        connect_demo(api, live_site)
        with mailchimp_api(live_site) as mc:
            created = mc.post("/lists", json=list_body(AUDIENCE))
            assert created.status_code == 200, created.text
            list_id = str(created.json()["id"])
        before = api.get("/api/audiences").json()
        assert api.post("/api/audiences/refresh").status_code == 202
        eventually(
            lambda: any(
                a["list_id"] == list_id for a in api.get("/api/audiences").json()["audiences"]
            )
        )
        previous = before["settings"]
        response = api.put(
            "/api/audiences/settings",
            json={"active_list_ids": [list_id], "default_list_id": list_id},
        )
        assert response.status_code == 200, response.text
        return list_id, previous


def test_staff_erase_a_customer_from_the_panel(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    list_id, previous = _connected_with_audience(live_site)
    demo = live_site.stack.demo_account
    email = "erase.me@example.com"
    try:
        minted = only_users(page)
        page.goto(f"{live_site.dashboard}customers?theme=light")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("First name").fill("Erin")
        page.get_by_label("Last name").fill("Rase")
        page.get_by_role("button", name="Create customer").click()
        page.get_by_role("link", name=f"Open {email}").click()
        page.get_by_text("More actions").click()
        page.get_by_role("link", name="Newsletter (Mailchimp)").click()
        panel = page.frame_locator("#app-frame")
        expect(panel.locator("#customer-email")).to_have_text(email)
        card = panel.get_by_role("region", name=AUDIENCE)
        card.get_by_role("button", name="Subscribe", exact=True).click()
        toast(page, "Subscription requested")
        expect(card.locator("[data-status]")).to_have_text("Subscribed", timeout=15_000)
        assert minted, "the panel's token was not narrowed to MANAGE_USERS"

        erasure = panel.get_by_role("region", name="Erase from Mailchimp")
        erase = erasure.get_by_role("button", name="Erase from Mailchimp")
        check_a11y(app_frame(page), "the customer panel with its erasure (light)")
        # The confirmation names what will be erased; keeping changes nothing.
        erase.click()
        confirm = panel.get_by_role("dialog", name=f"Erase {email} from Mailchimp?")
        expect(confirm).to_be_visible()
        # Every audience of the account (other tests of this site add theirs), this one among them.
        named = rf"permanently deletes {re.escape(email)} from the audiences? [^.]*\b{AUDIENCE}\b"
        expect(confirm).to_contain_text(re.compile(named))
        expect(confirm).to_contain_text("cannot be undone")
        check_a11y(app_frame(page), "the erasure confirmation (light)")
        shot(page, artifacts, "customer-panel-erase-light")
        set_theme(page, panel, "dark")
        expect(confirm).to_be_visible()
        check_a11y(app_frame(page), "the erasure confirmation (dark)")
        shot(page, artifacts, "customer-panel-erase-dark")
        set_theme(page, panel, "light")
        confirm.get_by_role("button", name="Keep").click()
        expect(confirm).to_have_count(0)
        expect(erase).to_be_focused()
        assert live_site.stack.mailchimp.member(demo, list_id, email) is not None

        erase.click()
        confirm.get_by_role("button", name="Erase", exact=True).click()
        toast(page, "Erasure requested")
        expect(card.locator("[data-status]")).to_have_text("Not subscribed", timeout=15_000)
        assert eventually(lambda: live_site.stack.mailchimp.member(demo, list_id, email) is None)
        with mailchimp_api(live_site) as mc:
            again = mc.post(
                f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
            )
        assert again.status_code == 400
        assert again.json()["title"] == "Forgotten Email Not Subscribed"
        # The panel says the customer was erased, and offers no Subscribe that cannot work.
        expect(panel.locator("#customer-email")).to_contain_text("erased from Mailchimp")
        expect(card).to_contain_text("was erased from Mailchimp on")
        expect(card.get_by_role("button", name="Subscribe", exact=True)).to_have_attribute(
            "aria-disabled", "true"
        )
        check_a11y(app_frame(page), "the customer panel after an erasure (light)")
        set_theme(page, panel, "dark")
        check_a11y(app_frame(page), "the customer panel after an erasure (dark)")
        shot(page, artifacts, "customer-panel-erased-dark")
    finally:
        with app_api(live_site) as api:
            api.put(
                "/api/audiences/settings",
                json={
                    "active_list_ids": previous.get("active_list_ids") or [],
                    "default_list_id": previous.get("default_list_id"),
                },
            )


def _subscriptions_page(page: Page, live_site: LiveSite) -> FrameLocator:
    with app_api(live_site) as api:  # the dev stack installs the app in the background
        eventually(lambda: api.get("/api/connection").is_success)
    page.goto(f"{live_site.dashboard}?theme=light")
    page.get_by_role("link", name="Open").first.click()
    app = page.frame_locator("#app-frame")
    go(app, "Subscriptions")
    return app


def test_the_erasure_setting_is_on_the_subscriptions_page(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    app = _subscriptions_page(page, live_site)
    section = app.get_by_role("region", name="Erasure (GDPR)")
    orders = section.get_by_label("Also delete their orders in Mailchimp")
    expect(orders).not_to_be_checked()
    check_a11y(app_frame(page), "the Subscriptions page with the erasure setting (light)")
    orders.check()
    app.get_by_role("button", name="Save", exact=True).click()
    said(app, "Subscription settings saved")
    with app_api(live_site) as api:
        assert api.get("/api/erasure/settings").json() == {"delete_orders": True}
    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "the Subscriptions page with the erasure setting (dark)")
    shot(page, artifacts, "subscriptions-erasure-dark")
    set_theme(page, app, "light")
    page.reload()
    app = page.frame_locator("#app-frame")
    # The reload replaces the frame's document: wait for the new one before marking it (a mark
    # on the old one raced its replacement: "Execution context was destroyed").
    loaded(app)
    go(app, "Subscriptions")
    orders = app.get_by_role("region", name="Erasure (GDPR)").get_by_label(
        "Also delete their orders in Mailchimp"
    )
    expect(orders).to_be_checked()
    orders.uncheck()
    app.get_by_role("button", name="Save", exact=True).click()
    said(app, "Subscription settings saved")
    with app_api(live_site) as api:
        assert api.get("/api/erasure/settings").json() == {"delete_orders": False}


def test_an_address_no_customer_panel_reaches_is_erased_from_the_subscriptions_page(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    """A guest's address (or a deleted customer's): staff type it, confirm, and it is queued;
    what is no address is said at the field."""
    app = _subscriptions_page(page, live_site)
    section = app.get_by_role("region", name="Erase an e-mail address")
    erase = section.get_by_role("button", name="Erase from Mailchimp")
    field = section.get_by_label("E-mail address")
    expect(field).to_be_visible()
    erase.click()
    expect(section.get_by_text("Enter the e-mail address to erase")).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    check_a11y(app_frame(page), "the Subscriptions page with an address refused (light)")
    # No domain with a dot: said at the field, before the confirmation, not after it.
    field.fill("ann@example")
    erase.click()
    expect(section.get_by_text("Enter the e-mail address to erase")).to_be_visible()
    expect(app.get_by_role("dialog")).to_have_count(0)

    field.fill("gone.guest@example.com")
    erase.click()
    dialog = app.get_by_role("dialog", name="Erase gone.guest@example.com from Mailchimp?")
    expect(dialog).to_contain_text("This cannot be undone.")
    check_a11y(app_frame(page), "the address erasure's confirmation (light)")
    dialog.get_by_role("button", name="Erase", exact=True).click()
    said(app, "Erasure requested")
    expect(field).to_have_value("")
    expect(
        app.get_by_role("status").filter(has_text="Erasing gone.guest@example.com")
    ).to_be_visible()
    shot(page, artifacts, "subscriptions-erase-address-light")
    with app_api(live_site) as api:
        eventually(
            lambda: any(
                item["subject"] == "Erasure of a customer"
                for item in api.get("/api/activity?limit=100").json()["items"]
            )
        )
