"""The E-commerce page in Chromium, inside the sandbox dashboard: track a channel in a Mailchimp
store, follow its sync counts, Resync, Retry a quarantined record."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from sandboxes.saleor.store_catalog import VariantSpec
from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    connect_demo,
    eventually,
    in_thread,
    mailchimp_api,
    open_page,
    said,
    set_theme,
)
from tests.browser.test_subscription_pages import switch_theme

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(live_site: LiveSite) -> Iterator[Newsletter]:
    """Connected, with a default audience, and a sales channel in Saleor."""
    shop = Newsletter(live_site)
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    orchard = shop.list_named("Orchard customers")
    shop.list_named("Wholesale buyers")
    shop.import_now()
    shop.configure(active_list_ids=[orchard], default_list_id=orchard)
    live_site.stack.saleor.store.default_channel()
    # Like the stack's one worker attempt: a record Mailchimp refuses is quarantined at once,
    # instead of after five attempts with backoff.
    services = live_site.services
    settings = services.settings
    services.settings = settings.model_copy(update={"ecommerce_max_attempts": 1})
    try:
        yield shop
    finally:
        services.settings = settings


def refreshed(app: FrameLocator, target: Locator, text: str | re.Pattern[str]) -> None:
    """Press Refresh until `target` shows `text` (the worker runs beside the page)."""

    def shows() -> bool:
        app.get_by_role("button", name="Refresh", exact=True).click()
        expect(app.locator("#skeleton")).to_be_hidden()
        try:
            expect(target).to_contain_text(text, timeout=700)
        except AssertionError:
            return False
        return True

    eventually(shows, timeout=20)


def count(channel: Locator, kind: str, which: str) -> Locator:
    return channel.locator(f'.stat[data-kind="{kind}"] [data-count="{which}"]')


def primary(channel: Locator) -> Locator:
    """The one primary action of a channel card in its state."""
    return channel.locator("[data-primary], [data-sync-start]:visible").filter(
        has_not=channel.locator(".secondary")
    )


def test_track_a_channel_and_follow_its_sync(
    page: Page, live_site: LiveSite, shop: Newsletter, artifacts: Path
) -> None:
    saleor = live_site.stack.saleor
    demo = live_site.stack.demo_account
    app = open_page(page, live_site, "E-commerce")
    expect(app.locator("#audience-note")).to_contain_text(
        "changing a channel's audience creates a new store"
    )
    channel = app.get_by_role("article", name="Default Channel")
    expect(channel.locator(".badge").first).to_have_text("Not tracked")
    audience = channel.get_by_label("Audience")
    expect(audience.locator("option:checked")).to_have_text("Orchard customers (default)")
    # Untracked: one primary action (Track), no counters, no "More actions".
    expect(channel.locator(".button:not(.secondary)")).to_have_count(1)
    expect(channel.get_by_role("button", name="Track this channel")).to_be_visible()
    expect(channel.locator(".stats")).to_have_count(0)
    expect(channel.get_by_role("button", name="More actions")).to_have_count(0)
    # One model of what is on: no store-wide tracking switch beside the channels, and the
    # carts option is a plain choice (never checked-but-disabled).
    expect(app.get_by_label("E-commerce tracking")).to_have_count(0)
    carts = app.get_by_label("Send abandoned carts")
    expect(carts).to_be_enabled()

    # Settings: Save only with changes; the URL templates are checked, in the server's words
    # (`links.checked_template`), inline.
    save = app.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_disabled()
    product_url = app.get_by_label("Product page URL")
    product_url.fill("shop.example.com/products/{slug}")
    expect(save).to_be_enabled()
    save.click()
    expect(app.locator("#product-url-error")).to_contain_text(
        "Product URL template must make a full link once its placeholders are filled in"
    )
    product_url.fill("https://shop.example.com/products/{sku}")
    save.click()
    expect(app.locator("#product-url-error")).to_have_text(
        "Product URL template may only use the placeholders {channel}, {id}, {slug}; remove {sku}."
    )
    expect(page.locator("#toasts .toast")).to_have_count(0)
    # Discard puts the saved values back.
    app.get_by_role("button", name="Discard").click()
    expect(product_url).to_have_value("")
    expect(app.locator("#product-url-error")).to_have_text("")
    expect(save).to_be_disabled()
    product_url.fill("https://shop.example.com/products/{slug}")
    app.get_by_label("Checkout URL").fill("https://shop.example.com/checkout?token={token}")
    order_url = app.get_by_label("Order page URL")
    order_url.fill("https://shop.example.com/orders/{token}")
    save.click()
    expect(app.locator("#order-url-error")).to_contain_text("remove {token}")
    order_url.fill("https://shop.example.com/account/orders/{number}")
    app.get_by_label("Store e-mail address").fill("shop@orchard.example")
    save.click()
    expect(app.locator("[data-save-status]")).to_have_text("E-commerce settings saved.")
    # Nothing floats over the save bar's buttons.
    expect(page.locator("#toasts .toast")).to_have_count(0)
    expect(save).to_be_disabled()

    # Track the channel: a Mailchimp store in the default audience; the next step is the
    # initial sync, the channel's one primary action.
    channel.get_by_role("button", name="Track this channel").click()
    said(app, "Channel tracked")
    expect(channel.locator(".badge").first).to_have_text("Tracked")
    refreshed(app, channel, "Store ready")
    stores = eventually(lambda: live_site.stack.mailchimp.stores(demo))
    [store] = [s for s in stores if s.list_id == shop.ids["Orchard customers"]]
    expect(channel).to_contain_text(store.id)
    expect(primary(channel)).to_have_text("Start the initial sync")
    expect(channel.locator(".button:not(.secondary):visible")).to_have_count(1)
    expect(channel.locator(".stats")).to_be_visible()

    # A product created in Saleor is counted once Mailchimp has it.
    crate = in_thread(lambda: saleor.create_product("Apple crate", [VariantSpec(sku="APL-1")]))
    refreshed(app, count(channel, "product", "synced"), "1")
    assert [p.title for p in live_site.stack.mailchimp.products(demo, store.id)] == ["Apple crate"]
    expect(app.locator("#last-push")).to_contain_text("Last sent to Mailchimp")

    # An order Mailchimp refuses (its buyer's address is none) is quarantined: named in words,
    # a plain reason, the technical text behind Details, and the button that fixes it. A
    # guest's order: a registered customer's own record goes to the store on sign-up only while
    # no other channel has had a store, and test_initial_sync_page.py tracks one when it runs
    # first on this stack (the buyer rule, `addon/ecommerce/customer_stores.py`).
    def poison() -> Any:
        line = saleor.order_line(crate.variants[0], 1)
        return saleor.create_order("default-channel", [line], email="not-an-address@invalid")

    in_thread(poison)
    rows = app.locator("#quarantine-rows")
    refreshed(app, rows, "not-an-address@invalid")
    refreshed(app, count(channel, "order", "quarantined"), "1")
    row = rows.locator("tr").filter(has_text="not-an-address@invalid")
    expect(row.locator(".record-subject")).to_contain_text("customer not-an-address@invalid")
    technical = row.locator("details.tech-details")
    expect(technical.locator("pre")).to_be_hidden()
    technical.locator("summary").click()
    expect(technical.locator("pre")).to_be_visible()
    expect(technical.locator("pre")).not_to_be_empty()
    assert "{" not in (row.locator(".record-reason, .record-subject").all_text_contents()[0])
    shot(page, artifacts, "ecommerce-quarantine-light", height=1800)
    retry = row.get_by_role("button", name="Retry")
    expect(retry).to_have_attribute("aria-describedby", re.compile("^record-"))
    retry.click()
    said(app, "Retry scheduled")

    # Resync one kind, from the channel's menu.
    channel.get_by_role("button", name="More actions").click()
    channel.get_by_role("button", name="Resync products").click()
    said(app, "Resync started")

    # Another audience means another store: the page says so before doing it.
    dialog = app.get_by_role("dialog", name="Move this channel to another audience?")
    channel.get_by_role("button", name="More actions").click()
    channel.get_by_role("button", name="Use another audience…").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("new Mailchimp store")
    # Every audience but the channel's own is offered (other modules' audiences too, when they
    # ran first on this stack), the first one chosen.
    options = dialog.get_by_label("New audience").locator("option")
    expect(options.filter(has_text="Wholesale buyers")).to_have_count(1)
    expect(options.filter(has_text="Orchard customers")).to_have_count(0)
    expect(options.first).to_have_js_property("selected", True)
    expect(dialog).to_contain_text("The old store stays in Mailchimp with its history")
    check_a11y(app_frame(page), "the audience dialog")
    shot(page, artifacts, "ecommerce-audience-dialog-light", height=1000)
    set_theme(page, app, "dark")
    expect(dialog).to_be_visible()
    check_a11y(app_frame(page), "the audience dialog (dark)")
    shot(page, artifacts, "ecommerce-audience-dialog-dark", height=1000)
    set_theme(page, app, "light")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Keyboard users go on from the menu's button (its item is hidden with the menu).
    expect(channel.get_by_role("button", name="More actions")).to_be_focused()
    with app_api(live_site) as api:
        data: dict[str, Any] = api.get("/api/ecommerce").json()
    [tracked] = [c for c in data["channels"] if c["slug"] == "default-channel"]
    assert tracked["list_id"] == shop.ids["Orchard customers"] and tracked["tracked"]
    assert data["settings"]["product_url_template"] == "https://shop.example.com/products/{slug}"
    assert data["settings"]["order_url_template"] == (
        "https://shop.example.com/account/orders/{number}"
    )

    switch_theme(page, app, "dark")
    shot(page, artifacts, "ecommerce-dark", height=1800)
    switch_theme(page, app, "light")

    # Sending paused for the whole store (an older setting): the card says so, one Resume.
    with app_api(live_site) as api:
        assert api.patch("/api/ecommerce/settings", json={"tracking_enabled": False}).is_success
    app.get_by_role("button", name="Refresh", exact=True).click()
    expect(channel.locator(".badge").first).to_have_text("Paused")
    expect(primary(channel)).to_have_text("Resume sending")
    expect(channel.locator("[data-sync-start]")).to_be_hidden()
    primary(channel).click()
    said(app, "Sending resumed")
    expect(channel.locator(".badge").first).to_have_text("Tracked")


def test_a_store_deleted_in_mailchimp_shows_as_missing_and_is_re_created(
    page: Page, live_site: LiveSite, shop: Newsletter, artifacts: Path
) -> None:
    demo = live_site.stack.demo_account
    orchard = shop.ids["Orchard customers"]
    with app_api(live_site) as api:
        # The settings the test before leaves behind, so that this one also runs alone.
        response = api.patch(
            "/api/ecommerce/settings",
            json={
                "tracking_enabled": True,
                "product_url_template": "https://shop.example.com/products/{slug}",
                "checkout_url_template": "https://shop.example.com/checkout?token={token}",
                "store_email": "shop@orchard.example",
            },
        )
        assert response.status_code == 200, response.text
        response = api.put(
            "/api/ecommerce/channels/default-channel", json={"tracked": True, "list_id": orchard}
        )
        assert response.status_code == 200, response.text

    def ready_store() -> str | None:
        with app_api(live_site) as api:
            [channel] = [
                c
                for c in api.get("/api/ecommerce").json()["channels"]
                if c["slug"] == "default-channel"
            ]
        return channel["store_id"] if channel["store_status"] == "ready" else None

    store_id = eventually(ready_store, timeout=20)
    # Someone deletes the store in Mailchimp.
    with mailchimp_api(live_site) as mc:
        assert mc.delete(f"/ecommerce/stores/{store_id}").status_code == 204
    assert not [s for s in live_site.stack.mailchimp.stores(demo) if s.id == store_id]

    # The page asks Mailchimp on load: missing, said plainly, one click to re-create.
    app = open_page(page, live_site, "E-commerce")
    channel = app.get_by_role("article", name="Default Channel")
    expect(channel.locator(".badge").filter(has_text="Store missing in Mailchimp")).to_be_visible()
    expect(channel.locator(".badge").filter(has_text="Store ready")).to_have_count(0)
    expect(channel.locator("[data-next-action]")).to_contain_text("deleted in Mailchimp")
    expect(primary(channel)).to_have_text("Re-create the store")
    expect(channel.locator(".button:not(.secondary):visible")).to_have_count(1)
    check_a11y(app_frame(page), "a channel whose store is missing")
    shot(page, artifacts, "ecommerce-store-missing-light", height=1400)
    primary(channel).click()
    said(app, "Store re-created")
    refreshed(app, channel, "Store ready")
    expect(channel.locator(".badge").filter(has_text="Store missing in Mailchimp")).to_have_count(0)
    assert eventually(
        lambda: [s for s in live_site.stack.mailchimp.stores(demo) if s.list_id == orchard]
    )


def track_new_channel(live_site: LiveSite, shop: Newsletter, slug: str, name: str) -> None:
    """A new USD channel in Saleor, tracked in the Orchard audience with sending on."""
    saleor = live_site.stack.saleor
    in_thread(lambda: saleor.add_channel(slug, name, "USD"))
    with app_api(live_site) as api:
        response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": True})
        assert response.status_code == 200, response.text
        body = {"tracked": True, "list_id": shop.ids["Orchard customers"]}
        response = api.put(f"/api/ecommerce/channels/{slug}", json=body)
        assert response.status_code == 200, response.text


def test_a_channel_deleted_in_saleor_offers_stop_tracking(
    page: Page, live_site: LiveSite, shop: Newsletter, artifacts: Path
) -> None:
    saleor = live_site.stack.saleor
    track_new_channel(live_site, shop, "pop-up", "Pop-up shop")
    # Deleted in Saleor's dashboard: Saleor tells only apps with MANAGE_CHANNELS.
    in_thread(lambda: saleor.channels.delete("pop-up"))

    app = open_page(page, live_site, "E-commerce")
    channel = app.get_by_role("article", name="Pop-up shop")
    expect(channel.locator("[data-next-action]")).to_contain_text(
        "This channel was deleted in Saleor, so its changes are not sent to Mailchimp."
    )
    expect(channel.get_by_role("button", name="More actions")).to_have_count(0)
    expect(primary(channel)).to_have_text("Stop tracking")
    expect(channel.locator(".button:not(.secondary):visible")).to_have_count(1)
    # Its store's push waits for the channel: Mailchimp refused nothing.
    expect(channel).not_to_contain_text("Mailchimp refused the store")
    expect(channel.locator(".badge").filter(has_text="Store failed")).to_have_count(0)
    expect(channel.locator("[data-sync-start]")).to_have_count(0)
    check_a11y(app_frame(page), "a tracked channel Saleor no longer has")
    shot(page, artifacts, "ecommerce-channel-gone-light", height=1400)
    primary(channel).click()
    said(app, "Channel no longer tracked")
    expect(channel.locator(".badge").first).to_have_text("Not tracked")
    expect(channel.locator("[data-next-action]")).to_contain_text(
        "This channel was deleted in Saleor. Its Mailchimp store keeps what it holds."
    )


def test_a_channel_given_a_new_slug_in_saleor_is_followed(
    page: Page, live_site: LiveSite, shop: Newsletter, artifacts: Path
) -> None:
    saleor = live_site.stack.saleor
    track_new_channel(live_site, shop, "market", "Market stall")
    in_thread(lambda: saleor.channels.rename("market", "farmers-market"))

    app = open_page(page, live_site, "E-commerce")
    channel = app.get_by_role("article", name="Market stall").filter(has_text="Channel market")
    expect(channel.locator("[data-next-action]")).to_contain_text(
        "This channel's slug changed in Saleor to 'farmers-market'"
    )
    expect(primary(channel)).to_have_text("Switch to 'farmers-market'")
    # Only stopping is left besides: resyncing or moving a gone channel could only fail.
    channel.get_by_role("button", name="More actions").click()
    expect(channel.get_by_role("listitem")).to_have_text(["Stop tracking"])
    channel.get_by_role("button", name="More actions").click()
    expect(channel.locator("[data-sync-start]")).to_have_count(0)
    check_a11y(app_frame(page), "a tracked channel whose slug changed in Saleor")
    primary(channel).click()
    said(app, "Switched to the new slug")
    followed = app.get_by_role("article", name="Market stall")
    expect(followed).to_have_count(1)
    expect(followed).to_contain_text("Channel farmers-market")
    expect(followed.locator(".badge").first).to_have_text("Tracked")
    expect(app.locator("[data-notice=channel]")).to_contain_text("run the initial sync")


def test_a_channel_deactivated_in_saleor_says_its_products_are_hidden(
    page: Page, live_site: LiveSite, shop: Newsletter, artifacts: Path
) -> None:
    """Before: a deactivated channel's card looked as any other, while the app sent its
    products hidden and out of stock (`publication.on_offer`): the admin saw products vanish
    from campaigns with nothing on the page saying why."""
    saleor = live_site.stack.saleor
    track_new_channel(live_site, shop, "outlet", "Outlet")
    in_thread(lambda: saleor.channels.set_active("outlet", False))

    app = open_page(page, live_site, "E-commerce")
    channel = app.get_by_role("article", name="Outlet")
    expect(channel.locator(".badge").filter(has_text="Inactive in Saleor")).to_have_count(1)
    notice = channel.locator("[data-channel-inactive]")
    expect(notice).to_contain_text("This channel is deactivated in Saleor")
    expect(notice).to_contain_text("hidden and out of stock")
    check_a11y(app_frame(page), "a tracked channel deactivated in Saleor")
    shot(page, artifacts, "ecommerce-channel-inactive-light", height=1400)

    in_thread(lambda: saleor.channels.set_active("outlet", True))
    app.get_by_role("button", name="Refresh", exact=True).click()
    expect(app.locator("#skeleton")).to_be_hidden()
    expect(channel.locator(".badge").filter(has_text="Inactive in Saleor")).to_have_count(0)
    expect(channel.locator("[data-channel-inactive]")).to_have_count(0)


def test_stop_tracking_asks_first(page: Page, live_site: LiveSite, shop: Newsletter) -> None:
    track_new_channel(live_site, shop, "kiosk", "Kiosk")
    app = open_page(page, live_site, "E-commerce")
    channel = app.get_by_role("article", name="Kiosk")
    menu = channel.get_by_role("button", name="More actions")
    menu.click()
    channel.get_by_role("button", name="Stop tracking").click()
    ask = app.get_by_role("dialog", name="Stop tracking Kiosk?")
    expect(ask).to_contain_text("Changes made meanwhile are not sent")
    check_a11y(app_frame(page), "the stop-tracking dialog")
    ask.get_by_role("button", name="Keep tracking").click()
    expect(ask).to_have_count(0)
    expect(menu).to_be_focused()
    expect(channel.locator(".badge").first).not_to_have_text("Not tracked")
    menu.click()
    channel.get_by_role("button", name="Stop tracking").click()
    ask.get_by_role("button", name="Stop tracking").click()
    said(app, "Channel no longer tracked")
    expect(channel.locator(".badge").first).to_have_text("Not tracked")
