"""The Audiences page's merge-field mapping in Chromium: a missing merge field created in
Mailchimp from the page, customer data mapped to the audience's fields, and a value that did not
fit its field shown as not sent (the contact's update went through without it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
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

pytestmark = pytest.mark.browser

CLUB = "Mapping club"


@pytest.fixture(scope="module")
def club(live_site: LiveSite) -> Newsletter:
    shop = Newsletter(live_site)
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    shop.new_list(CLUB)
    shop.import_now()
    return shop


def _not_sent(live_site: LiveSite, list_id: str) -> list[dict[str, Any]] | None:
    with app_api(live_site) as api:
        items: list[dict[str, Any]] = api.get(f"/api/audiences/{list_id}/mapping").json()[
            "not_sent"
        ]
        return items or None


def test_fields_are_mapped_a_missing_one_created_and_a_bad_value_shown(
    page: Page, live_site: LiveSite, club: Newsletter, artifacts: Path
) -> None:
    list_id = club.ids[CLUB]
    club.configure(active_list_ids=[list_id], default_list_id=list_id)
    app = open_page(page, live_site, "Audiences & groups")
    card = app.get_by_role("article", name=f"Merge fields of {CLUB}")
    expect(card.get_by_role("rowheader", name="First Name FNAME")).to_be_visible()

    # The audience has no field for the date joined: create it here, with its date format.
    form = card.get_by_role("group", name=f"Add a merge field to {CLUB}")
    form.get_by_label("Field name").fill("Joined")
    form.get_by_label("Type").select_option(label="Date")
    form.get_by_label("Date format").select_option("DD/MM/YYYY")
    form.get_by_label("Merge tag (optional)").fill("JOINED")
    form.get_by_role("button", name="Create in Mailchimp").click()
    said(app, "Merge field “Joined” created in Mailchimp")
    expect(card.get_by_role("row", name="Joined JOINED Date · DD/MM/YYYY")).to_be_visible()
    with mailchimp_api(live_site) as mc:
        fields = mc.get(f"/lists/{list_id}/merge-fields").json()["merge_fields"]
    joined = next(f for f in fields if f["tag"] == "JOINED")
    assert joined["type"] == "date" and joined["options"]["date_format"] == "DD/MM/YYYY"

    # Only the sources a field's type can take are offered; a metadata key is asked for.
    joined_source = card.get_by_label("Filled from, for Joined")
    expect(joined_source.locator("option")).to_have_text(
        [
            "Not filled by the store",
            "Date joined",
            "Customer metadata key",
            "Customer private metadata key",
        ]
    )
    joined_source.select_option(label="Date joined")
    card.get_by_label("Filled from, for Birthday").select_option(label="Customer metadata key")
    card.get_by_label("Metadata key, for Birthday").fill("birthday")
    card.get_by_label("Filled from, for Phone Number").select_option(
        label="Phone (default billing address)"
    )
    card.get_by_label("Tags come from").select_option(label="Customer metadata key")
    card.get_by_label("Metadata key holding the tags").fill("segments")
    card.get_by_role("button", name="Save mapping").click()
    said(app, f"Mapping of {CLUB} saved")
    expect(card.get_by_text("None: every mapped value was valid for its field.")).to_be_visible()
    with app_api(live_site) as api:
        saved = api.get(f"/api/audiences/{list_id}/mapping").json()
    assert {(f["merge_tag"], f["source"], f["key"]) for f in saved["fields"]} == {
        ("JOINED", "date_joined", ""),
        ("BIRTHDAY", "metadata", "birthday"),
        ("PHONE", "billing_phone", ""),
    }
    assert saved["tags"] == {"source": "metadata", "key": "segments"}
    check_a11y(app_frame(page), "the merge-field mapping (light)")
    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "the merge-field mapping (dark)")
    shot(page, artifacts, "merge-fields-dark", height=2600)
    set_theme(page, app, "light")

    # A customer registers with a birthday Mailchimp cannot read: the rest is sent, the
    # birthday is listed as not sent.
    saleor = live_site.stack.saleor
    in_thread(
        lambda: saleor.create_customer(
            "mapped.customer@example.com",
            "Mia",
            "Map",
            metadata={CONSENT_SUBSCRIBE: "true", "birthday": "someday", "segments": "vip"},
        )
    )
    [problem] = eventually(lambda: _not_sent(live_site, list_id))
    assert "“someday” is not a date" in problem["message"]
    with mailchimp_api(live_site) as mc:
        member = mc.get(f"/lists/{list_id}/members/mapped.customer@example.com").json()
    assert member["status"] == "subscribed"
    assert member["merge_fields"]["BIRTHDAY"] == ""
    assert member["merge_fields"]["JOINED"]  # the date joined went through
    assert "vip" in [t["name"] for t in member["tags"]]

    page.reload()
    app = page.frame_locator("#app-frame")
    app.get_by_role("link", name="Audiences & groups", exact=True).click()
    card = app.get_by_role("article", name=f"Merge fields of {CLUB}")
    not_sent = card.get_by_role("list", name="Values not sent recently")
    expect(not_sent).to_contain_text("Birthday (BIRTHDAY): “someday” is not a date")
    expect(not_sent).to_contain_text("mapped.customer@example.com")
    expect(card.get_by_label("Metadata key, for Birthday")).to_have_value("birthday")
    check_a11y(app_frame(page), "a value not sent (light)")
    shot(page, artifacts, "merge-fields-not-sent-light", height=2600)
    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "a value not sent (dark)")

    # A metadata source without its key is stopped in words, under the key, before anything
    # is sent; a key the app refuses (one of its own) is said under the Save button.
    card.get_by_label("Filled from, for Birthday").select_option(label="Customer metadata key")
    birthday_key = card.get_by_label("Metadata key, for Birthday")
    birthday_key.fill("")
    card.get_by_role("button", name="Save mapping").click()
    expect(birthday_key).to_have_attribute("aria-invalid", "true")
    expect(birthday_key).to_be_focused()
    expect(birthday_key).to_have_accessible_description(
        "Name the metadata key that fills Birthday."
    )
    check_a11y(app_frame(page), "a metadata key missing (dark)")
    birthday_key.fill("mailchimp.status")
    card.get_by_role("button", name="Save mapping").click()
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("The mapping was not saved")
    expect(alert).to_contain_text("one of the app's own metadata keys")
    expect(alert).to_be_in_viewport()
    check_a11y(app_frame(page), "a refused mapping (dark)")


def test_unsaved_mapping_choices_survive_the_save_bar_and_ask_before_leaving(
    page: Page, live_site: LiveSite, club: Newsletter
) -> None:
    """The mapping cards sit beside the page's save bar: saving (or discarding) the audience
    settings must not take an unsaved choice away, and leaving asks first while one is there."""
    list_id = club.ids[CLUB]
    club.configure(active_list_ids=[list_id], default_list_id=list_id, tags=[])
    app = open_page(page, live_site, "Audiences & groups")
    card = app.get_by_role("article", name=f"Merge fields of {CLUB}")
    phone = card.get_by_label("Filled from, for Phone Number")
    phone.select_option(label="Phone (default shipping address)")
    app.locator("#tags").fill("from-the-store")
    app.get_by_role("button", name="Save", exact=True).click()
    said(app, "Audience settings saved")
    expect(phone).to_have_value("shipping_phone")

    app.get_by_role("link", name="Subscriptions", exact=True).click()
    leave = app.get_by_role("dialog", name="Leave without saving?")
    expect(leave).to_be_visible()
    leave.get_by_role("button", name="Stay on this page").click()
    expect(phone).to_have_value("shipping_phone")

    save = card.get_by_role("button", name="Save mapping")
    save.click()
    said(app, f"Mapping of {CLUB} saved")
    expect(card.get_by_role("button", name="Save mapping")).to_be_focused()
    with app_api(live_site) as api:
        saved = api.get(f"/api/audiences/{list_id}/mapping").json()["fields"]
        assert ("PHONE", "shipping_phone") in {(f["merge_tag"], f["source"]) for f in saved}
        api.put(f"/api/audiences/{list_id}/mapping", json={"fields": [], "tags": None})
    club.configure(active_list_ids=[list_id], default_list_id=list_id, tags=[])


def test_a_bad_merge_tag_is_said_in_words_before_anything_is_sent(
    page: Page, live_site: LiveSite, club: Newsletter
) -> None:
    list_id = club.ids[CLUB]
    club.configure(active_list_ids=[list_id], default_list_id=list_id)
    app = open_page(page, live_site, "Audiences & groups")
    card = app.get_by_role("article", name=f"Merge fields of {CLUB}")
    form = card.get_by_role("group", name=f"Add a merge field to {CLUB}")
    form.get_by_label("Field name").fill("Odd")
    form.get_by_label("Merge tag (optional)").fill("AB-CD!")
    form.get_by_role("button", name="Create in Mailchimp").click()
    tag = form.get_by_label("Merge tag (optional)")
    refusal = form.get_by_text(
        "A merge tag takes up to 10 letters, digits or underscores (no spaces)."
    )
    expect(refusal).to_be_in_viewport()
    expect(tag).to_be_focused()
    expect(tag).to_have_attribute("aria-invalid", "true")
    expect(card.get_by_role("alert")).to_have_count(0)  # nothing was sent to be refused
