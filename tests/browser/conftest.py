"""A live dev stack (the app with both sandboxes, on SQLite) and one Chromium for the session.

Every test opens the sandbox dashboard in a fresh browser context, as a store admin would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from addon.config import load_settings
from addon.db.engine import Database
from addon.jobs.repository import JobRepository
from addon.services import Services
from sandboxes.devstack import DevStack, create_dev_app
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
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
