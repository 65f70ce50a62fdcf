"""The Connection page when another Mailchimp account is pasted while an erasure still waits for
the one connected before: the server's refusal in plain words (its code behind the Details
toggle), and connecting anyway only once confirmed."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from addon.connection.reconnect import NOT_DONE_SWITCHED
from addon.db.engine import Database
from addon.db.types import utcnow
from addon.erasure.jobs import ERASE_JOB, ERASED_NOTE
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    app_frame,
    check_a11y,
    connect_with_key,
    ensure_disconnected,
    open_app,
    shot,
    toast,
)


def _in_database(live_site: LiveSite, work: Any) -> Any:
    """Run `work(session)` in a transaction of the live site's database (beside Playwright's
    event loop, which this thread keeps)."""

    async def run() -> Any:
        database = Database(live_site.database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _waiting_erasure(live_site: LiveSite) -> int:
    """An erasure waiting for the connected account (due tomorrow: the worker leaves it)."""

    async def add(session: Any) -> int:
        installation = (await session.execute(select(Installation.id))).scalar_one()
        job_id = await JobRepository(session).enqueue(
            installation,
            ERASE_JOB,
            {"email": "ann@example.com", "source": "panel"},
            run_after=utcnow() + timedelta(days=1),
        )
        assert job_id is not None
        return int(job_id)

    return int(_in_database(live_site, add))


def _note_when_done(live_site: LiveSite, job_id: int) -> str | None:
    async def read(session: Any) -> tuple[JobStatus, str | None]:
        job = await session.get(Job, job_id)
        note = await session.scalar(select(Job.last_error).where(Job.kind == ERASED_NOTE))
        return job.status, note

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, note = _in_database(live_site, read)
        if status is JobStatus.DONE:
            return note  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError("the erasure did not end")


def test_another_account_while_an_erasure_waits_is_connected_only_once_confirmed(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    demo = live_site.stack.demo_account
    other = live_site.stack.mailchimp.create_account("Other Shop", "boss@other.example")
    app = open_app(page, live_site.dashboard)
    connect_with_key(app, demo.api_key)
    job_id = _waiting_erasure(live_site)
    ensure_disconnected(app)

    key = app.get_by_label("Paste an API key")
    key.fill(other.api_key)
    app.get_by_role("button", name="Connect with API key").click()
    owed = app.locator('[data-notice="owed"]')
    expect(owed).to_contain_text("Work still waits for the previous Mailchimp account")
    expect(owed).to_contain_text("1 erasure still waits for Demo Store")
    expect(owed).to_contain_text("Reconnect Demo Store to let it finish")
    # Keyboard users go on from the offer; the key is fine: no field error.
    anyway = owed.get_by_role("button", name="Connect with this key anyway…")
    expect(anyway).to_be_focused()
    expect(app.locator("#api-key-error")).to_have_text("")
    # The code only behind the toggle.
    technical = owed.locator("details")
    expect(technical.locator("pre")).to_be_hidden()
    technical.locator("summary").click()
    expect(technical.locator("pre")).to_contain_text("OWED_TO_PREVIOUS_ACCOUNT")
    shot(page, artifacts, "connection-owed-light")
    check_a11y(app_frame(page), "the Connection page saying work still waits")

    # Cancel keeps everything as it was.
    anyway.click()
    dialog = app.get_by_role("dialog", name="Connect the other account anyway?")
    expect(dialog).to_contain_text("will not be done there")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(app.get_by_role("heading", name="Connect Mailchimp")).to_be_visible()

    anyway.click()
    dialog.get_by_role("button", name="Connect anyway").click()
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-account")).to_contain_text("Other Shop")
    toast(page, "Mailchimp connected")
    expect(owed).to_have_count(0)
    note = _note_when_done(live_site, job_id)
    assert note is not None and note.startswith(NOT_DONE_SWITCHED)

    # Back to the demo account for the other tests (nothing waits any more).
    ensure_disconnected(app)
    connect_with_key(app, demo.api_key)
    expect(app.locator("#fact-account")).to_contain_text("Demo Store")
