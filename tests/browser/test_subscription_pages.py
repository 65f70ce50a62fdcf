"""The Audiences, Subscriptions and customer panel pages in Chromium, inside the sandbox
dashboard, as a store admin uses them; Mailchimp is the sandbox, reached through its HTTP API."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import app_frame, check_a11y, said, set_theme
from tests.sandbox_mailchimp.helpers import list_body

pytestmark = pytest.mark.browser

T = TypeVar("T")


def in_thread(make: Callable[[], Any]) -> Any:
    """Run a coroutine beside Playwright's event loop (its sync API holds this thread's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def eventually(check: Callable[[], T | None], timeout: float = 15) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def app_api(live_site: LiveSite) -> httpx.Client:
    """The app's dashboard API with a fresh dashboard token (for setting up, not for asserting)."""
    saleor = live_site.stack.saleor
    app = next(iter(saleor.store.apps.values()))
    token = saleor.mint_dashboard_token(app, expires_in=600)
    return httpx.Client(
        base_url=live_site.url,
        headers={"authorization-bearer": token, "saleor-api-url": saleor.api_url},
        timeout=10,
    )


def mailchimp_api(live_site: LiveSite) -> httpx.Client:
    demo = live_site.stack.demo_account
    return httpx.Client(
        base_url=f"{live_site.url}/sandbox/mailchimp/{demo.dc}/3.0",
        auth=("anystring", demo.api_key),
        timeout=10,
    )


@dataclass
class Newsletter:
    """The demo account, connected, with audiences and groups imported by the app."""

    live_site: LiveSite
    ids: dict[str, str] = field(default_factory=dict)

    def new_list(self, name: str) -> str:
        with mailchimp_api(self.live_site) as mc:
            response = mc.post("/lists", json=list_body(name))
            assert response.status_code == 200, response.text
            self.ids[name] = response.json()["id"]
            return self.ids[name]

    def list_named(self, name: str) -> str:
        """The audience called `name`, made only if this stack has none yet: a module-scoped
        fixture imported by several modules runs once per module on the same stack."""
        with mailchimp_api(self.live_site) as mc:
            response = mc.get("/lists", params={"count": 1000, "fields": "lists.id,lists.name"})
            assert response.status_code == 200, response.text
        for audience in response.json()["lists"]:
            if audience["name"] == name:
                self.ids[name] = audience["id"]
                return self.ids[name]
        return self.new_list(name)

    def new_group(self, list_id: str, title: str, kind: str, *names: str) -> str:
        with mailchimp_api(self.live_site) as mc:
            path = f"/lists/{list_id}/interest-categories"
            response = mc.post(path, json={"title": title, "type": kind})
            assert response.status_code == 200, response.text
            category = self.ids[title] = response.json()["id"]
            for name in names:
                interest = mc.post(f"{path}/{category}/interests", json={"name": name})
                assert interest.status_code == 200, interest.text
                self.ids[name] = interest.json()["id"]
            return str(category)

    def import_now(self) -> dict[str, Any]:
        with app_api(self.live_site) as api:
            before = api.get("/api/audiences").json()["last_import_at"]
            assert api.post("/api/audiences/refresh").status_code == 202

            def imported() -> dict[str, Any] | None:
                data: dict[str, Any] = api.get("/api/audiences").json()
                return data if data["last_import_at"] != before else None

            return eventually(imported)

    def configure(self, **settings: Any) -> dict[str, Any]:
        with app_api(self.live_site) as api:
            response = api.put("/api/audiences/settings", json=settings)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body


@pytest.fixture(scope="module")
def newsletter(live_site: LiveSite) -> Iterator[Newsletter]:
    shop = Newsletter(live_site)
    with app_api(live_site) as api:
        # The dev stack installs the app in the background: wait for the token hand-over.
        connection = eventually(lambda: (r := api.get("/api/connection")).is_success and r)
        if connection.json()["status"] != "connected":
            response = api.post(
                "/api/connection/api-key", json={"api_key": live_site.stack.demo_account.api_key}
            )
            assert response.status_code == 200, response.text
    fruit = shop.new_list("Fruit lovers")
    shop.new_group(fruit, "Topics", "checkboxes", "Apples", "Pears")
    shop.new_group(fruit, "Frequency", "radio", "Weekly", "Monthly")
    shop.new_list("Veggie club")
    shop.import_now()
    yield shop


def open_page(page: Page, live_site: LiveSite, tab: str, *, theme: str = "light") -> FrameLocator:
    page.goto(f"{live_site.dashboard}?theme={theme}")
    page.get_by_role("link", name="Open").first.click()
    app = page.frame_locator("#app-frame")
    app.get_by_role("link", name=tab, exact=True).click()
    expect(app.get_by_role("link", name=tab, exact=True)).to_have_attribute("aria-current", "page")
    expect(app.locator("#skeleton")).to_be_hidden()
    return app


def toast(page: Page, text: str) -> None:
    expect(page.locator("#toasts .toast").filter(has_text=text).last).to_be_visible()


def shot(page: Page, artifacts: Path, name: str, *, height: int = 1900) -> None:
    """The whole app page: the dashboard's frame grows with a tall window."""
    page.evaluate("document.getElementById('toasts').replaceChildren()")
    page.set_viewport_size({"width": 1280, "height": height})
    page.screenshot(path=str(artifacts / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 860})


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
    app.get_by_label("Tags for every contact the store sends").fill("saleor, web shop")

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
    expect(app.get_by_label("Tags for every contact the store sends")).to_have_value(
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


def only_users(page: Page) -> list[str]:
    """Dashboard tokens minted from now on carry only MANAGE_USERS (as for such a staff member);
    returns the tokens' URLs as they are minted."""
    minted: list[str] = []

    def narrow(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        minted.append(route.request.url)
        route.continue_(post_data=json.dumps({**body, "permissions": ["MANAGE_USERS"]}))

    page.route(re.compile(r"/api/token$"), narrow)
    return minted


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
