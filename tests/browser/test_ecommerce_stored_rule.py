"""The E-commerce page with a tracking rule stored before its link was checked, in Chromium: the
page's other settings still save (only what changed is sent), the rule is flagged at its row
with the server's reason, and a save that changes the rules is refused at the rule. Templates
are judged by the server's one rule (`links.checked_template`), never by a copy in the page.
Stored link templates and rules the server refuses are flagged where they are shown, only while
the field shows the stored value; rows are named as the server counts them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from addon.db.engine import Database
from addon.ecommerce.models import EcommerceSettings
from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    in_thread,
    open_page,
    set_theme,
)
from tests.browser.test_ecommerce_page import shop  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.browser

# A link an earlier version took: the space makes no full link once filled.
OLD_RULE = {
    "shipping_method": "DHL Express",
    "carrier": "DHL",
    "url_template": "https://www.dhl.com/track?n={number}&lang=en gb",
}


UPS = {
    "shipping_method": "Express",
    "carrier": "UPS",
    "url_template": "https://ups.example/{number}",
}
POST = {"shipping_method": "Post", "carrier": "PP", "url_template": "https://pp.example/{number}"}


def _store(live_site: LiveSite, **values: Any) -> None:
    """Settings written as an earlier version saved them, past today's checks."""

    async def write() -> None:
        database = Database(live_site.database_url)
        try:
            async with database.transaction() as session:
                await session.execute(update(EcommerceSettings).values(**values))
        finally:
            await database.dispose()

    in_thread(write)


def _settings(live_site: LiveSite) -> dict[str, Any]:
    with app_api(live_site) as api:
        settings: dict[str, Any] = api.get("/api/ecommerce").json()["settings"]
    return settings


def _restore(live_site: LiveSite, before: dict[str, Any], *keys: str) -> None:
    with app_api(live_site) as api:
        response = api.patch("/api/ecommerce/settings", json={key: before[key] for key in keys})
        assert response.is_success, response.text


def test_a_stored_invalid_rule_is_flagged_and_other_settings_save(
    page: Page,
    live_site: LiveSite,
    shop: Newsletter,  # noqa: F811
    artifacts: Path,
) -> None:
    before = _settings(live_site)
    _store(live_site, tracking_rules=[OLD_RULE])
    try:
        app = open_page(page, live_site, "E-commerce")
        save = app.get_by_role("button", name="Save", exact=True)
        status = app.locator("[data-save-status]")

        # Another field saves, the rule as it was.
        link = app.get_by_label("Tracking link of carrier 1")
        expect(link).to_have_value(OLD_RULE["url_template"])
        app.get_by_label("Store e-mail address").fill("rules@orchard.example")
        save.click()
        expect(status).to_have_text("E-commerce settings saved.")
        with app_api(live_site) as api:
            settings = api.get("/api/ecommerce").json()["settings"]
        assert settings["store_email"] == "rules@orchard.example"
        assert settings["tracking_rules"] == [OLD_RULE]

        # The stored rule is shown where it is, with the server's reason.
        expect(app.locator("#rule-1-url-note")).to_contain_text("must make a full link")
        check_a11y(app_frame(page), "the E-commerce page with a stored invalid rule")
        shot(page, artifacts, "ecommerce-stored-rule", height=2600)

        # The server's rule, not a regex: an address the old pre-check let through is refused
        # at its field before anything is saved.
        product_url = app.get_by_label("Product page URL")
        product_url.fill("https://shop.example.com/ü/{slug}")
        # Changing the rules checks every rule sent: a new one and the stored one, at each row.
        app.get_by_role("button", name="Add a carrier").click()
        app.get_by_label("Carrier 2", exact=True).fill("Royal Mail")
        app.get_by_label("Tracking link of carrier 2").fill("https://rm.example/{number} x")
        save.click()
        expect(status).to_have_text("Correct the highlighted fields, then save.")
        expect(app.locator("#product-url-error")).to_contain_text("must make a full link")
        expect(app.locator("#rule-1-url-error")).to_contain_text("row 1, URL template must make")
        expect(app.locator("#rule-2-url-error")).to_contain_text("row 2, URL template must make")
        expect(product_url).to_be_focused()
        check_a11y(app_frame(page), "the E-commerce page with refused rules")

        product_url.fill("")
        link.fill("https://www.dhl.com/track?n={number}")
        app.get_by_label("Tracking link of carrier 2").fill("https://rm.example/{number}")
        save.click()
        expect(status).to_have_text("E-commerce settings saved.")
        expect(app.locator("#rule-1-url-note")).to_have_text("")
        with app_api(live_site) as api:
            settings = api.get("/api/ecommerce").json()["settings"]
        assert [r["url_template"] for r in settings["tracking_rules"]] == [
            "https://www.dhl.com/track?n={number}",
            "https://rm.example/{number}",
        ]
        assert settings["problems"] == []
    finally:
        # Leave the shared stack's settings as the other E-commerce tests expect them: the
        # product link too, which this test saved empty.
        _restore(live_site, before, "tracking_rules", "store_email", "product_url_template")


def test_a_stored_rule_note_stays_with_its_rule_and_rows_are_named_as_counted(
    page: Page,
    live_site: LiveSite,
    shop: Newsletter,  # noqa: F811
) -> None:
    before = _settings(live_site)
    _store(live_site, tracking_rules=[UPS, OLD_RULE, POST])
    try:
        app = open_page(page, live_site, "E-commerce")
        expect(app.locator("#rule-2-url-note")).to_contain_text("This saved link is not used")
        expect(app.locator("#rule-3-url-note")).to_have_text("")

        # Carrier 1 removed (unsaved) while another setting is saved elsewhere: the page
        # refreshes with the admin's rules, the stored problem numbered as stored.
        app.get_by_role("button", name="Remove carrier 1").click()
        with app_api(live_site) as api:
            changed = api.patch(
                "/api/ecommerce/settings", json={"store_email": "o@orchard.example"}
            )
            assert changed.is_success, changed.text
        app.locator("#reload-button").click()
        expect(app.get_by_label("Store e-mail address")).to_have_value("o@orchard.example")
        expect(app.get_by_label("Carrier 1", exact=True)).to_have_value("DHL")
        expect(app.get_by_label("Carrier 2", exact=True)).to_have_value("PP")
        # The note is DHL's, in the row's own number; the valid Post rule has none.
        expect(app.locator("#rule-2-url-note")).to_have_text("")
        expect(app.locator("#rule-1-url-note")).to_have_text(
            "This saved link is not used: Tracking rules, row 1, URL template must make a full "
            "link once its placeholders are filled in: an http(s) address with a host, no "
            "spaces, and any character other than plain letters, digits and punctuation "
            "percent-encoded (a space as %20), e.g. https://track.example.com/?n={number}. Until "
            "it is fixed, this carrier's shipments reach Mailchimp without a tracking link."
        )
        # A rule edited away from the stored one is no longer the stored rule: no note.
        dhl_link = app.get_by_label("Tracking link of carrier 1")
        dhl_link.fill("https://www.dhl.com/track?n={number}&lang=en%20gb")
        expect(app.locator("#rule-1-url-note")).to_have_text("")
        dhl_link.fill(OLD_RULE["url_template"])
        expect(app.locator("#rule-1-url-note")).to_contain_text("This saved link is not used")

        # Rows are named from the top, as the server counts them, after a Remove too.
        app.get_by_role("button", name="Add a carrier").click()
        app.get_by_role("button", name="Remove carrier 1").click()
        expect(app.get_by_label("Carrier 1", exact=True)).to_have_value("PP")
        expect(app.get_by_role("button", name="Remove carrier 3")).to_have_count(0)
        app.get_by_label("Carrier 2", exact=True).fill("Royal Mail")
        app.get_by_label("Tracking link of carrier 2").fill("https://rm.example/{number} x")
        app.get_by_role("button", name="Save", exact=True).click()
        expect(app.locator("[data-save-status]")).to_have_text(
            "Correct the highlighted fields, then save."
        )
        refused = app.get_by_label("Tracking link of carrier 2")
        expect(refused).to_have_attribute("aria-invalid", "true")
        refused_id = refused.get_attribute("id")
        expect(app.locator(f"#{refused_id}-error")).to_contain_text("Tracking rules, row 2, URL")
        check_a11y(app_frame(page), "the E-commerce page with renumbered carriers")
    finally:
        _restore(live_site, before, "tracking_rules", "store_email")


def test_stored_link_templates_and_rules_refused_now_are_said_where_they_are(
    page: Page,
    live_site: LiveSite,
    shop: Newsletter,  # noqa: F811
    artifacts: Path,
) -> None:
    before = _settings(live_site)
    twin = {**UPS, "shipping_method": "express", "carrier": "DHL"}
    _store(
        live_site,
        product_url_template="https://shop.example.com/p/{slug} x",
        checkout_url_template="https://shop.example.com/cart?link={restore} x",
        order_url_template="https://shop.example.com/o/{number} x",
        tracking_rules=[UPS, twin],
    )
    try:
        app = open_page(page, live_site, "E-commerce")
        full_link = "must make a full link once its placeholders are filled in"
        expect(app.locator("#product-url-note")).to_contain_text(
            "This saved link is not used: Product URL template " + full_link
        )
        expect(app.locator("#product-url-note")).to_contain_text(
            "Until it is fixed, products reach Mailchimp without a link to their page."
        )
        expect(app.locator("#checkout-url-note")).to_contain_text(
            "This saved link is not used: Checkout URL template " + full_link
        )
        expect(app.locator("#checkout-url-note")).to_contain_text(
            "Until it is fixed, carts reach Mailchimp without a link back to their checkout."
        )
        expect(app.locator("#order-url-note")).to_contain_text(
            "Until it is fixed, orders reach Mailchimp without a link to their page."
        )
        expect(app.get_by_label("Product page URL")).to_have_accessible_description(
            re.compile("This saved link is not used")
        )
        expect(app.locator("#tracking-rules-note")).to_have_text(
            "These saved rules are refused now: Tracking rules: there are two rules for "
            "shipping method 'express'; keep one. Until they are fixed, an order gets the last "
            "rule in this table for its shipping method."
        )
        check_a11y(app_frame(page), "the E-commerce page with stored links refused now")
        set_theme(page, app, "dark")
        check_a11y(app_frame(page), "the E-commerce page with stored links refused now (dark)")
        shot(page, artifacts, "ecommerce-stored-links-dark", height=2600)
        set_theme(page, app, "light")

        # The note is about the stored value: once the field shows another, it goes.
        app.get_by_label("Product page URL").fill("https://shop.example.com/p/{slug}")
        expect(app.locator("#product-url-note")).to_have_text("")
        expect(app.locator("#checkout-url-note")).not_to_have_text("")
        app.get_by_role("button", name="Remove carrier 2").click()
        expect(app.locator("#tracking-rules-note")).to_have_text("")
    finally:
        _restore(
            live_site,
            before,
            "tracking_rules",
            "product_url_template",
            "checkout_url_template",
            "order_url_template",
        )
