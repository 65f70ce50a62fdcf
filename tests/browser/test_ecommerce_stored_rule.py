"""The E-commerce page with a tracking rule stored before its link was checked, in Chromium: the
page's other settings still save (only what changed is sent), the rule is flagged at its row
with the server's reason, and a save that changes the rules is refused at the rule. Templates
are judged by the server's one rule (`links.checked_template`), never by a copy in the page."""

from __future__ import annotations

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
)
from tests.browser.test_ecommerce_page import shop  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.browser

# A link an earlier version took: the space makes no full link once filled.
OLD_RULE = {
    "shipping_method": "DHL Express",
    "carrier": "DHL",
    "url_template": "https://www.dhl.com/track?n={number}&lang=en gb",
}


def _store_rules(live_site: LiveSite, rules: list[dict[str, Any]]) -> None:
    async def write() -> None:
        database = Database(live_site.database_url)
        try:
            async with database.transaction() as session:
                await session.execute(update(EcommerceSettings).values(tracking_rules=rules))
        finally:
            await database.dispose()

    in_thread(write)


def test_a_stored_invalid_rule_is_flagged_and_other_settings_save(
    page: Page,
    live_site: LiveSite,
    shop: Newsletter,  # noqa: F811
    artifacts: Path,
) -> None:
    with app_api(live_site) as api:
        before: dict[str, Any] = api.get("/api/ecommerce").json()["settings"]
    _store_rules(live_site, [OLD_RULE])
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
        with app_api(live_site) as api:
            # Leave the shared stack's settings as the other E-commerce tests expect them.
            response = api.patch(
                "/api/ecommerce/settings",
                json={
                    "tracking_rules": before["tracking_rules"],
                    "store_email": before["store_email"],
                },
            )
            assert response.is_success, response.text
