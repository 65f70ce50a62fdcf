"""The initial sync on the E-commerce page while its step waits for a failing service, in
Chromium inside the sandbox dashboard: Mailchimp answers 503 to the sync's first call, and the
worker keeps the step for a retry (up to `WORKER_OUTAGE_MAX_ATTEMPTS` runs in production). The
page says so in plain words, when it tries again and which attempt that is, with Mailchimp's
error behind the Details toggle (staying open while the page polls), instead of a sync that
seems stuck; once Mailchimp answers and the retry ran, the notice is gone and the sync goes on
to its end.

The live stack's worker runs on the machine's clock (it took it at start), which a test cannot
move: the step's backoff is an hour, so nothing runs again while the page is looked at, and
the retry is then made due in the database, as tests/initial_sync/conftest.py's `make_due`
brings a backoff forward. Every other wait is on the page (Playwright's `expect`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, Route, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.engine import Database
from addon.db.types import utcnow
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from sandboxes.saleor.generator import generate_store
from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    connect_demo,
    in_thread,
    open_page,
    said,
)
from tests.browser.test_initial_sync_offline import succeeded_run
from tests.browser.test_subscription_pages import switch_theme

pytestmark = pytest.mark.browser

# A channel of its own: the other initial-sync modules find theirs as they left them.
CHANNEL = "retry-channel"
CHANNEL_NAME = "Retry Channel"
START = re.compile(r"^(Start|Run) the initial sync")
# A failed step is tried again in half an hour to an hour (not while the page is looked at),
# and a service's outage is not given up after one run (the live stack's default for a page
# that shows an outage's outcome at once).
HELD_RETRIES = {
    "worker_backoff_base_seconds": 3600.0,
    "worker_backoff_max_seconds": 3600.0,
    "worker_outage_max_attempts": 20,
}


def _in_database(live_site: LiveSite, work: Any) -> Any:
    """Run `work(session)` in a transaction of the live site's database."""

    async def run() -> Any:
        database = Database(live_site.database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    return in_thread(run)


def _due_now(live_site: LiveSite, *, kind: str | None = None, since: datetime | None = None) -> int:
    """Jobs waiting for their retry after a failed run are due now (of `kind`; failed since
    `since`); the worker, polling, takes them at once."""

    async def work(session: AsyncSession) -> int:
        now = utcnow()
        retried = update(Job).where(
            Job.status == JobStatus.PENDING, Job.last_error.is_not(None), Job.run_after > now
        )
        if kind is not None:
            retried = retried.where(Job.kind == kind)
        if since is not None:
            retried = retried.where(Job.updated_at >= since)
        result = await session.execute(retried.values(run_after=now))
        return int(result.rowcount)  # type: ignore[attr-defined]

    return int(_in_database(live_site, work))


@pytest.fixture(scope="module")
def retry_shop(live_site: LiveSite) -> Iterator[None]:
    """Connected, the channel tracked with a small history to send, retries held."""
    saleor = live_site.stack.saleor
    with app_api(live_site) as api:
        connect_demo(api, live_site)
        if not any(c.slug == CHANNEL for c in saleor.store.channels.values()):
            saleor.store.add_channel(CHANNEL, CHANNEL_NAME, "USD")
        shop = Newsletter(live_site)
        list_id = shop.list_named("Retry shoppers")
        shop.import_now()
        was_on = api.get("/api/ecommerce").json()["settings"]["tracking_enabled"]
        if not was_on:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": True})
            assert response.status_code == 200, response.text
        body = {"tracked": True, "list_id": list_id}
        response = api.put(f"/api/ecommerce/channels/{CHANNEL}", json=body)
        assert response.status_code == 200, response.text
    generate_store(
        saleor.store, products=4, customers=2, orders=2, seed=5150, channels=((CHANNEL, "USD"),)
    )
    services = live_site.services
    settings = services.settings
    services.settings = settings.model_copy(update=HELD_RETRIES)
    started = utcnow()
    try:
        yield
    finally:
        services.settings = settings
        live_site.stack.mailchimp.faults.reset(live_site.stack.demo_account)
        # What failed in the outage goes on now, as after any outage (not in an hour).
        _due_now(live_site, since=started)
        with app_api(live_site) as api:  # as it was found
            api.delete(f"/api/ecommerce/channels/{CHANNEL}/initial-sync")  # left running
            api.put(f"/api/ecommerce/channels/{CHANNEL}", json={"tracked": False})
            if not was_on:
                api.patch("/api/ecommerce/settings", json={"tracking_enabled": False})


def sync_of(app: FrameLocator) -> Locator:
    channel = app.get_by_role("article", name=CHANNEL_NAME)
    return channel.get_by_role("region", name="Initial sync")


def latest(live_site: LiveSite) -> dict[str, Any]:
    with app_api(live_site) as api:
        response = api.get(f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def polled(page: Page, times: int) -> None:
    """Until the page asked for the sync's progress `times` more times. It asks again only
    after drawing the answer before, so two asks mean an answer was drawn in between."""
    for _ in range(times):
        with page.expect_request(
            lambda r: r.method == "GET" and r.url.endswith(f"/{CHANNEL}/initial-sync")
        ):
            pass


def test_a_step_retried_through_a_mailchimp_outage_is_said_until_mailchimp_answers(
    page: Page, live_site: LiveSite, retry_shop: None, artifacts: Path
) -> None:
    mailchimp = live_site.stack.mailchimp
    demo = live_site.stack.demo_account
    app = open_page(page, live_site, "E-commerce")
    # The tab in front: Chromium throttles a background tab's timers (the page's polls).
    page.bring_to_front()
    sync = sync_of(app)
    start = sync.get_by_role("button", name=START)
    expect(start).to_be_visible()
    notice = sync.get_by_role("status").filter(has_text="Waiting to try again")
    expect(notice).to_have_count(0)

    mailchimp.faults.outage(account=demo)  # 503 to everything, until reset
    start.click()
    said(app, "Initial sync started")
    expect(sync.locator(".badge")).to_have_text("Running")
    # The step failed and waits for its retry: the page says so, and when.
    expect(notice).to_be_visible()
    run = latest(live_site)
    retrying = run["retrying"]
    assert run["status"] == "running" and retrying is not None, run
    assert retrying["attempts"] == 1, retrying
    assert "503" in retrying["last_error"], retrying
    # The time as the page writes every time (the admin's locale and time zone).
    when = app_frame(page).evaluate(
        "(value) => import('/static/bridge.js').then((m) => m.formatTime(value))",
        retrying["retry_at"],
    )
    expect(notice).to_contain_text(
        f"Mailchimp or Saleor is not answering; the sync tries again at {when} (attempt 2) "
        "and goes on by itself."
    )
    # Mailchimp's error only behind the toggle, and it stays open while the page polls.
    toggle = notice.locator("details")
    expect(toggle.locator("pre")).to_be_hidden()
    toggle.get_by_text("Details", exact=True).click()
    expect(toggle.locator("pre")).to_have_text(retrying["last_error"])
    polled(page, 2)
    expect(toggle).to_have_attribute("open", "")
    expect(toggle.locator("pre")).to_be_visible()
    check_a11y(app_frame(page), "the initial sync waiting to try again, its details open")
    shot(page, artifacts, "initial-sync-retrying-light", height=1700)
    switch_theme(page, app, "dark")
    check_a11y(app_frame(page), "the initial sync waiting to try again, dark")
    shot(page, artifacts, "initial-sync-retrying-dark", height=1700)
    switch_theme(page, app, "light")

    # Mailchimp answers again and the retry comes: the notice goes with the page's next look,
    # and the sync goes on by itself to its end.
    mailchimp.faults.reset(demo)
    assert _due_now(live_site, kind=STEP_JOB) == 1
    expect(notice).to_have_count(0)
    expect(sync.locator(".badge")).to_have_text("Succeeded")
    said(app, "Initial sync finished")
    assert latest(live_site)["retrying"] is None
    expect(sync.locator("[data-sync-retrying]")).to_be_hidden()


def test_a_retry_under_way_is_said_so_and_the_notice_goes_when_it_is_over(
    page: Page, live_site: LiveSite, retry_shop: None
) -> None:
    """The retry's time has passed (the step runs again, or waits for a free worker): no
    past time is offered as the next try. The server's answers are the test's own here."""
    answer = succeeded_run(CHANNEL) | {"status": "running", "phase": "products"}
    answer |= {"finished_at": None, "summary": "Sending products"}
    answer["retrying"] = {
        "attempts": 3,
        "retry_at": "2020-01-01T00:00:00Z",  # before any clock this runs on
        "last_error": "Saleor did not answer (502 Bad Gateway).",
    }

    def initial_sync(route: Route) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        route.fulfill(json=answer)

    page.route(re.compile(rf"/api/ecommerce/channels/{CHANNEL}/initial-sync$"), initial_sync)
    app = open_page(page, live_site, "E-commerce")
    page.bring_to_front()
    sync = sync_of(app)
    notice = sync.get_by_role("status").filter(has_text="Waiting to try again")
    expect(notice).to_contain_text(
        "Mailchimp or Saleor is not answering; the sync is trying again now and goes on by itself."
    )
    expect(notice.locator("details pre")).to_have_text("Saleor did not answer (502 Bad Gateway).")
    # The retry went through: the next poll's answer has no `retrying`, and the notice goes.
    answer["retrying"] = None
    expect(notice).to_have_count(0)
    expect(sync.locator(".badge")).to_have_text("Running")
