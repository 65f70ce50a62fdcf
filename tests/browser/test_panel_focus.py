"""The customer panel used by keyboard: a change asked from a card's button keeps the focus in
that card once the change is applied and the card is drawn again with other buttons (Subscribe
becomes Save groups and Unsubscribe); and the button stays busy until then, so it cannot ask a
second time while the first change is on its way."""

from __future__ import annotations

import pytest
from playwright.sync_api import FrameLocator, Page, Request, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import Newsletter, app_frame, check_a11y, toast
from tests.browser.test_late_answers import Held

pytestmark = pytest.mark.browser


def open_panel(page: Page, live_site: LiveSite, newsletter: Newsletter, email: str) -> FrameLocator:
    """A new customer's panel, with Fruit lovers offered (and its Frequency groups)."""
    fruit = newsletter.ids["Fruit lovers"]
    newsletter.configure(
        active_list_ids=[fruit],
        default_list_id=fruit,
        offered_category_ids=[newsletter.ids["Frequency"]],
    )
    page.goto(f"{live_site.dashboard}customers?theme=light")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("First name").fill("Kay")
    page.get_by_label("Last name").fill("Board")
    page.get_by_role("button", name="Create customer").click()
    page.get_by_role("link", name=f"Open {email}").click()
    page.get_by_text("More actions").click()
    page.get_by_role("link", name="Newsletter (Mailchimp)").click()
    return page.frame_locator("#app-frame")


def focus_place(page: Page) -> str:
    return str(
        app_frame(page).evaluate(
            "(() => { const a = document.activeElement; const c = a && a.closest('[data-list-id]');"
            " return (a ? a.tagName : 'none') + ':' + (c ? 'card' : 'outside'); })()"
        )
    )


def test_subscribing_and_unsubscribing_by_keyboard_keep_the_focus_in_the_card(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    panel = open_panel(page, live_site, newsletter, "keyboard.customer@example.com")
    card = panel.get_by_role("region", name="Fruit lovers")
    expect(card.locator("[data-status]")).to_have_text("Not subscribed")
    card.get_by_label("Weekly").check()
    card.get_by_role("button", name="Subscribe", exact=True).focus()
    page.keyboard.press("Enter")
    toast(page, "Subscription requested")
    expect(card.locator("[data-status]")).to_have_text("Subscribed", timeout=15_000)
    # The card was drawn again with its new buttons: the keyboard is on Subscribe's equivalent.
    save = card.get_by_role("button", name="Save groups", exact=True)
    expect(save).to_be_focused()
    assert focus_place(page) == "BUTTON:card"
    check_a11y(app_frame(page), "the customer panel after subscribing by keyboard")

    page.keyboard.press("Tab")
    unsubscribe = card.get_by_role("button", name="Unsubscribe", exact=True)
    expect(unsubscribe).to_be_focused()
    page.keyboard.press("Enter")
    panel.get_by_role("dialog").get_by_role("button", name="Unsubscribe", exact=True).click()
    toast(page, "Unsubscribe requested")
    expect(card.locator("[data-status]")).to_have_text("Unsubscribed", timeout=15_000)
    # No Unsubscribe any more: the keyboard goes on from the card's first button.
    expect(card.get_by_role("button", name="Subscribe", exact=True)).to_be_focused()


def test_subscribe_stays_busy_until_the_change_is_applied(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    panel = open_panel(page, live_site, newsletter, "patient.customer@example.com")
    card = panel.get_by_role("region", name="Fruit lovers")
    expect(card.locator("[data-status]")).to_have_text("Not subscribed")
    asked: list[Request] = []
    page.on(
        "request",
        lambda r: asked.append(r) if r.method == "POST" and "/customers/" in r.url else None,
    )
    # The panel's re-reads after the change are held: the card is not drawn again meanwhile.
    holding = {"on": False}

    def is_reread(route: Route) -> bool:
        return holding["on"] and route.request.method == "GET"

    held = Held(page, is_reread)
    page.route("**/api/subscriptions/customers/*", held)
    subscribe = card.get_by_role("button", name="Subscribe", exact=True)
    subscribe.focus()
    holding["on"] = True
    page.keyboard.press("Enter")
    toast(page, "Subscription requested")
    reread = held.first()
    # Asked, not applied yet: Subscribe cannot ask again.
    expect(subscribe).to_be_disabled()
    expect(subscribe).to_have_attribute("aria-busy", "true")
    page.keyboard.press("Enter")
    subscribe.click(force=True)
    assert len(asked) == 1, f"the change was asked {len(asked)} times"
    holding["on"] = False
    reread.continue_()
    expect(card.locator("[data-status]")).to_have_text("Subscribed", timeout=15_000)
    assert len(asked) == 1, f"the change was asked {len(asked)} times"
