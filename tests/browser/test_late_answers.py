"""An answer that arrives late does not undo what the admin did meanwhile: what they typed while
a save was on its way stays (unsaved, and saved next), and a filter's slower answer does not
replace the one they clicked after it. Requests are held by the test and let go in the order
it chooses (no timing)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import app_api, app_frame, connect_with_key, eventually, go, open_app

pytestmark = pytest.mark.browser


class Held:
    """Requests matching a test held until it lets them go."""

    def __init__(self, page: Page, matches: Callable[[Route], bool]) -> None:
        self.page = page
        self.matches = matches
        self.routes: list[Route] = []

    def __call__(self, route: Route) -> None:
        if self.matches(route):
            self.routes.append(route)
        else:
            route.continue_()

    def first(self) -> Route:
        """The first held request, once it is (the page sends it on its own time)."""
        for _ in range(500):
            if self.routes:
                return self.routes.pop(0)
            self.page.wait_for_timeout(20)  # Playwright dispatches the route meanwhile
        raise AssertionError("the request was never sent")


@contextmanager
def ecommerce_settings_kept(live_site: LiveSite) -> Iterator[None]:
    with app_api(live_site) as api:
        before = api.get("/api/ecommerce").json()["settings"]
    try:
        yield
    finally:
        kept = {k: before[k] for k in ("product_url_template", "store_email")}
        with app_api(live_site) as api:
            assert api.patch("/api/ecommerce/settings", json=kept).status_code == 200


def test_typing_while_a_save_is_on_its_way_stays_and_is_saved_next(
    page: Page, live_site: LiveSite
) -> None:
    app = open_app(page, live_site.dashboard)
    connect_with_key(app, live_site.stack.demo_account.api_key)
    with ecommerce_settings_kept(live_site):
        go(app, "E-commerce")
        held = Held(page, lambda route: route.request.method == "PATCH")
        page.route("**/api/ecommerce/settings*", held)
        app.locator("#store-email").fill("first@shop.example.com")
        app.get_by_role("button", name="Save", exact=True).click()
        saving = held.first()
        # Discard waits for the save: what it brings back is the form's next baseline.
        expect(app.get_by_role("button", name="Discard")).to_be_disabled()
        url = "https://shop.example.com/p/{slug}"
        app.locator("#product-url").fill(url)  # typed while the save is on its way
        saving.continue_()
        status = app.locator("[data-save-status]")
        expect(status).to_contain_text("your newer changes are not saved yet")
        expect(app.locator("#product-url")).to_have_value(url)
        expect(app.locator("#store-email")).to_have_value("first@shop.example.com")
        page.unroute("**/api/ecommerce/settings*")
        app.get_by_role("button", name="Save", exact=True).click()
        expect(status).to_have_text("E-commerce settings saved.")
        with app_api(live_site) as api:
            saved = api.get("/api/ecommerce").json()["settings"]
        assert (saved["store_email"], saved["product_url_template"]) == (
            "first@shop.example.com",
            url,
        )


def test_a_filters_late_answer_does_not_replace_the_next_ones(
    page: Page, live_site: LiveSite
) -> None:
    app = open_app(page, live_site.dashboard)
    go(app, "Activity")
    held = Held(page, lambda route: "status=quarantined" in route.request.url)
    page.route("**/api/activity*", held)
    app.get_by_role("button", name=re.compile(r"^Quarantined")).click()
    late = held.first()
    waiting = app.get_by_role("button", name=re.compile(r"^Waiting"))
    with page.expect_request_finished(lambda request: "status=pending" in request.url):
        waiting.click()
    _page_turn(page)
    rows = app.locator("#activity-rows")
    shown = rows.inner_text()
    with page.expect_request_finished(lambda request: "status=quarantined" in request.url):
        late.continue_()
    _page_turn(page)
    assert rows.inner_text() == shown
    expect(waiting).to_have_attribute("aria-pressed", "true")


def _page_turn(page: Page) -> None:
    """The page has had its turn at the answers it received (bodies read, handlers run)."""
    app_frame(page).evaluate(
        "() => new Promise((done) => setTimeout(() => setTimeout(done, 0), 0))"
    )


def test_a_store_email_without_its_domain_is_said_next_to_it(
    page: Page, live_site: LiveSite
) -> None:
    app = open_app(page, live_site.dashboard)
    go(app, "E-commerce")
    email = app.locator("#store-email")
    email.fill("shop@")
    app.get_by_role("button", name="Save", exact=True).click()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(app.locator("#store-email-error")).to_have_text(
        "Write a whole e-mail address, like shop@example.com."
    )
    expect(app.locator("[data-save-status]")).to_have_text(
        "Correct the highlighted fields, then save."
    )


def test_a_long_activity_list_says_it_is_cut_and_shows_more(
    page: Page, live_site: LiveSite
) -> None:
    async def nothing(job: object, payload: object) -> None:
        return None

    live_site.services.handlers.register("test.activity_page", nothing)
    for n in range(60):
        live_site.enqueue("test.activity_page", {"n": n})
    with app_api(live_site) as api:

        def all_done() -> bool:
            counts = api.get("/api/activity", params={"status": "pending"}).json()["items"]
            return not [i for i in counts if i["kind"] == "test.activity_page"]

        eventually(all_done)
        done = api.get("/api/activity", params={"status": "done"}).json()["counts"]["done"]
    assert done >= 60
    app = open_app(page, live_site.dashboard)
    go(app, "Activity")
    with page.expect_request_finished(lambda request: "status=done" in request.url):
        app.get_by_role("button", name=re.compile(r"^Done")).click()
    more = app.locator("#activity-more")
    expect(more).to_contain_text(re.compile(r"Showing the latest 50 of \d+\."))
    total = int(re.findall(r"of (\d+)\.", more.inner_text())[0])
    assert total >= done  # other jobs of the site may have finished since
    expect(app.locator("#activity-rows tr")).to_have_count(50)
    more.get_by_role("button", name="Show more").click()
    expect(app.locator("#activity-rows tr")).to_have_count(min(total, 100))
    # The rows added have no control: the focus stays on Show more, or, all shown, goes to
    # the table (not to the page).
    if total <= 100:
        expect(more).to_be_hidden()
        expect(app.locator(".table-wrap")).to_be_focused()
    else:
        expect(more.get_by_role("button", name="Show more")).to_be_focused()
