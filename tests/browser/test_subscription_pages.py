"""The Audiences and Subscriptions pages in Chromium, inside the sandbox dashboard, as a store admin
uses them (the Audiences page's engagement settings too); Mailchimp is the sandbox, reached
through its HTTP API. The customer panel: tests/browser/test_customer_panel_page.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    eventually,
    mailchimp_api,
    open_page,
    said,
    set_theme,
)

pytestmark = pytest.mark.browser


def switch_theme(page: Page, app: FrameLocator, theme: str) -> None:
    if app.locator("html").get_attribute("data-theme") != theme:
        page.get_by_role("button", name=re.compile("mode")).click()
    expect(app.locator("html")).to_have_attribute("data-theme", theme)


def audience(app: FrameLocator, name: str) -> Any:
    return app.get_by_role("article", name=name)


def test_audiences_refresh_choose_and_save(
    page: Page, live_site: LiveSite, newsletter: Newsletter, artifacts: Path
) -> None:
    fruit = newsletter.ids["Fruit lovers"]
    newsletter.configure(active_list_ids=[])
    app = open_page(page, live_site, "Audiences & groups")
    expect(app.locator("#import-status")).to_contain_text(
        re.compile(r"^\d+ audiences? imported from Mailchimp ")
    )
    expect(audience(app, "Fruit lovers")).to_contain_text("Double opt-in off")

    # A new audience in Mailchimp appears after Refresh.
    newsletter.new_list("Herb garden")
    expect(audience(app, "Herb garden")).to_have_count(0)
    app.get_by_role("button", name="Refresh from Mailchimp").click()
    expect(audience(app, "Herb garden")).to_be_visible()
    said(app, "Audiences refreshed")

    card = audience(app, "Fruit lovers")
    expect(card.get_by_label("Default audience")).to_be_disabled()
    expect(card.get_by_role("checkbox", name=re.compile("^Topics"))).to_be_disabled()
    expect(card.locator(".chip").filter(has_text="Apples")).to_be_visible()
    expect(card.get_by_text("Radio buttons · shoppers pick one")).to_be_visible()
    card.get_by_label("Offer in the store").check()
    # The only offered audience becomes the default one.
    expect(card.get_by_label("Default audience")).to_be_checked()
    card.get_by_role("checkbox", name=re.compile("^Topics")).check()
    card.get_by_role("checkbox", name=re.compile("^Frequency")).check()
    app.get_by_label("Shoppers may join several audiences").check()
    app.get_by_label("Always ask new subscribers to confirm by e-mail").check()
    app.get_by_label("Tags for every contact the store subscribes").fill("saleor, web shop")

    # A wrong origin is explained next to the field, in words; nothing is saved.
    origins = app.get_by_role("textbox", name="Allowed storefront origins")
    origins.fill("shop.example.com")
    save = app.get_by_role("button", name="Save", exact=True)
    save.click()
    expect(app.locator("#origins-error")).to_contain_text(
        "“shop.example.com” is not an origin: write the scheme and host only"
    )
    # Form errors are inline only: no notification repeats them.
    expect(app.locator("[data-save-status]")).to_have_text(
        "Correct the highlighted fields, then save."
    )
    expect(page.locator("#toasts .toast")).to_have_count(0)
    origins.fill("https://shop.example.com/\nhttp://localhost:3000")

    # Leaving with unsaved changes asks first; staying keeps them.
    app.get_by_role("link", name="Subscriptions", exact=True).click()
    leave = app.get_by_role("dialog", name="Leave without saving?")
    expect(leave).to_be_visible()
    check_a11y(app_frame(page), "the leave dialog")
    shot(page, artifacts, "audiences-leave-dialog-light")
    leave.get_by_role("button", name="Stay on this page").click()
    expect(leave).to_have_count(0)
    expect(app.get_by_role("link", name="Audiences & groups", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(origins).to_have_value("https://shop.example.com/\nhttp://localhost:3000")
    # The browser asks too (beforeunload) while changes are unsaved.
    assert app_frame(page).evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; }"
    )
    save.click()
    expect(app.locator("[data-save-status]")).to_have_text("Audience settings saved.")
    # Nothing floats over the save bar's buttons.
    expect(page.locator("#toasts .toast")).to_have_count(0)
    expect(app.locator("#origins-error")).to_have_text("")
    expect(save).to_be_disabled()
    expect(app.get_by_role("button", name="Discard")).to_be_disabled()
    assert not app_frame(page).evaluate(
        "() => { const e = new Event('beforeunload', {cancelable: true});"
        " window.dispatchEvent(e); return e.defaultPrevented; }"
    )

    # Kept after a reload, and sent as the API says.
    page.reload()
    app = page.frame_locator("#app-frame")
    app.get_by_role("link", name="Audiences & groups", exact=True).click()
    card = audience(app, "Fruit lovers")
    expect(card.get_by_label("Offer in the store")).to_be_checked()
    expect(card.get_by_label("Default audience")).to_be_checked()
    expect(card.locator(".badge").filter(has_text="Default")).to_be_visible()
    expect(card.get_by_role("checkbox", name=re.compile("^Topics"))).to_be_checked()
    expect(audience(app, "Veggie club").get_by_label("Offer in the store")).not_to_be_checked()
    expect(app.get_by_label("Shoppers may join several audiences")).to_be_checked()
    expect(app.get_by_label("Always ask new subscribers to confirm by e-mail")).to_be_checked()
    expect(app.get_by_label("Tags for every contact the store subscribes")).to_have_value(
        "saleor, web shop"
    )
    expect(origins).to_have_value("https://shop.example.com\nhttp://localhost:3000")
    with app_api(live_site) as api:
        settings = api.get("/api/audiences").json()["settings"]
    assert settings["default_list_id"] == fruit and settings["double_optin"] == "always"
    assert settings["tags"] == ["saleor", "web shop"]
    shot(page, artifacts, "audiences-light")
    switch_theme(page, app, "dark")
    shot(page, artifacts, "audiences-dark")

    # A group deleted in Mailchimp: after the next import the page says so.
    with mailchimp_api(live_site) as mc:
        topics = newsletter.ids["Topics"]
        assert mc.delete(f"/lists/{fruit}/interest-categories/{topics}").status_code == 204
    app.get_by_role("button", name="Refresh from Mailchimp").click()
    warnings = app.get_by_role("alert").filter(has_text="Something you chose is gone")
    expect(warnings).to_contain_text(
        "The group “Topics” of “Fruit lovers” was removed from Mailchimp"
    )
    expect(card.get_by_role("checkbox", name=re.compile("^Topics"))).to_be_disabled()
    expect(card.locator(".group-row").filter(has_text="Topics")).to_contain_text(
        "Removed in Mailchimp"
    )
    shot(page, artifacts, "audiences-removed-group-dark")
    switch_theme(page, app, "light")


def test_audiences_page_without_mailchimp_points_to_the_connection_page(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    with app_api(live_site) as api:
        assert api.post("/api/connection/reset", json={}).status_code == 200
    try:
        app = open_page(page, live_site, "Audiences & groups")
        notice = app.get_by_role("status").filter(has_text="Mailchimp is not connected")
        expect(notice).to_be_visible()
        notice.get_by_role("link", name="Connect Mailchimp on the Connection page").click()
        expect(app.get_by_role("link", name="Connection", exact=True)).to_have_attribute(
            "aria-current", "page"
        )
    finally:
        with app_api(live_site) as api:
            response = api.post(
                "/api/connection/api-key", json={"api_key": live_site.stack.demo_account.api_key}
            )
            assert response.status_code == 200, response.text


def test_engagement_settings_on_the_audiences_page(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    with app_api(live_site) as api:  # the dev stack installs the app in the background
        eventually(lambda: api.get("/api/connection").is_success)
    app = open_page(page, live_site, "Audiences & groups")
    section = app.get_by_role("region", name="Engagement")
    days = section.get_by_label("Activity update interval (days)")
    schedule = section.get_by_label("Collect")
    expect(days).to_have_value("30")
    expect(schedule.locator("option:checked")).to_have_text("Every hour")
    save = app.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_disabled()
    try:
        days.fill("400")
        save.click()
        expect(app.locator("#engagement-days-error")).to_have_text(
            "Write a whole number of days from 1 to 365."
        )
        expect(days).to_be_focused()
        days.fill("14")
        schedule.select_option(label="Every 6 hours")
        check_a11y(app_frame(page), "the Audiences page's engagement settings (light)")
        save.click()
        said(app, "Audience settings saved")
        expect(save).to_be_disabled()
        with app_api(live_site) as api:
            run = api.get("/api/engagement/settings").json()
        assert (run["activity_interval_days"], run["schedule_minutes"]) == (14, 360)
        set_theme(page, app, "dark")
        check_a11y(app_frame(page), "the Audiences page's engagement settings (dark)")
        section.screenshot(path=str(artifacts / "audiences-engagement-dark.png"))
        # Discard puts the saved values back.
        days.fill("7")
        app.get_by_role("button", name="Discard").click()
        expect(days).to_have_value("14")
    finally:
        with app_api(live_site) as api:
            body = {"activity_interval_days": 30, "schedule_minutes": 60}
            assert api.put("/api/engagement/settings", json=body).is_success


def test_subscriptions_two_way_options_and_storefront_reference(
    page: Page, live_site: LiveSite, newsletter: Newsletter, artifacts: Path
) -> None:
    fruit = newsletter.ids["Fruit lovers"]
    newsletter.configure(
        active_list_ids=[fruit],
        default_list_id=fruit,
        offered_category_ids=[newsletter.ids["Frequency"]],
        allowed_origins=["https://shop.example.com"],
        two_way=True,
        priority="mailchimp_wins",
    )
    app = open_page(page, live_site, "Subscriptions")
    expect(
        app.get_by_label("Also bring changes made in Mailchimp back to the store")
    ).to_be_checked()
    expect(app.get_by_role("radio", name=re.compile("^Mailchimp wins"))).to_be_checked()
    expect(app.locator("#consent-rule")).to_contain_text(
        "never subscribed again without the shopper's fresh consent"
    )

    # The reference is filled in with this installation's values.
    saleor_api_url = live_site.stack.saleor.api_url
    store = "saleor_api_url=" + quote(saleor_api_url, safe="")
    base = f"{live_site.url}/api/storefront"
    expect(app.locator("#base-url")).to_have_text(base)
    expect(app.locator("#store-param")).to_have_text(store)
    expect(app.locator("#origins-fact")).to_have_text("https://shop.example.com")
    expect(app.locator("#id-rows")).to_contain_text(f"Fruit lovers (default){fruit}")
    expect(app.locator("#id-rows")).to_contain_text(newsletter.ids["Weekly"] + " Weekly")
    checkout = app.locator("#snippet-checkout")
    expect(checkout).to_contain_text('{key: "mailchimp.consent.subscribe", value: "true"}')
    expect(checkout).to_contain_text(f'{{key: "mailchimp.consent.audiences", value: "{fruit}"}}')
    expect(checkout).to_contain_text("# the whole choice of the groups shown (others off)")
    expect(app.locator("#snippet-register")).to_contain_text("accountRegister(input: {")
    expect(app.locator("#snippet-offer")).to_contain_text(f"{base}/newsletter?{store}")
    subscribe = app.locator("#snippet-subscribe")
    expect(subscribe).to_contain_text(f"{base}/subscribe?{store}")
    expect(subscribe).to_contain_text(f'groups: ["{newsletter.ids["Weekly"]}"]')
    expect(app.locator("#snippet-account")).to_contain_text(f"{base}/me/subscriptions?{store}")

    # The offer call shown works as written.
    offer = httpx.get(f"{base}/newsletter?{store}").json()
    assert [a["list_id"] for a in offer["audiences"]] == [fruit]

    # The storefront guide is for developers: collapsed until opened; its code is reachable
    # by keyboard and named after its heading.
    guide = app.locator("#guide")
    expect(guide).not_to_have_attribute("open", "")
    expect(app.locator("#snippet-subscribe")).to_be_hidden()
    guide.locator("summary").click()
    expect(app.locator("#snippet-subscribe")).to_be_visible()
    code = app.get_by_role("region", name=re.compile("^2. Subscribe an e-mail address"))
    code.focus()
    expect(code).to_be_focused()
    expect(code).to_have_attribute("tabindex", "0")
    # Copy: the clipboard or, inside a frame without it, a selection.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = app.locator("[data-copy=snippet-subscribe]")
    copy.click()
    expect(copy).to_have_text(re.compile("Copied|Press Ctrl\\+C"))

    # Two-way off disables the priority; Store wins is kept after a reload.
    two_way = app.get_by_label("Also bring changes made in Mailchimp back to the store")
    two_way.uncheck()
    expect(app.get_by_role("radio", name=re.compile("^Store wins"))).to_be_disabled()
    two_way.check()
    app.get_by_role("radio", name=re.compile("^Store wins")).check()
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("[data-save-status]")).to_have_text("Subscription settings saved.")
    # Nothing floats over the save bar's buttons.
    expect(page.locator("#toasts .toast")).to_have_count(0)
    page.reload()
    app = page.frame_locator("#app-frame")
    app.get_by_role("link", name="Subscriptions", exact=True).click()
    expect(app.get_by_role("radio", name=re.compile("^Store wins"))).to_be_checked()
    with app_api(live_site) as api:
        data = api.get("/api/audiences").json()
    # Saving here keeps what the Audiences page chose.
    assert data["settings"]["priority"] == "store_wins"
    assert data["settings"]["default_list_id"] == fruit
    assert data["settings"]["allowed_origins"] == ["https://shop.example.com"]
    [frequency] = [g for a in data["audiences"] for g in a["groups"] if g["title"] == "Frequency"]
    assert frequency["offered"]
    shot(page, artifacts, "subscriptions-light", height=2600)
    switch_theme(page, app, "dark")
    shot(page, artifacts, "subscriptions-dark", height=2600)
    newsletter.configure(
        active_list_ids=[fruit],
        default_list_id=fruit,
        offered_category_ids=[newsletter.ids["Frequency"]],
    )
