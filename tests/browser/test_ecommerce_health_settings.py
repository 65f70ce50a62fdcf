"""The abandoned-cart health panel's fixes that are settings of the E-commerce page, in
Chromium: the checkout URL saved with the save bar moves the panel on, and "Turn on
abandoned-cart tracking" pressed while the form holds other edits reaches the form, so the next
Save keeps carts on; a refused press says why once. axe-core finds nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    eventually,
    open_page,
    said,
)

pytestmark = pytest.mark.browser

SLUG = "cart-fix-channel"
CHECKOUT_URL = "https://shop.example.com/cart/restore?link={restore}"
SETTINGS = ("tracking_enabled", "abandoned_carts_enabled", "checkout_url_template")


@pytest.fixture
def synced(live_site: LiveSite) -> Iterator[None]:
    """A channel of its own, tracked with an audience of its own and its initial sync finished
    (so its health speaks of the settings), carts on and no checkout URL; afterwards untracked,
    and the settings as they were."""
    store = live_site.stack.saleor.store
    if not any(c.slug == SLUG for c in store.channels.values()):
        store.add_channel(SLUG, "Cart Fix Channel", "USD")
    shoppers = Newsletter(live_site)
    with app_api(live_site) as api:
        connection = eventually(lambda: api.get("/api/connection").json().get("status"))
        if connection != "connected":
            key = live_site.stack.demo_account.api_key
            assert api.post("/api/connection/api-key", json={"api_key": key}).is_success
    list_id = shoppers.new_list("Cart Fix shoppers")
    shoppers.import_now()
    with app_api(live_site) as api:
        settings = api.get("/api/ecommerce").json()["settings"]
        was = {name: settings[name] for name in SETTINGS}
        carts: dict[str, object] = {"tracking_enabled": True, "abandoned_carts_enabled": True}
        carts["checkout_url_template"] = None
        assert api.patch("/api/ecommerce/settings", json=carts).is_success
        track = {"tracked": True, "list_id": list_id}
        assert api.put(f"/api/ecommerce/channels/{SLUG}", json=track).is_success

        def ready() -> bool:
            channels = api.get("/api/ecommerce").json()["channels"]
            return any(c["slug"] == SLUG and c["store_status"] == "ready" for c in channels)

        eventually(ready, timeout=20)
        sync = f"/api/ecommerce/channels/{SLUG}/initial-sync"
        if api.get(sync).json().get("status") != "succeeded":
            assert api.post(sync).status_code == 202
            eventually(lambda: api.get(sync).json().get("status") == "succeeded", timeout=40)
    try:
        yield
    finally:
        with app_api(live_site) as api:
            api.put(f"/api/ecommerce/channels/{SLUG}", json={"tracked": False})
            api.patch("/api/ecommerce/settings", json=was)


def health_state(live_site: LiveSite) -> str:
    with app_api(live_site) as api:
        channels = api.get("/api/ecommerce/health").json()["channels"]
    return str(next(c["state"] for c in channels if c["channel"] == SLUG))


def test_saving_the_checkout_url_moves_the_panel_on(
    page: Page, live_site: LiveSite, synced: None
) -> None:
    del synced
    app = open_page(page, live_site, "E-commerce")
    card = app.locator(f'[data-health-channel="{SLUG}"]')
    expect(card.locator(".badge")).to_have_text("No checkout URL")
    check_a11y(app_frame(page), "the health panel without a checkout URL")

    card.get_by_role("button", name="Set the checkout URL").click()
    expect(app.locator("#checkout-url")).to_be_focused()
    app.locator("#checkout-url").fill(CHECKOUT_URL)
    app.get_by_role("button", name="Save", exact=True).click()
    said(app, "E-commerce settings saved")
    # The panel says what the server now says: no longer that the URL is missing.
    assert health_state(live_site) != "no_checkout_url"
    expect(card.locator(".badge")).not_to_have_text("No checkout URL")
    expect(card.get_by_role("button", name="Set the checkout URL")).to_have_count(0)
    check_a11y(app_frame(page), "the health panel after the checkout URL was saved")


def test_turning_carts_on_from_the_panel_survives_the_next_save(
    page: Page, live_site: LiveSite, synced: None
) -> None:
    del synced
    with app_api(live_site) as api:
        off = {"abandoned_carts_enabled": False}
        assert api.patch("/api/ecommerce/settings", json=off).is_success
    app = open_page(page, live_site, "E-commerce")
    card = app.locator(f'[data-health-channel="{SLUG}"]')
    turn_on = card.get_by_role("button", name="Turn on abandoned-cart tracking")
    expect(turn_on).to_be_visible()
    expect(app.locator("#carts")).not_to_be_checked()
    # The admin starts on the checkout URL (the form now holds an unsaved edit) ...
    app.locator("#checkout-url").fill(CHECKOUT_URL)

    # ... and presses the panel's fix, which the app refuses twice: said once, announced.
    message = "Saleor did not answer: 503 Service Unavailable."

    def refuse(route: Route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        body = {"success": False, "error": {"code": "SALEOR_UNAVAILABLE", "message": message}}
        route.fulfill(status=502, content_type="application/json", body=json.dumps(body))

    settings = "**/api/ecommerce/settings"
    page.route(settings, refuse)
    for _ in range(2):
        turn_on.click()
        expect(turn_on).to_be_enabled()
    expect(card.get_by_role("alert")).to_have_count(1)
    expect(card.get_by_role("alert")).to_have_text(message)
    check_a11y(app_frame(page), "the health panel's refused fix")
    page.unroute(settings, refuse)

    turn_on.click()
    expect(turn_on).to_have_count(0)
    # The form shows it, and keeps the admin's edit, still unsaved.
    expect(app.locator("#carts")).to_be_checked()
    expect(app.locator("#checkout-url")).to_have_value(CHECKOUT_URL)
    expect(app.get_by_role("button", name="Save", exact=True)).to_be_enabled()
    expect(card.locator(".badge")).to_have_text("No checkout URL")
    check_a11y(app_frame(page), "the health panel with carts on and an unsaved edit")

    app.get_by_role("button", name="Save", exact=True).click()
    said(app, "E-commerce settings saved")
    with app_api(live_site) as api:
        saved = api.get("/api/ecommerce").json()["settings"]
    assert saved["abandoned_carts_enabled"] is True
    assert saved["checkout_url_template"] == CHECKOUT_URL


def test_discard_after_the_panels_fix_keeps_carts_on(
    page: Page, live_site: LiveSite, synced: None
) -> None:
    """The save bar's saved copy took the panel's change: Discard drops only the admin's edit."""
    del synced
    with app_api(live_site) as api:
        off = {"abandoned_carts_enabled": False}
        assert api.patch("/api/ecommerce/settings", json=off).is_success
    app = open_page(page, live_site, "E-commerce")
    card = app.locator(f'[data-health-channel="{SLUG}"]')
    app.locator("#checkout-url").fill(CHECKOUT_URL)
    card.get_by_role("button", name="Turn on abandoned-cart tracking").click()
    expect(app.locator("#carts")).to_be_checked()
    app.get_by_role("button", name="Discard").click()
    expect(app.locator("#checkout-url")).to_have_value("")
    expect(app.locator("#carts")).to_be_checked()
    expect(app.get_by_role("button", name="Save", exact=True)).to_be_disabled()
