"""The initial sync on the E-commerce page in Chromium, inside the sandbox dashboard: start it
(optionally for orders since a day), watch its progress bars move and fill, be told when one
runs already, cancel it. Saleor holds a generated store of a few hundred entities; Mailchimp's
batches are slowed down (or held) so the page can be watched while they run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from sandboxes.saleor.generator import generate_store
from tests.browser.conftest import LiveSite
from tests.browser.pages import said
from tests.browser.test_subscription_pages import (
    Newsletter,
    app_api,
    eventually,
    open_page,
    shot,
    switch_theme,
)

pytestmark = pytest.mark.browser

CHANNEL = "default-channel"
KINDS = ("Products", "Customers", "Orders")
START = "Start the initial sync"
AGAIN = "Run the initial sync again"
CANCEL = "Cancel the initial sync"
# Small batches, one at a time: every kind takes several, so its bar stops between 0 and full.
SLOW_AND_SMALL = {
    "initial_sync_batch_size": 20,
    "initial_sync_page_size": 20,
    "initial_sync_max_in_flight": 1,
}
# Seconds Mailchimp's sandbox spends on each operation of a batch (about 1 s a batch).
OPERATION_LATENCY = 0.05


@pytest.fixture(scope="module")
def history(live_site: LiveSite) -> Iterator[None]:
    """Connected, the sales channel tracked, tracking on, and Saleor with a history to send."""
    saleor = live_site.stack.saleor
    with app_api(live_site) as api:
        connection = eventually(lambda: (r := api.get("/api/connection")).is_success and r)
        if connection.json()["status"] != "connected":
            response = api.post(
                "/api/connection/api-key", json={"api_key": live_site.stack.demo_account.api_key}
            )
            assert response.status_code == 200, response.text
        saleor.store.default_channel()
        data = api.get("/api/ecommerce").json()
        [channel] = [c for c in data["channels"] if c["slug"] == CHANNEL]
        if not channel["tracked"]:  # this module alone; after the E-commerce test it is
            shop = Newsletter(live_site)
            list_id = channel["list_id"] or shop.new_list("Initial sync shoppers")
            shop.import_now()
            body = {"tracked": True, "list_id": list_id}
            response = api.put(f"/api/ecommerce/channels/{CHANNEL}", json=body)
            assert response.status_code == 200, response.text
        if not data["settings"]["tracking_enabled"]:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": True})
            assert response.status_code == 200, response.text
    generate_store(saleor.store, products=60, customers=100, orders=140, seed=2024)
    services = live_site.services
    settings = services.settings
    services.settings = settings.model_copy(update=SLOW_AND_SMALL)
    try:
        yield
    finally:
        services.settings = settings


@pytest.fixture
def mailchimp(live_site: LiveSite) -> Iterator[Any]:
    """The Mailchimp sandbox; whatever a test does to its batches is undone after it."""
    sandbox = live_site.stack.mailchimp
    latency, paused = sandbox.batch_operation_latency, sandbox.batches_paused
    try:
        yield sandbox
    finally:
        sandbox.batch_operation_latency, sandbox.batches_paused = latency, paused


def sync_of(app: FrameLocator) -> Locator:
    channel = app.get_by_role("article", name="Default Channel")
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
        page.wait_for_timeout(2500)
        assert len(polls) == quiet, "the hidden page kept polling"
        set_hidden(app, False)
        await_polls(page, polls, quiet, seconds=3)

        # The other admin presses Start too: the page says one runs and shows it.
        elsewhere_sync = sync_of(elsewhere)
        elsewhere_sync.get_by_role("button", name=START).click()
        note = elsewhere_sync.get_by_role("alert")
        expect(note).to_contain_text(f"An initial sync of channel '{CHANNEL}' is running already.")
        expect(elsewhere_sync.locator(".badge")).to_have_text("Running")
        expect(elsewhere_sync.get_by_role("button", name=CANCEL)).to_be_visible()
        shot(other, artifacts, "initial-sync-already-running-light", height=1700)

        # Cancel: the outcome replaces the progress; a new sync may start.
        cancel.click()
        said(app, "Initial sync cancelled")
        expect(sync.locator(".badge")).to_have_text("Cancelled")
        expect(sync.locator("[data-sync-status]")).to_contain_text(
            "The last initial sync was cancelled"
        )
        expect(sync.get_by_role("button", name=START)).to_be_visible()
        expect(cancel).to_be_hidden()
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
        # Sending paused store-wide ends the running sync: it failed, and the page says why
        # (inline, where the sync is shown).
        with app_api(live_site) as api:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": False})
            assert response.status_code == 200, response.text
        expect(sync.locator(".badge")).to_have_text("Failed")
        expect(sync.locator("[data-sync-status]")).to_contain_text("The last initial sync failed")
        error = latest(live_site)["error"]
        assert error and "tracking" in error, error
        expect(sync.locator("[data-sync-error]")).to_contain_text(error)
        # While paused, the card's one next step is to resume: no Start beside it.
        app.get_by_role("button", name="Refresh", exact=True).click()
        channel = app.get_by_role("article", name="Default Channel")
        expect(channel.get_by_role("button", name="Resume sending")).to_be_visible()
        expect(sync.get_by_role("button", name=START)).to_be_hidden()
        expect(sync.locator("[data-sync-error]")).to_contain_text(error)
        shot(page, artifacts, "initial-sync-failed-light", height=1700)
    finally:
        with app_api(live_site) as api:
            response = api.patch("/api/ecommerce/settings", json={"tracking_enabled": True})
            assert response.status_code == 200, response.text


def test_start_watch_the_bars_move_and_fill(
    page: Page, live_site: LiveSite, history: None, mailchimp: Any, artifacts: Path
) -> None:
    mailchimp.batch_operation_latency = OPERATION_LATENCY
    app = open_page(page, live_site, "E-commerce")
    sync = sync_of(app)
    expect(sync.locator("[data-sync-status]")).not_to_have_text("Loading…")
    expect(sync.get_by_label("Only orders since")).to_have_value("")
    sync.get_by_role("button", name=START).click()
    said(app, "Initial sync started")
    expect(sync.locator(".badge")).to_have_text("Running")

    # Watch the page as the batches come back: every bar stops somewhere between 0 and full.
    between: set[str] = set()
    texts: set[str] = set()
    shots = False
    deadline = time.monotonic() + 120
    while sync.locator(".badge").text_content() == "Running":
        assert time.monotonic() < deadline, f"still running; seen between 0 and full: {between}"
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
        time.sleep(0.1)
    assert between == set(KINDS), f"bars seen between 0 and full: {between}"
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
    # Over: the page stops asking (after the one read of the page's refresh at the end).
    polls = polls_of(page)
    page.wait_for_timeout(1000)
    quiet = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == quiet <= 1, polls
    shot(page, artifacts, "initial-sync-done-light", height=1700)
    switch_theme(page, app, "dark")
    shot(page, artifacts, "initial-sync-done-dark", height=1700)
    switch_theme(page, app, "light")
