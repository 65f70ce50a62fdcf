"""The merge-field mapping's errors and layout in Chromium: a refusal is shown where the admin
is (next to the button pressed, in view, announced), a failed save takes the earlier "saved"
away, and long names wrap inside their card (the mapping's table, the storefront guide's IDs)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    connect_demo,
    mailchimp_api,
    open_page,
    said,
)

pytestmark = pytest.mark.browser

CLUB = "Errors club"
LONG_FIELD = "Loyalty" + "x" * 93  # 100 characters, no space to wrap at
LONG_AUDIENCE = (
    "Customers who subscribed at the spring fair and asked for the monthly garden letter "
    "with seasonal recipes"
)
NEAR = 320  # px: an error this close to the button pressed is "next to it"


@pytest.fixture(scope="module")
def club(live_site: LiveSite) -> Newsletter:
    shop = Newsletter(live_site)
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    list_id = shop.list_named(CLUB)
    with mailchimp_api(live_site) as mc:
        fields = mc.get(f"/lists/{list_id}/merge-fields", params={"count": 100}).json()
        if not any(f["tag"] == "LOYALTY" for f in fields["merge_fields"]):
            made = mc.post(
                f"/lists/{list_id}/merge-fields",
                json={"name": LONG_FIELD, "type": "text", "tag": "LOYALTY"},
            )
            assert made.status_code == 200, made.text
    shop.list_named(LONG_AUDIENCE)
    shop.import_now()
    return shop


def _mapping_page(
    page: Page, live_site: LiveSite, club: Newsletter
) -> tuple[FrameLocator, Locator]:
    list_id = club.ids[CLUB]
    club.configure(active_list_ids=[list_id], default_list_id=list_id)
    with app_api(live_site) as api:
        response = api.put(f"/api/audiences/{list_id}/mapping", json={"fields": [], "tags": None})
        assert response.status_code == 200, response.text
    app = open_page(page, live_site, "Audiences & groups")
    card = app.get_by_role("article", name=f"Merge fields of {CLUB}")
    expect(card.get_by_role("rowheader", name="First Name FNAME")).to_be_visible()
    return app, card


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _next_to(error: Locator, button: Locator) -> None:
    """The error is in view and close to the button that was pressed."""
    expect(error).to_be_visible()
    expect(error).to_be_in_viewport()
    gap = abs(_box(error)["y"] - _box(button)["y"])
    assert gap < NEAR, f"the error is {gap:.0f} px away from its button"


def test_a_new_field_refused_is_said_next_to_the_create_button(
    page: Page, live_site: LiveSite, club: Newsletter
) -> None:
    _, card = _mapping_page(page, live_site, club)
    form = card.get_by_role("group", name=f"Add a merge field to {CLUB}")
    create = form.get_by_role("button", name="Create in Mailchimp")
    name = form.get_by_label("Field name")

    # No name: said under the name, beside the button, and the name is focused.
    create.click()
    error = form.get_by_text("Give the field a name.")
    _next_to(error, create)
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Give the field a name.")

    # A tag the audience has already: Mailchimp's refusal is under the button, as an alert,
    # with its code behind a toggle; the name's error went when a name was typed.
    name.fill("Tier")
    expect(error).to_be_hidden()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    form.get_by_label("Merge tag (optional)").fill("FNAME")
    create.click()
    alert = form.get_by_role("alert")
    expect(alert).to_contain_text("The field was not created")
    expect(alert).to_contain_text("already exists")
    expect(alert.locator("summary", has_text="Technical details")).to_be_visible()
    _next_to(alert, create)
    expect(create).to_be_enabled()
    check_a11y(app_frame(page), "a merge field refused")


def test_a_failed_mapping_save_takes_the_saved_message_away_and_says_why_by_the_button(
    page: Page, live_site: LiveSite, club: Newsletter
) -> None:
    list_id = club.ids[CLUB]
    app, card = _mapping_page(page, live_site, club)
    status = app.locator("[data-save-status]")
    save = card.get_by_role("button", name="Save mapping")
    card.get_by_label("Filled from, for Phone Number").select_option(
        label="Phone (default billing address)"
    )
    save.click()
    said(app, f"Mapping of {CLUB} saved")

    # Tags from a metadata key left empty: stopped before anything is sent, said in words
    # under the key (a labelled box, just above the button); the "saved" is gone.
    card.get_by_label("Tags come from").select_option(label="Customer metadata key")
    key = card.get_by_label("Metadata key holding the tags")
    save.click()
    error = card.get_by_text("Name the metadata key that holds the tags")
    _next_to(error, save)
    expect(key).to_be_focused()
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(status).not_to_contain_text("saved")
    expect(card.locator("label", has_text="Metadata key holding the tags")).to_be_visible()
    with app_api(live_site) as api:
        assert api.get(f"/api/audiences/{list_id}/mapping").json()["tags"] is None

    key.fill("segments")
    expect(error).to_be_hidden()
    save.click()
    said(app, f"Mapping of {CLUB} saved")

    # The app refuses a key of its own: its word is under the button, the "saved" is gone.
    card.get_by_label("Filled from, for Birthday").select_option(label="Customer metadata key")
    card.get_by_label("Metadata key, for Birthday").fill("mailchimp.consent.subscribe")
    save = card.get_by_role("button", name="Save mapping")
    save.click()
    alert = card.locator('[data-problem="save"]')
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("The mapping was not saved")
    expect(alert).to_contain_text("one of the app's own metadata keys")
    _next_to(alert, save)
    expect(status).not_to_contain_text("saved")
    check_a11y(app_frame(page), "a mapping refused")

    with app_api(live_site) as api:
        api.put(f"/api/audiences/{list_id}/mapping", json={"fields": [], "tags": None})


def _select_fits(select: Locator) -> bool:
    """The select's box holds its chosen option's text (with its padding and arrow)."""
    fits: bool = select.evaluate(
        """(s) => {
            const style = getComputedStyle(s);
            const ctx = document.createElement("canvas").getContext("2d");
            ctx.font = style.font;
            const text = ctx.measureText(s.options[s.selectedIndex].text).width;
            return s.getBoundingClientRect().width >= text + 36;
        }"""
    )
    return fits


@pytest.mark.parametrize("width", [1280, 800])
def test_long_field_names_wrap_inside_the_card(
    page: Page, live_site: LiveSite, club: Newsletter, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 860})
    _, card = _mapping_page(page, live_site, club)
    expect(card.get_by_role("rowheader", name=f"{LONG_FIELD} LOYALTY")).to_be_visible()
    wrap = card.locator(".table-wrap")
    right = _box(wrap)["x"] + _box(wrap)["width"]
    selects = card.locator("select[data-merge-tag]")
    for i in range(selects.count()):
        select = selects.nth(i)
        edge = _box(select)["x"] + _box(select)["width"]
        assert edge <= right + 1, f"select {i} ends at {edge:.0f}, the table at {right:.0f}"
        assert _select_fits(select), f"select {i} cuts its choice off"
    # Each tag chip is on one line, with no space inside it.
    chips: list[dict[str, Any]] = card.locator("code.merge-tag").evaluate_all(
        "cs => cs.map(c => ({text: c.textContent, lines: c.getClientRects().length}))"
    )
    assert chips and all(c["lines"] == 1 and c["text"] == c["text"].strip() for c in chips), chips


def test_a_long_audience_name_wraps_in_the_storefront_guide(
    page: Page, live_site: LiveSite, club: Newsletter
) -> None:
    ids = [club.ids[CLUB], club.ids[LONG_AUDIENCE]]
    club.configure(active_list_ids=ids, default_list_id=ids[0])
    app = open_page(page, live_site, "Subscriptions")
    app.get_by_text("Storefront developer guide").click()
    table = app.get_by_role("table", name="Audience, group, interest and permission IDs")
    expect(table).to_contain_text(LONG_AUDIENCE)
    wrap = app.locator(".table-wrap").filter(has=table)
    overflow = wrap.evaluate("w => w.scrollWidth - w.clientWidth")
    assert overflow <= 1, f"the IDs table is {overflow} px wider than its card"
    header = table.get_by_role("columnheader", name="Marketing permissions")
    header.scroll_into_view_if_needed()
    expect(header).to_be_in_viewport(ratio=1)
    # The IDs stay whole (one line each).
    lines = table.locator("code").evaluate_all("cs => cs.map(c => c.getClientRects().length)")
    assert lines and all(n == 1 for n in lines), lines
    club.configure(active_list_ids=ids[:1], default_list_id=ids[0])
