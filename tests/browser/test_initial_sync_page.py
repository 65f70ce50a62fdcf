"""The initial sync on the E-commerce page in Chromium, inside the sandbox dashboard: start it
(optionally for orders since a day), watch its progress bars move and fill, be told when one
runs already, cancel it. Saleor holds a small generated store; Mailchimp holds the batches
and lets them go one at a time when a test says, so the page can be watched between them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from sandboxes.saleor.generator import generate_store
from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    connect_demo,
    eventually,
    open_page,
    said,
)
from tests.browser.test_subscription_pages import switch_theme

pytestmark = pytest.mark.browser

# A channel of its own, so that the E-commerce page's tests find the default channel as they
# leave it whichever module runs first.
CHANNEL = "sync-channel"
CHANNEL_NAME = "Sync Channel"
KINDS = ("Products", "Customers", "Orders")
START = "Start the initial sync"
AGAIN = "Run the initial sync again"
CANCEL = "Cancel the initial sync"
# Small batches, one at a time: every kind takes two or more (the store has a little more of
# each than a batch holds), so its bar stops between 0 and full while the next one is held.
# A held batch is asked about often, so one let go is applied soon after.
SLOW_AND_SMALL = {
    "initial_sync_batch_size": 10,
    "initial_sync_page_size": 10,
    "initial_sync_max_in_flight": 1,
    "initial_sync_poll_max_seconds": 0.2,
}
STORE = {"products": 11, "customers": 11, "orders": 11}


@pytest.fixture(scope="module")
def history(live_site: LiveSite) -> Iterator[None]:
    """Connected, the sales channel tracked, tracking on, and Saleor with a history to send."""
    saleor = live_site.stack.saleor
    with app_api(live_site) as api:
        connect_demo(api, live_site)
        if not any(c.slug == CHANNEL for c in saleor.store.channels.values()):
            saleor.store.add_channel(CHANNEL, CHANNEL_NAME, "USD")
        shop = Newsletter(live_site)
        list_id = shop.new_list("Initial sync shoppers")
        shop.import_now()
        data = api.get("/api/ecommerce").json()
        was_on = data["settings"]["tracking_enabled"]
        if not was_on:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": True})
            assert response.status_code == 200, response.text
        body = {"tracked": True, "list_id": list_id}
        response = api.put(f"/api/ecommerce/channels/{CHANNEL}", json=body)
        assert response.status_code == 200, response.text
    generate_store(saleor.store, **STORE, seed=2024, channels=((CHANNEL, "USD"),))
    services = live_site.services
    settings = services.settings
    services.settings = settings.model_copy(update=SLOW_AND_SMALL)
    try:
        yield
    finally:
        services.settings = settings
        with app_api(live_site) as api:  # as it was found
            api.put(f"/api/ecommerce/channels/{CHANNEL}", json={"tracked": False})
            if not was_on:
                api.patch("/api/ecommerce/settings", json={"tracking_enabled": False})


@pytest.fixture
def mailchimp(live_site: LiveSite) -> Iterator[Any]:
    """The Mailchimp sandbox; whatever a test does to its batches is undone after it."""
    sandbox = live_site.stack.mailchimp
    paused = sandbox.batches_paused
    try:
        yield sandbox
    finally:
        with sandbox.state.lock:  # none left over for a later test's batches
            sandbox.batch_releases = 0
        sandbox.batches_paused = paused


def sync_of(app: FrameLocator) -> Locator:
    channel = app.get_by_role("article", name=CHANNEL_NAME)
    return channel.get_by_role("region", name="Initial sync")


def latest(live_site: LiveSite) -> dict[str, Any]:
    with app_api(live_site) as api:
        response = api.get(f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def polls_of(page: Page) -> list[str]:
    """The page's requests for the initial sync's progress, from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.method) if r.url.endswith("/initial-sync") else None)
    return seen


def await_polls(page: Page, polls: list[str], more_than: int, seconds: float) -> None:
    # Playwright reports requests while it is called: wait with it, not with time.sleep.
    deadline = time.monotonic() + seconds
    while len(polls) <= more_than:
        assert time.monotonic() < deadline, f"{len(polls)} polls"
        page.wait_for_timeout(100)


def set_hidden(app: FrameLocator, hidden: bool) -> None:
    """Pretend the admin switched to another tab (or back)."""
    app.locator("html").evaluate(
        "(html, hidden) => { Object.defineProperty(document, 'hidden',"
        " {value: hidden, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def bars(sync: Locator) -> dict[str, tuple[float, float]]:
    """Each kind's bar as the page shows it now: (value, max)."""
    rows = sync.locator(".sync-kind").evaluate_all(
        "rows => rows.map(r => [r.querySelector('label').textContent,"
        " r.querySelector('progress').value, r.querySelector('progress').max])"
    )
    return {label: (value, top) for label, value, top in rows}


def test_a_second_start_is_refused_and_cancel_stops_the_sync(
    page: Page, live_site: LiveSite, history: None, mailchimp: Any, artifacts: Path
) -> None:
    # Something new to send, whatever ran before: the sync cannot end while Mailchimp holds it.
    for n in range(3):
        live_site.stack.saleor.store.create_customer(
            f"late.shopper.{n}@example.com", "Late", "Shopper"
        )
    mailchimp.batches_paused = True
    # Another admin has the page open already.
    other = page.context.new_page()
    try:
        elsewhere = open_page(other, live_site, "E-commerce")
        expect(sync_of(elsewhere).get_by_role("button", name=START)).to_be_visible()

        app = open_page(page, live_site, "E-commerce")
        # The tab in front: Chromium throttles a background tab's frames, which Playwright's
        # clicks and screenshots wait for (seconds each).
        page.bring_to_front()
        sync = sync_of(app)
        expect(sync.locator("[data-sync-status]")).not_to_have_text("Loading…")
        sync.get_by_label("Only orders since").fill("2024-07-01")
        sync.get_by_role("button", name=START).click()
        said(app, "Initial sync started")
        expect(sync.locator(".badge")).to_have_text("Running")
        expect(sync.locator("[data-sync-status]")).to_contain_text("orders since 1 Jul 2024")
        expect(sync.get_by_role("button", name=START)).to_be_hidden()
        cancel = sync.get_by_role("button", name=CANCEL)
        expect(cancel).to_be_visible()
        expect(cancel).to_be_focused()  # Start is hidden: the focus is not dropped
        for kind in KINDS:
            expect(sync.get_by_role("progressbar", name=kind)).to_be_visible()
        # The day is sent as midnight UTC.
        assert latest(live_site)["orders_since"] == "2024-07-01T00:00:00Z"
        shot(page, artifacts, "initial-sync-running-light", height=1700)

        # About once a second while it runs, and not while the page is hidden.
        polls = polls_of(page)
        await_polls(page, polls, 1, seconds=5)
        set_hidden(app, True)
        page.wait_for_timeout(300)  # an answer on its way may still arrive
        quiet = len(polls)
        quiet_until = time.monotonic() + 1.5  # one and a half poll intervals at least

        # Meanwhile the other admin presses Start too: the page says one runs and shows it.
        elsewhere_sync = sync_of(elsewhere)
        elsewhere_sync.get_by_role("button", name=START).click()
        note = elsewhere_sync.get_by_role("alert")
        expect(note).to_contain_text(f"An initial sync of channel '{CHANNEL}' is running already.")
        expect(elsewhere_sync.locator(".badge")).to_have_text("Running")
        expect(elsewhere_sync.get_by_role("button", name=CANCEL)).to_be_visible()
        other.bring_to_front()
        shot(other, artifacts, "initial-sync-already-running-light", height=1700)
        page.bring_to_front()

        page.wait_for_timeout(max(quiet_until - time.monotonic(), 0) * 1000)
        assert len(polls) == quiet, "the hidden page kept polling"
        set_hidden(app, False)
        await_polls(page, polls, quiet, seconds=3)

        # Cancel asks first; kept running, nothing changes and focus is back on Cancel.
        cancel.click()
        ask = app.get_by_role("dialog", name="Cancel the initial sync?")
        expect(ask).to_be_visible()
        check_a11y(app_frame(page), "the cancel dialog")
        ask.get_by_role("button", name="Keep it running").click()
        expect(ask).to_have_count(0)
        expect(cancel).to_be_focused()
        expect(sync.locator(".badge")).to_have_text("Running")
        # Cancelled: the outcome replaces the progress; a new sync may start.
        cancel.click()
        ask.get_by_role("button", name="Cancel the sync").click()
        said(app, "Initial sync cancelled")
        expect(sync.locator(".badge")).to_have_text("Cancelled")
        expect(sync.locator("[data-sync-status]")).to_contain_text(
            "The last initial sync was cancelled"
        )
        expect(sync.get_by_role("button", name=START)).to_be_visible()
        expect(cancel).to_be_hidden()
        # The pressed button is gone: the focus is on the one shown instead.
        expect(sync.get_by_role("button", name=START)).to_be_focused()
        assert latest(live_site)["status"] == "cancelled"
        # The other page, still polling, sees it end.
        expect(elsewhere_sync.locator(".badge")).to_have_text("Cancelled")
        expect(note).to_be_hidden()
        switch_theme(page, app, "dark")
        shot(page, artifacts, "initial-sync-cancelled-dark", height=1700)
        switch_theme(page, app, "light")
    finally:
        other.close()


def test_a_failed_sync_says_why(
    page: Page, live_site: LiveSite, history: None, mailchimp: Any, artifacts: Path
) -> None:
    live_site.stack.saleor.store.create_customer("later.shopper@example.com", "Later", "Shopper")
    mailchimp.batches_paused = True
    app = open_page(page, live_site, "E-commerce")
    sync = sync_of(app)
    sync.get_by_role("button", name=START).click()
    said(app, "Initial sync started")
    expect(sync.locator(".badge")).to_have_text("Running")
    try:
        # The admin is asked whether to cancel it, and while the question is open...
        sync.get_by_role("button", name=CANCEL).click()
        ask = app.get_by_role("dialog", name="Cancel the initial sync?")
        expect(ask).to_be_visible()
        # ... sending paused store-wide ends the running sync: it failed, and the page says why
        # (inline, where the sync is shown).
        with app_api(live_site) as api:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": False})
            assert response.status_code == 200, response.text
        expect(sync.locator(".badge")).to_have_text("Failed")
        # The answer then comes too late: nothing is left to cancel, and nothing is asked.
        ask.get_by_role("button", name="Cancel the sync").click()
        expect(ask).to_have_count(0)
        expect(sync.locator(".badge")).to_have_text("Failed")
        expect(sync.get_by_role("alert")).to_have_count(0)
        assert latest(live_site)["status"] == "failed"
        expect(sync.locator("[data-sync-status]")).to_contain_text("The last initial sync failed")
        error = latest(live_site)["error"]
        assert error and "tracking" in error, error
        expect(sync.locator("[data-sync-error]")).to_contain_text(error)
        # While paused, the card's one next step is to resume: no Start beside it.
        app.get_by_role("button", name="Refresh", exact=True).click()
        channel = app.get_by_role("article", name=CHANNEL_NAME)
        expect(channel.get_by_role("button", name="Resume sending")).to_be_visible()
        expect(sync.get_by_role("button", name=START)).to_be_hidden()
        expect(sync.locator("[data-sync-error]")).to_contain_text(error)
        shot(page, artifacts, "initial-sync-failed-light", height=1700)
    finally:
        with app_api(live_site) as api:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": True})
            assert response.status_code == 200, response.text


def waiting_batches(mailchimp: Any, live_site: LiveSite) -> list[str]:
    """The batches Mailchimp has not started (held while its batches are paused)."""
    account = live_site.stack.demo_account
    return [b.id for b in mailchimp.batches(account) if b.status == "pending"]


def held_or_over(mailchimp: Any, live_site: LiveSite) -> dict[str, Any]:
    """The sync once it holds still: its next batch submitted and held at Mailchimp, or over.

    With one batch in flight, a batch waiting at Mailchimp while the app counts one in flight
    means the app applied the one before and recorded this one: its progress changes no more
    until the batch is let go."""

    def check() -> bool:
        # Mailchimp first: a batch seen waiting before the app's count was read.
        if waiting_batches(mailchimp, live_site):
            return bool(latest(live_site)["batches_in_flight"] == 1)
        return bool(latest(live_site)["status"] != "running")

    eventually(check, timeout=60)
    return latest(live_site)  # read after the app's write (not in the same read as the check)


def let_go(mailchimp: Any, live_site: LiveSite) -> None:
    """Let the one batch held at Mailchimp go; until Mailchimp has started it."""
    [held] = waiting_batches(mailchimp, live_site)
    mailchimp.release_batches(1)
    eventually(lambda: held not in waiting_batches(mailchimp, live_site))


def expect_bars(sync: Locator, run: dict[str, Any]) -> None:
    """Until the page draws `run`'s bars (as initial-sync.js does: done of total)."""
    for label, kind in zip(KINDS, run["kinds"], strict=True):
        done = kind["confirmed"] + kind["quarantined"] + kind["skipped"] + kind["retried"]
        if kind["total"] is None:
            value, top = 0, 1
        else:
            total = max(kind["total"], done)
            value, top = (done if total else 1), max(total, 1)
        bar = sync.get_by_role("progressbar", name=label)
        expect(bar).to_have_attribute("max", str(top))
        expect(bar).to_have_attribute("value", str(value))


def test_start_watch_the_bars_move_and_fill(
    page: Page, live_site: LiveSite, history: None, mailchimp: Any, artifacts: Path
) -> None:
    # Batches left by the tests before (cancelled or failed syncs) go first: every release
    # below is for this sync's batches.
    eventually(lambda: not waiting_batches(mailchimp, live_site))
    # Products a sync before this one sent (a cancelled sync settles what it sent) are done as
    # soon as they are read (skipped, or handed to live sync): fresh ones, never sent, go in
    # batches, between which their bar is seen.
    store = live_site.stack.saleor.store
    generate_store(
        store,
        products=11,
        customers=0,
        orders=0,
        seed=len(store.products),
        channels=((CHANNEL, "USD"),),
    )
    mailchimp.batches_paused = True
    app = open_page(page, live_site, "E-commerce")
    sync = sync_of(app)
    expect(sync.locator("[data-sync-status]")).not_to_have_text("Loading…")
    expect(sync.get_by_label("Only orders since")).to_have_value("")
    sync.get_by_role("button", name=START).click()
    said(app, "Initial sync started")
    expect(sync.locator(".badge")).to_have_text("Running")

    # Mailchimp lets one batch go at a time; before each, the page shows where the sync stands:
    # every bar stops somewhere between 0 and full (each kind takes two batches or more).
    between: set[str] = set()
    seen: list[object] = []  # each held state's counters, said if a bar never was between
    texts: set[str] = set()
    shots = False
    batches = 0
    while (run := held_or_over(mailchimp, live_site))["status"] == "running":
        assert batches < 50, f"still running after {batches} batches"
        seen.append(
            [(k["kind"], k["total"], k["skipped"], k["sent"], k["confirmed"]) for k in run["kinds"]]
        )
        expect_bars(sync, run)
        for kind, (value, top) in bars(sync).items():
            if 0 < value < top:
                between.add(kind)
                texts.add(
                    sync.locator(".sync-kind", has_text=kind)
                    .locator(".sync-numbers")
                    .text_content()
                    or ""
                )
        if between and not shots:
            shots = True
            shot(page, artifacts, "initial-sync-progress-light", height=1700)
            switch_theme(page, app, "dark")
            shot(page, artifacts, "initial-sync-progress-dark", height=1700)
            switch_theme(page, app, "light")
        let_go(mailchimp, live_site)
        batches += 1
    assert between == set(KINDS), f"bars seen between 0 and full: {between}; {seen}"
    assert any("per second" in t and " left" in t for t in texts), texts

    # It ends: every bar full, the outcome said.
    expect(sync.locator(".badge")).to_have_text("Succeeded")
    said(app, "Initial sync finished")
    expect(sync.locator("[data-sync-status]")).to_contain_text("The last initial sync succeeded")
    run = latest(live_site)
    assert run["status"] == "succeeded", run
    for kind in run["kinds"]:
        done = kind["confirmed"] + kind["quarantined"] + kind["skipped"] + kind["retried"]
        assert kind["total"] and done == kind["total"], kind
    for kind, progress in zip(KINDS, run["kinds"], strict=True):
        bar = sync.get_by_role("progressbar", name=kind)
        expect(bar).to_have_attribute("max", str(progress["total"]))
        expect(bar).to_have_attribute("value", str(progress["total"]))
        expect(sync.locator(".sync-kind", has_text=kind)).to_contain_text(
            f"{progress['total']:,} of {progress['total']:,} done"
        )
    expect(sync.get_by_role("button", name=AGAIN)).to_be_visible()
    # Over: the page stops asking (after the one read of the page's refresh at the end), while
    # the last screenshots are taken.
    polls = polls_of(page)
    page.wait_for_timeout(1000)
    quiet = len(polls)
    quiet_until = time.monotonic() + 1.5  # one and a half poll intervals at least
    shot(page, artifacts, "initial-sync-done-light", height=1700)
    switch_theme(page, app, "dark")
    shot(page, artifacts, "initial-sync-done-dark", height=1700)
    switch_theme(page, app, "light")
    page.wait_for_timeout(max(quiet_until - time.monotonic(), 0) * 1000)
    assert len(polls) == quiet <= 1, polls
