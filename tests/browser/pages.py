"""Helpers for driving the app's pages inside the sandbox dashboard: open, wait, screenshot,
and check with axe-core (axe-playwright-python bundles it); the app's and Mailchimp's APIs for
setting up what a page shows, and the demo account's audiences (`Newsletter`)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Frame, FrameLocator, Page, Route, expect

from tests.sandbox_mailchimp.helpers import list_body

if TYPE_CHECKING:
    from tests.browser.conftest import LiveSite

AXE = Axe()
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}},
}
WIDTHS = {"1280": {"width": 1280, "height": 860}, "800": {"width": 800, "height": 860}}

T = TypeVar("T")


def open_app(
    page: Page, dashboard_url: str, *, theme: str = "light", query: str = ""
) -> FrameLocator:
    page.goto(f"{dashboard_url}?theme={theme}")
    expect(page.get_by_role("heading", name="Installed apps")).to_be_visible()
    page.get_by_role("link", name="Open").first.click()
    if query:
        page.goto(f"{page.url}&{query}")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", level=1)).to_be_visible()
    return app


def app_frame(page: Page) -> Frame:
    handle = page.locator("#app-frame").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def loaded(app: FrameLocator) -> None:
    """The page has its data: the skeleton is gone and nothing says it is busy."""
    expect(app.locator("#skeleton")).to_be_hidden()
    expect(app.locator("main[aria-busy]")).to_have_count(0)


def go(app: FrameLocator, tab: str) -> None:
    # The click loads a new document, also for the tab already open: mark this one, so the
    # checks below wait for the next (a look at the old one raced its replacement: axe
    # injected into it was gone by the time it ran). The one open is loaded first: right after
    # the dashboard opened the app, its first document may still be replacing the blank one,
    # and marking that one failed ("Execution context was destroyed").
    expect(app.get_by_role("heading", level=1)).to_be_visible()
    loaded(app)
    app.locator("html").evaluate("html => html.setAttribute('data-left', '')")
    app.get_by_role("link", name=tab, exact=True).click()
    expect(app.locator("html[data-left]")).to_have_count(0)
    expect(app.get_by_role("link", name=tab, exact=True)).to_have_attribute("aria-current", "page")
    loaded(app)


def toast(page: Page, text: str) -> None:
    expect(page.locator("#toasts .toast").filter(has_text=text).last).to_be_visible()


def said(app: FrameLocator, text: str) -> None:
    """A confirmation on a page with a save bar: said in the bar, not over its buttons."""
    expect(app.locator("[data-save-status]")).to_have_text(f"{text}.")


def clear_toasts(page: Page) -> None:
    page.evaluate("document.getElementById('toasts').replaceChildren()")


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.mouse.move(0, 0)  # no hover highlight left from the last click
    page.screenshot(path=str(artifacts / f"{name}.png"))


def set_theme(page: Page, app: FrameLocator, theme: str) -> None:
    """Change the theme as the dashboard does (it works while a dialog covers its switch)."""
    page.evaluate("(theme) => window.sandboxDashboard.setTheme(theme)", theme)
    expect(app.locator("html")).to_have_attribute("data-theme", theme)


def token(frame: Frame) -> Any:
    """The page's token, read from its bridge module (it lives in memory only)."""
    return frame.evaluate("import('/static/bridge.js').then((m) => m.state.token)")


def check_a11y(target: Page | Frame, where: str) -> None:
    """axe-core on the page (or the app's frame): zero violations of any impact."""
    # Every rule axe runs by default, plus the experimental one that checks a control's
    # accessible name contains its visible text (WCAG 2.5.3, Label in Name).
    results = AXE.run(target, options=AXE_OPTIONS)
    violations = results.response["violations"]
    assert not violations, f"axe found {len(violations)} problem(s) on {where}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in violations
    )


def connect_with_key(app: FrameLocator, api_key: str) -> None:
    go(app, "Connection")
    # Wait until the page knows the connection (connected, or offering the key field): a look
    # while it still loads saw neither and went on to fill a field that then stayed hidden.
    connected = app.locator("#status-badge").filter(has_text=re.compile(r"^\s*Connected\s*$"))
    key = app.get_by_label("Paste an API key")
    expect(connected.or_(key).first).to_be_visible()
    if connected.is_visible():
        return
    key.fill(api_key)
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#status-badge")).to_have_text("Connected")


def mailchimp_window(page: Page, app: FrameLocator, button: str) -> Page:
    """Press the Connection page's `button` (Log in / Sign up for Mailchimp): its window."""
    with page.context.expect_page() as window:
        app.get_by_role("button", name=button).click()
    return window.value


def allow_as(window: Page, account: str) -> None:
    """Allow access for `account` on the Mailchimp sandbox's page; the window then closes."""
    # The result page closes itself at once: listen before the click that leads to it.
    with window.expect_event("close", timeout=10_000):
        window.locator("form.account", has_text=account).get_by_role("button", name="Allow").click()


def ensure_disconnected(app: FrameLocator) -> None:
    loaded(app)
    reset = app.get_by_role("button", name="Reset connection…")
    if reset.is_visible():
        reset.click()
        app.get_by_role("button", name="Reset connection", exact=True).click()
    expect(app.get_by_role("heading", name="Connect Mailchimp")).to_be_visible()


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


def connect_demo(api: httpx.Client, live_site: LiveSite) -> None:
    """The demo Mailchimp account connected (by its API key) unless it is already. The dev
    stack installs the app in the background: waits for the token hand-over first."""
    connection = eventually(lambda: (r := api.get("/api/connection")).is_success and r)
    if connection.json()["status"] != "connected":
        response = api.post(
            "/api/connection/api-key", json={"api_key": live_site.stack.demo_account.api_key}
        )
        assert response.status_code == 200, response.text


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


def open_page(page: Page, live_site: LiveSite, tab: str, *, theme: str = "light") -> FrameLocator:
    page.goto(f"{live_site.dashboard}?theme={theme}")
    page.get_by_role("link", name="Open").first.click()
    app = page.frame_locator("#app-frame")
    app.get_by_role("link", name=tab, exact=True).click()
    expect(app.get_by_role("link", name=tab, exact=True)).to_have_attribute("aria-current", "page")
    expect(app.locator("#skeleton")).to_be_hidden()
    return app


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
