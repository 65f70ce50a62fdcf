"""The E-commerce page's abandoned-cart health panel in Chromium, light and dark: a tracked
channel whose carts cannot flow yet (no initial sync) says so with its fix, Mailchimp's consent
rule, the store's site script and its verification refused in words; the Activity page says
the same; axe-core finds nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    eventually,
    open_page,
    set_theme,
)

pytestmark = pytest.mark.browser

SLUG = "health-channel"
# A second tracked channel: the page then has a card and an initial-sync section per channel,
# each of which axe wants named apart.
SECOND = ("health-outlet", "Health Outlet")


@pytest.fixture
def tracked(live_site: LiveSite) -> Iterator[None]:
    """Two channels, each with an audience of its own (the E-commerce page's tests expect the
    default channel and their audiences as they left them), tracked with their stores created;
    untracked again afterwards."""
    store = live_site.stack.saleor.store
    channels = {SLUG: "Health Channel", SECOND[0]: SECOND[1]}
    for slug, name in channels.items():
        if not any(c.slug == slug for c in store.channels.values()):
            store.add_channel(slug, name, "USD")
    shoppers = Newsletter(live_site)
    with app_api(live_site) as api:
        connection = eventually(lambda: api.get("/api/connection").json().get("status"))
        if connection != "connected":
            key = live_site.stack.demo_account.api_key
            assert api.post("/api/connection/api-key", json={"api_key": key}).is_success
    lists = {slug: shoppers.new_list(f"{name} shoppers") for slug, name in channels.items()}
    shoppers.import_now()
    with app_api(live_site) as api:
        settings = api.get("/api/ecommerce").json()["settings"]
        was_on = settings["tracking_enabled"]
        if not was_on:
            assert api.patch("/api/ecommerce/settings", json={"tracking_enabled": True}).is_success
        for slug, list_id in lists.items():
            body = {"tracked": True, "list_id": list_id}
            assert api.put(f"/api/ecommerce/channels/{slug}", json=body).is_success

        def ready() -> bool:
            ready = {
                c["slug"]
                for c in api.get("/api/ecommerce").json()["channels"]
                if c["store_status"] == "ready"
            }
            return set(channels) <= ready

        eventually(ready, timeout=20)
    try:
        yield
    finally:
        with app_api(live_site) as api:
            for slug in channels:
                api.put(f"/api/ecommerce/channels/{slug}", json={"tracked": False})
            if not was_on:
                api.patch("/api/ecommerce/settings", json={"tracking_enabled": False})


def test_the_health_panel_in_light_and_dark(
    page: Page, live_site: LiveSite, tracked: None, artifacts: Path
) -> None:
    del tracked
    app = open_page(page, live_site, "E-commerce")
    panel = app.locator("#cart-health")
    expect(panel.get_by_role("heading", name="Abandoned-cart e-mails")).to_be_visible()
    card = panel.locator('[data-health-channel="health-channel"]')
    expect(card.get_by_role("heading", name="Health Channel")).to_be_visible()
    expect(card.locator(".badge")).to_have_text("Carts not sent")
    expect(card).to_contain_text("Carts of Health Channel are not sent to Mailchimp.")
    expect(card.get_by_role("button", name="Start the initial sync")).to_be_visible()
    expect(card).to_contain_text("will only receive the first email in the abandoned cart series")
    expect(card.get_by_role("link", name="Mailchimp's help")).to_have_attribute(
        "href", "https://mailchimp.com/help/create-an-abandoned-cart-series/"
    )
    expect(card.locator("code")).to_contain_text("https://chimpstatic.com/mcjs-connected/js/")

    # Each channel's initial-sync section is a landmark named after its channel.
    expect(app.get_by_role("region", name="Initial sync of Health Outlet")).to_be_visible()
    expect(app.get_by_role("region", name="Initial sync of Health Channel")).to_be_visible()

    card.get_by_role("button", name="Verify the site script").click()
    expect(card.get_by_role("alert")).to_contain_text("The site script was not verified")
    expect(card.get_by_role("alert")).to_contain_text("did not find its site script")
    # The technical side behind a Details toggle: the code, the status, the log's request id.
    card.get_by_role("alert").locator("summary", has_text="Details").click()
    expect(card.get_by_role("alert").locator("pre")).to_contain_text(
        re.compile(r"SITE_SCRIPT_NOT_FOUND, HTTP 400, request id \S+")
    )
    check_a11y(app_frame(page), "the abandoned-cart health panel")
    shot(page, artifacts, "ecommerce-health-light", height=2600)

    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "the abandoned-cart health panel (dark)")
    shot(page, artifacts, "ecommerce-health-dark", height=2600)
    set_theme(page, app, "light")

    # The Activity page says the same, never that all is well. Channels other tests left tracked
    # (the default one) may be counted too: the page counts what the Activity API lists.
    with app_api(live_site) as api:
        unwell = [c["name"] for c in api.get("/api/activity").json()["cart_health"]]
    assert {"Health Channel", "Health Outlet"} <= set(unwell), unwell
    app.get_by_role("link", name="Activity", exact=True).click()
    said = app.locator('[data-notice="cart-health"]')
    expect(said).to_contain_text(f"Abandoned-cart e-mails cannot fire for {len(unwell)} channels")
    expect(said).to_contain_text("Carts of Health Channel are not sent to Mailchimp.")
    expect(said).to_contain_text("Carts of Health Outlet are not sent to Mailchimp.")
    check_a11y(app_frame(page), "the Activity page with a health problem")


def test_a_channel_action_takes_the_admin_to_the_cards_control(
    page: Page, live_site: LiveSite, tracked: None
) -> None:
    """The panel's "Start the initial sync" puts the focus on the channel card's control that
    does it; pressing that starts the sync."""
    del tracked
    app = open_page(page, live_site, "E-commerce")
    card = app.locator(f'[data-health-channel="{SLUG}"]')
    fix = card.get_by_role("button", name="Start the initial sync")
    fix.focus()
    page.keyboard.press("Enter")
    channel = app.locator(f'[data-channel="{SLUG}"]')
    start = channel.get_by_role("button", name="Start the initial sync", exact=True)
    expect(start).to_be_focused()
    check_a11y(app_frame(page), "the channel card's control, reached from the health panel")

    page.keyboard.press("Enter")
    with app_api(live_site) as api:
        path = f"/api/ecommerce/channels/{SLUG}/initial-sync"
        # It started, and (before the fixture stops tracking the channel) it ended.
        ended = ("succeeded", "failed", "cancelled")
        eventually(lambda: api.get(path).json().get("status") in ended, timeout=40)
