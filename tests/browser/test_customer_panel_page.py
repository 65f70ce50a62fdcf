"""The customer panel (the app's extension in a customer's More actions) in Chromium, inside the
sandbox dashboard, for staff who may manage users but not apps: subscribing and unsubscribing the
customer, their campaign engagement, and the panel opened without a customer. Engagement is put
in the app's database directly (the `seeded` fixture), as the collector writes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import EMAIL, LiveSite, Seeded, shot
from tests.browser.pages import (
    Newsletter,
    app_frame,
    check_a11y,
    eventually,
    only_users,
    set_theme,
    toast,
)

pytestmark = pytest.mark.browser


def held_elsewhere(route: Route) -> None:
    """The panel's read, its contacts held at held@example.com."""
    if route.request.method != "GET":
        route.continue_()
        return
    response = route.fetch()
    body = response.json()
    assert response.status == 200, f"the panel's read answered {response.status}: {body}"
    for audience in body["audiences"]:
        audience["contact_email"] = "held@example.com"
    route.fulfill(response=response, json=body)


def test_customer_panel_subscribes_and_unsubscribes_a_customer(
    page: Page, live_site: LiveSite, newsletter: Newsletter, artifacts: Path
) -> None:
    fruit = newsletter.ids["Fruit lovers"]
    newsletter.configure(
        active_list_ids=[fruit],
        default_list_id=fruit,
        offered_category_ids=[newsletter.ids["Frequency"]],
    )
    demo = live_site.stack.demo_account
    email = "panel.customer@example.com"
    # Staff who may manage customers but not apps: the panel must not need MANAGE_APPS.
    minted = only_users(page)
    # As if Mailchimp had refused the customer's address: the contact is held at an old one
    # (tests/subscriptions/test_held_contact.py makes one for real); the card says where.
    page.route(re.compile(r"/api/subscriptions/customers/[^/?]+$"), held_elsewhere)

    # Create the customer in the sandbox dashboard, open it, More actions → the extension.
    page.goto(f"{live_site.dashboard}customers?theme=light")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("First name").fill("Petra")
    page.get_by_label("Last name").fill("Pear")
    page.get_by_role("button", name="Create customer").click()
    page.get_by_role("link", name=f"Open {email}").click()
    page.get_by_text("More actions").click()
    page.get_by_role("link", name="Newsletter (Mailchimp)").click()
    dialog = page.get_by_role("dialog", name="Newsletter (Mailchimp)")
    expect(dialog).to_be_visible()
    panel = page.frame_locator("#app-frame")
    expect(panel.locator("#customer-email")).to_have_text(email)
    card = panel.get_by_role("region", name="Fruit lovers")
    expect(card.locator("[data-status]")).to_have_text("Not subscribed")
    expect(card).to_contain_text("No change recorded by the app yet.")
    expect(card.locator("dd").filter(has_text="held@example.com")).to_contain_text(
        "Mailchimp refused the customer's current address"
    )

    assert minted, "the panel's token was not narrowed to MANAGE_USERS"
    card.get_by_label("Weekly").check()
    # The choices come before the button that uses them.
    assert card.locator("fieldset, .panel-actions").evaluate_all(
        "nodes => nodes.map(n => n.tagName)"
    ) == ["FIELDSET", "DIV"]
    card.get_by_role("button", name="Subscribe", exact=True).click()
    toast(page, "Subscription requested")
    expect(card.locator("[data-status]")).to_have_text("Subscribed", timeout=15_000)
    expect(card).to_contain_text("Last change by staff in the dashboard")
    expect(card.locator(".chip").filter(has_text="Frequency: Weekly")).to_be_visible()
    check_a11y(app_frame(page), "the customer panel (light)")
    member = eventually(lambda: live_site.stack.mailchimp.member(demo, fruit, email))
    assert member.status == "subscribed"
    assert member.interests.get(newsletter.ids["Weekly"]) is True
    shot(page, artifacts, "customer-panel-light", height=1100)

    # Change the group, then unsubscribe: staff cannot re-subscribe without fresh consent.
    card.get_by_label("Monthly").check()
    card.get_by_role("button", name="Save groups").click()
    toast(page, "Groups change requested")
    expect(card.locator(".chip").filter(has_text="Frequency: Monthly")).to_be_visible(
        timeout=15_000
    )
    # Unsubscribe asks first; keeping the subscription changes nothing.
    card.get_by_role("button", name="Unsubscribe").click()
    confirm = panel.get_by_role("dialog", name=re.compile("^Unsubscribe .* from Fruit lovers"))
    expect(confirm).to_be_visible()
    check_a11y(app_frame(page), "the unsubscribe confirmation")
    shot(page, artifacts, "customer-panel-unsubscribe-light", height=1100)
    set_theme(page, panel, "dark")
    expect(confirm).to_be_visible()
    check_a11y(app_frame(page), "the unsubscribe confirmation (dark)")
    shot(page, artifacts, "customer-panel-unsubscribe-dark", height=1100)
    set_theme(page, panel, "light")
    confirm.get_by_role("button", name="Keep subscribed").click()
    expect(confirm).to_have_count(0)
    expect(card.get_by_role("button", name="Unsubscribe")).to_be_focused()
    expect(card.locator("[data-status]")).to_have_text("Subscribed")
    card.get_by_role("button", name="Unsubscribe").click()
    confirm.get_by_role("button", name="Unsubscribe").click()
    expect(card.locator("[data-status]")).to_have_text("Unsubscribed", timeout=15_000)
    assert eventually(
        lambda: live_site.stack.mailchimp.member(demo, fruit, email).status == "unsubscribed"
    )
    subscribe = card.get_by_role("button", name="Subscribe", exact=True)
    expect(subscribe).to_have_attribute("aria-disabled", "true")
    described = (subscribe.get_attribute("aria-describedby", timeout=5000) or "").split()
    reason = card.locator("#" + described[-1])
    expect(reason).to_contain_text(
        "This customer unsubscribed from Fruit lovers, so staff cannot subscribe them again"
    )
    expect(reason).to_contain_text("storefront's newsletter form")
    expect(card.get_by_role("group", name="Groups")).to_have_count(0)
    # The dialog covers the dashboard's switch: change the theme as the dashboard would.
    set_theme(page, panel, "dark")
    check_a11y(app_frame(page), "the customer panel (dark)")
    shot(page, artifacts, "customer-panel-dark", height=1100)


def test_customer_panel_outside_a_customer_says_how_to_open_it(
    page: Page, live_site: LiveSite
) -> None:
    page.goto(f"{live_site.dashboard}?theme=light")
    page.get_by_role("link", name="Open").first.click()
    frame = page.frame_locator("#app-frame")
    expect(frame.get_by_role("heading", level=1)).to_be_visible()
    # The same frame, pointed at the panel without a customer.
    src = page.locator("#app-frame").get_attribute("src") or ""
    page.locator("#app-frame").evaluate(
        "(frame, src) => { frame.src = src; }", src.replace("/app/?", "/app/customer-panel?")
    )
    expect(frame.get_by_role("alert").filter(has_text="No customer chosen")).to_be_visible()


def test_customer_panel_shows_the_customers_engagement(
    page: Page, live_site: LiveSite, seeded: Seeded, artifacts: Path
) -> None:
    minted = only_users(page)
    page.goto(f"{live_site.dashboard}customers?theme=light")
    page.get_by_role("link", name=f"Open {EMAIL}").click()
    page.get_by_text("More actions").click()
    page.get_by_role("link", name="Newsletter (Mailchimp)").click()
    panel = page.frame_locator("#app-frame")
    expect(panel.locator("#customer-email")).to_have_text(EMAIL)
    card = panel.get_by_role("region", name="Campaign engagement")
    expect(card).to_contain_text("Campaigns received")
    facts = card.locator("dl.facts")
    expect(facts).to_contain_text("4 of 5")
    last = card.get_by_role("table", name="Last campaigns sent to this customer")
    expect(last.locator("tbody tr")).to_have_count(2)
    expect(last.locator("tbody tr").first).to_contain_text("Summer sale")
    orders = card.get_by_role("table", name="Orders Mailchimp attributes to a campaign")
    expect(orders.locator("tbody tr")).to_contain_text(["1042"])
    expect(orders).to_contain_text("$89.50")
    assert minted, "the panel's token was not narrowed to MANAGE_USERS"
    check_a11y(app_frame(page), "the customer panel's engagement (light)")
    shot(page, artifacts, "customer-engagement-light", height=1400)
    set_theme(page, panel, "dark")
    check_a11y(app_frame(page), "the customer panel's engagement (dark)")
    shot(page, artifacts, "customer-engagement-dark", height=1400)
