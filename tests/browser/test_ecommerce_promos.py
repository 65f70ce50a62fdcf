"""The E-commerce page's promo-code choice, in Chromium: which vouchers go to Mailchimp (none,
all, flagged in their metadata) and the redemption link, checked in words before saving, saved
with the page's save bar, shown again after a reload; axe-core clean in light and dark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import Newsletter, app_api, app_frame, check_a11y, open_page, set_theme
from tests.browser.test_ecommerce_page import shop  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.browser


def test_the_promo_code_choice_is_made_on_the_page(
    page: Page,
    live_site: LiveSite,
    shop: Newsletter,  # noqa: F811
    artifacts: Path,
) -> None:
    app = open_page(page, live_site, "E-commerce")
    save = app.get_by_role("button", name="Save", exact=True)
    status = app.locator("[data-save-status]")
    choice = app.get_by_role("group", name="Vouchers offered to Mailchimp")
    expect(choice.get_by_label("No vouchers")).to_be_checked()
    expect(app.get_by_label("Flag (metadata key)")).to_be_hidden()

    choice.get_by_label("Only vouchers flagged in their metadata").check()
    flag = app.get_by_label("Flag (metadata key)")
    expect(flag).to_be_visible()
    flag.fill("mailchimp offer")
    url = app.get_by_label("Redemption URL")
    url.fill("shop.example.com/cart?promo={code}")
    save.click()
    expect(app.locator("#promo-url-error")).to_contain_text("must make a full link")
    expect(app.locator("#promo-flag-key-error")).to_contain_text("letters, digits")
    url.fill("https://shop.example.com/cart?promo={coupon}")
    save.click()
    expect(app.locator("#promo-url-error")).to_contain_text("remove {coupon}")
    url.fill("https://shop.example.com/cart?promo={code}")
    flag.fill("newsletter_code")
    check_a11y(app_frame(page), "the promo codes")
    save.click()
    expect(status).to_have_text("E-commerce settings saved.")
    expect(save).to_be_disabled()
    expect(app.locator("#promo-status")).to_contain_text("vouchers are in Mailchimp")
    shot(page, artifacts, "ecommerce-promos-light", height=2600)

    with app_api(live_site) as api:
        promos: dict[str, Any] = api.get("/api/ecommerce/promos").json()["settings"]
    assert promos == {
        "offer": "flagged",
        "flag_key": "newsletter_code",
        "redemption_url_template": "https://shop.example.com/cart?promo={code}",
    }

    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "the promo codes (dark)")
    set_theme(page, app, "light")

    # A key the server would refuse is stopped before anything is saved: the promo choice goes
    # after the rest of the page, which its refusal would have left saved alone.
    language = app.get_by_label("Default language")
    before = language.input_value()
    language.fill("de")
    flag.fill("k" * 300)
    save.click()
    expect(app.locator("#promo-flag-key-error")).to_contain_text("at most 255 characters")
    expect(status).not_to_have_text("E-commerce settings saved.")
    with app_api(live_site) as api:
        kept = api.get("/api/ecommerce").json()["settings"]
    assert (kept["default_locale"] or "") == before
    flag.fill("newsletter_code")
    language.fill(before)

    page.reload()
    app = open_page(page, live_site, "E-commerce")
    choice = app.get_by_role("group", name="Vouchers offered to Mailchimp")
    expect(choice.get_by_label("Only vouchers flagged in their metadata")).to_be_checked()
    expect(app.get_by_label("Flag (metadata key)")).to_have_value("newsletter_code")
    expect(app.get_by_label("Default language")).to_have_value(before)
    with app_api(live_site) as api:
        # Leave the shared stack as the other E-commerce tests expect it.
        response = api.put("/api/ecommerce/promos", json={"offer": "none"})
        assert response.is_success, response.text
