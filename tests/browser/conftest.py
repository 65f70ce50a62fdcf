"""A live dev stack (the app with both sandboxes, on SQLite) and one Chromium for the session.

Every test opens the sandbox dashboard in a fresh browser context, as a store admin would. The
demo account's audiences (`newsletter`) and collected engagement (`seeded`) are made here for the
modules that share them; `shot` takes the whole app page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import and_, delete, or_, select

from addon.audiences.service import IMPORT_JOB, IMPORTED_KIND
from addon.config import load_settings
from addon.db.engine import Database
from addon.db.types import utcnow
from addon.engagement.jobs import COLLECT_JOB
from addon.engagement.models import RunState
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.services import Services
from sandboxes.devstack import DevStack, create_dev_app
from tests.browser.pages import Newsletter, app_api, connect_demo, eventually, in_thread
from tests.engagement.seeding import MODELS, Purchase, seed
from tests.livesite import free_port, serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EXPECT_TIMEOUT_MS = 20_000  # Playwright's default is 5 s
ACTION_TIMEOUT_MS = 30_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveSite:
    url: str
    stack: DevStack
    services: Services
    database_url: str

    @property
    def dashboard(self) -> str:
        return self.stack.dashboard_url

    def enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        """Add a job for the installed app, as a capability would."""

        async def add() -> int:
            database = Database(self.database_url)
            try:
                async with database.transaction() as session:
                    from sqlalchemy import select

                    from addon.installations.models import Installation

                    installation = (await session.execute(select(Installation.id))).scalar_one()
                    job_id = await JobRepository(session).enqueue(installation, kind, payload)
                    assert job_id is not None
                    return job_id
            finally:
                await database.dispose()

        # Playwright's sync API keeps an event loop in this thread: run beside it.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, add()).result()


# Package scope: Playwright's sync API marks an event loop as running in this thread while it
# is open, which would break every asyncio test collected after this package.
@pytest.fixture(scope="package")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    tmp = tmp_path_factory.mktemp("live")
    port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp / 'dev.db'}"
    settings = load_settings(
        _env_file=None,
        app_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        secret_key_file=tmp / ".secret_key",
        worker_poll_interval_seconds=0.1,
        worker_max_attempts=1,
        # A page shows the outcome of an outage once: not a retry an hour later.
        worker_outage_max_attempts=0,
        # Mailchimp's refusals retried within tenths of a second: a page shows the outcome of
        # an outage without waiting out seconds of backoff.
        mailchimp_backoff_base_seconds=0.05,
        mailchimp_backoff_max_seconds=0.4,
        # An initial sync asks Mailchimp about its batches often, so a page sees it move.
        initial_sync_poll_base_seconds=0.2,
        initial_sync_poll_max_seconds=0.5,
    )
    app = create_dev_app(settings)
    stack: DevStack = app.state.devstack
    with serve_in_thread(app, port):
        deadline = time.monotonic() + 20
        while not stack.saleor.store.apps:
            if time.monotonic() > deadline:
                raise RuntimeError("the dev stack did not install the app")
            time.sleep(0.05)
        yield LiveSite(settings.app_url, stack, app.state.services, database_url)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Generous waits: a loaded machine (pytest-xdist runs another worker beside this one) makes
    # pages slow, never wrong; a wait that succeeds ends as soon as its condition holds.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    yield page
    # A page still polling at the test's end can have a stubbed answer on its way (a route
    # handler inside `route.fetch()`): closing the context under it raised in the next test's
    # set-up. Routes are let go first, their handlers' errors ignored.
    page.unroute_all(behavior="ignoreErrors")
    context.unroute_all(behavior="ignoreErrors")
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# Package scope: the audiences are made once on the stack, for every module that uses them (made
# again for each, the Audiences page would show each of them twice).
@pytest.fixture(scope="package")
def newsletter(live_site: LiveSite) -> Iterator[Newsletter]:
    shop = Newsletter(live_site)
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    fruit = shop.new_list("Fruit lovers")
    shop.new_group(fruit, "Topics", "checkboxes", "Apples", "Pears")
    shop.new_group(fruit, "Frequency", "radio", "Weekly", "Monthly")
    shop.new_list("Veggie club")
    shop.import_now()
    yield shop


def shot(page: Page, artifacts: Path, name: str, *, height: int = 1900) -> None:
    """The whole app page: the dashboard's frame grows with a tall window."""
    page.evaluate("document.getElementById('toasts').replaceChildren()")
    page.set_viewport_size({"width": 1280, "height": height})
    page.screenshot(path=str(artifacts / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 860})


# Engagement as the collector writes it (tests/browser/test_reports_page.py,
# test_customer_panel_page.py): the customer at `EMAIL` read three campaigns and bought.
EMAIL = "engaged.reader@example.com"


@dataclass
class Seeded:
    now: datetime
    customer_id: str
    finished: datetime


# What the seeded campaigns share where it differs from `CAMPAIGN_DEFAULTS`.
STORE_NEWS: dict[str, Any] = {
    "list_id": "news",
    "list_name": "Store news",
    "unique_opens": 0,
    "unique_clicks": 0,
    "bounces": 0,
}


# Jobs whose run would overwrite the seeded rows: a collection (connecting the account imports
# the audiences, whose import starts one; a previous test's "Sync engagement now" queues one).
COLLECTING = (COLLECT_JOB, IMPORT_JOB, IMPORTED_KIND)


async def _quiet(database: Database) -> None:
    """Wait until no collection runs or is due, then drop the pending ones (the hourly
    schedule's), so none rewrites the seeded rows while a test looks at them."""
    busy = (
        select(Job.id)
        .where(
            Job.kind.in_(COLLECTING),
            or_(
                Job.status == JobStatus.RUNNING,
                and_(Job.status == JobStatus.PENDING, Job.run_after <= utcnow()),
            ),
        )
        .limit(1)
    )
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        async with database.session() as session:
            if (await session.execute(busy)).first() is None:
                break
        assert asyncio.get_running_loop().time() < deadline, "a collection never ended"
        await asyncio.sleep(0.1)  # a real worker in another thread: polled, with a bound
    async with database.transaction() as session:
        await session.execute(
            delete(Job).where(Job.kind == COLLECT_JOB, Job.status == JobStatus.PENDING)
        )


async def _seed(database_url: str, customer_id: str, now: datetime) -> None:
    database = Database(database_url)
    try:
        await _quiet(database)
        async with database.transaction() as session:
            installation_id = (await session.execute(select(Installation.id))).scalar_one()
            for model in MODELS:
                await session.execute(delete(model))
            day = timedelta(days=1)
            await seed(
                session,
                installation_id,
                settings=dict(
                    state=RunState.IDLE,
                    last_started_at=now - timedelta(hours=1, minutes=1),
                    last_finished_at=now - timedelta(hours=1),
                    next_run_at=now + timedelta(minutes=1),
                    campaigns_total=3,
                    campaigns_done=3,
                    members_seen=3,
                    list_cursors={},
                ),
                campaigns=[
                    dict(
                        STORE_NEWS,
                        campaign_id="c-summer",
                        title="Summer sale",
                        sent_at=now - 5 * day,
                        recipients=1000,
                        opens=600,
                        open_rate=0.45,
                        clicks=120,
                        click_rate=0.09,
                        unsubscribes=4,
                        orders=12,
                        revenue_cents=123456,
                    ),
                    dict(
                        STORE_NEWS,
                        campaign_id="c-news",
                        title="May newsletter",
                        sent_at=now - 20 * day,
                        recipients=800,
                        opens=300,
                        open_rate=0.30,
                        clicks=40,
                        click_rate=0.05,
                        unsubscribes=9,
                        orders=2,
                        revenue_cents=9900,
                    ),
                    dict(
                        STORE_NEWS,
                        campaign_id="c-old",
                        title="April picks",
                        sent_at=now - 50 * day,
                        recipients=500,
                        opens=100,
                        open_rate=0.18,
                        clicks=10,
                        click_rate=0.02,
                        unsubscribes=1,
                        orders=0,
                        revenue_cents=0,
                        currency=None,
                    ),
                ],
                days=[
                    (campaign, (now - back * day).date(), opens, clicks)
                    for back, campaign, opens, clicks in [
                        (5, "c-summer", 400, 80),
                        (4, "c-summer", 150, 30),
                        (20, "c-news", 250, 30),
                        (18, "c-news", 50, 10),
                        (50, "c-old", 100, 10),
                    ]
                ],
                members=[
                    dict(  # the reader who bought
                        email_hash="1" * 32,
                        saleor_user_id=customer_id,
                        campaigns_received=2,
                        opens=5,
                        clicks=2,
                        last_open=now - 4 * day,
                        last_click=now - 4 * day,
                        member_rating=4,
                        tags={"news": ["vip"]},
                        recent_campaigns=["c-summer", "c-news"],
                    ),
                    dict(
                        email_hash="2" * 32,
                        saleor_user_id="VXNlcjo5OTk5",
                        campaigns_received=1,
                        opens=0,
                        clicks=0,
                        tags={},
                        recent_campaigns=["c-old"],
                    ),
                    dict(  # a guest
                        email_hash="3" * 32,
                        saleor_user_id=None,
                        campaigns_received=1,
                        opens=1,
                        clicks=0,
                        last_open=now - 2 * day,
                        tags={},
                        recent_campaigns=["c-summer"],
                    ),
                ],
                purchase=Purchase(
                    campaign_id="c-summer",
                    opens=4,
                    clicks=2,
                    store_id="default-channel",
                    order_id="1042",
                    total_cents=8950,
                    currency="USD",
                    ordered_at=now - 4 * day,
                ),
            )
    finally:
        await database.dispose()


async def _forget(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            for model in MODELS:
                await session.execute(delete(model))
    finally:
        await database.dispose()


@pytest.fixture
def seeded(live_site: LiveSite) -> Iterator[Seeded]:
    """A connected store with three collected campaigns and one customer who bought."""
    with app_api(live_site) as api:

        def answered() -> httpx.Response | None:
            response = api.get("/api/connection")  # the app is installed in the background
            return response if response.is_success else None

        if eventually(answered).json()["status"] != "connected":
            key = live_site.stack.demo_account.api_key
            assert api.post("/api/connection/api-key", json={"api_key": key}).is_success
    store = live_site.stack.saleor.store
    customer = store.find_customer_by_email(EMAIL) or store.create_customer(
        EMAIL, first_name="Enga", last_name="Ged"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    in_thread(lambda: _seed(live_site.database_url, customer.global_id, now))
    yield Seeded(now=now, customer_id=customer.global_id, finished=now - timedelta(hours=1))
    in_thread(lambda: _forget(live_site.database_url))
