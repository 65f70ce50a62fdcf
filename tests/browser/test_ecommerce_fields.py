"""The E-commerce page's settings for the fields marketers segment on, in Chromium: the product
vendor and type sources, carriers and tracking links per shipping method, the stores' default
language and time zone; checked in words before saving, saved with the page's save bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import Newsletter, app_api, app_frame, check_a11y, open_page, set_theme
from tests.browser.test_ecommerce_page import shop  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.browser


def test_vendor_tracking_and_store_defaults_are_set_on_the_page(
    page: Page,
    live_site: LiveSite,
    shop: Newsletter,  # noqa: F811
    artifacts: Path,
) -> None:
    app = open_page(page, live_site, "E-commerce")
    save = app.get_by_role("button", name="Save", exact=True)
    status = app.locator("[data-save-status]")

    # Vendor from an attribute: its slug is asked for, in words, before anything is sent.
    vendor = app.get_by_role("group", name="Vendor")
    expect(vendor.get_by_label("Taken from")).to_have_value("metadata")
    expect(vendor.get_by_label("Metadata key")).to_have_value("vendor")
    vendor.get_by_label("Taken from").select_option(label="An attribute")
    key = vendor.get_by_label("Attribute slug")
    key.fill("")
    save.click()
    expect(app.locator("#vendor-key-error")).to_have_text(
        "Name the attribute slug to read, e.g. brand."
    )
    key.fill("brand")
    app.get_by_role("group", name="Type").get_by_label("Taken from").select_option(label="Category")
    expect(app.locator("#type-key-field")).to_be_hidden()

    # A carrier per shipping method: the link needs {number}.
    app.get_by_role("button", name="Add a carrier").click()
    expect(app.get_by_label("Shipping method of carrier 1")).to_be_focused()
    app.get_by_label("Shipping method of carrier 1").fill("DHL Express")
    app.get_by_label("Carrier 1", exact=True).fill("DHL")
    link = app.get_by_label("Tracking link of carrier 1")
    link.fill("https://www.dhl.com/track")
    save.click()
    expect(app.locator("#rule-1-url-error")).to_have_text(
        "Tracking rules, row 1, URL template must contain {number}, where the number goes."
    )
    link.fill("https://www.dhl.com/track?n={number}")
    app.get_by_role("button", name="Add a carrier").click()
    app.get_by_label("Carrier 2", exact=True).fill("Royal Mail")

    # The stores' defaults.
    locale = app.get_by_label("Default language")
    locale.fill("english")
    save.click()
    expect(app.locator("#default-locale-error")).to_contain_text("two-letter language code")
    locale.fill("en")
    app.get_by_label("Default time zone").fill("Europe/Warsaw")
    check_a11y(app_frame(page), "the E-commerce settings")
    save.click()
    expect(status).to_have_text("E-commerce settings saved.")
    expect(save).to_be_disabled()
    shot(page, artifacts, "ecommerce-fields-light", height=2600)

    with app_api(live_site) as api:
        settings: dict[str, Any] = api.get("/api/ecommerce").json()["settings"]
    assert settings["product_vendor"] == {"source": "attribute", "key": "brand"}
    assert settings["product_type"] == {"source": "category", "key": None}
    assert settings["tracking_rules"] == [
        {
            "shipping_method": "DHL Express",
            "carrier": "DHL",
            "url_template": "https://www.dhl.com/track?n={number}",
        },
        {"shipping_method": "", "carrier": "Royal Mail", "url_template": None},
    ]
    assert (settings["default_locale"], settings["default_timezone"]) == ("en", "Europe/Warsaw")

    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "the E-commerce settings (dark)")
    set_theme(page, app, "light")

    # Removing a carrier is a change to save; the page reloads with what was saved.
    app.get_by_role("button", name="Remove carrier 2").click()
    expect(save).to_be_enabled()
    save.click()
    expect(status).to_have_text("E-commerce settings saved.")
    page.reload()
    app = open_page(page, live_site, "E-commerce")
    expect(app.get_by_label("Carrier 1", exact=True)).to_have_value("DHL")
    expect(app.get_by_label("Carrier 2", exact=True)).to_have_count(0)
    expect(app.get_by_role("group", name="Vendor").get_by_label("Attribute slug")).to_have_value(
        "brand"
    )
    with app_api(live_site) as api:
        # Leave the shared stack's settings as the other E-commerce tests expect them.
        response = api.patch(
            "/api/ecommerce/settings",
            json={
                "product_vendor": {"source": "metadata", "key": "vendor"},
                "product_type": {"source": "product_type"},
                "tracking_rules": [],
                "default_locale": None,
                "default_timezone": None,
            },
        )
        assert response.is_success, response.text
