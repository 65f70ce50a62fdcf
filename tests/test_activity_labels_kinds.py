"""Every kind of job the app enqueues is named in plain words on the Activity page: a row whose
payload names no record says what the job is about, not only which part of the app handles it
("E-commerce sync", "Initial sync"). A new kind registered without a label fails here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from addon.activity.rows import (
    KIND_SUBJECTS,
    WEBHOOK_PREFIX,
    Context,
    handled_by,
    subject,
    waiting,
)
from addon.capabilities import create_services
from addon.config import Settings
from addon.jobs.models import Job, JobStatus


def _subject(kind: str, payload: dict[str, Any] | None = None) -> str:
    job = Job(installation_id=1, kind=kind, payload=payload or {})
    return subject(job, Context(now=datetime.now(UTC)))


def test_every_registered_job_kind_has_a_plain_language_subject(settings: Settings) -> None:
    kinds = create_services(settings).handlers.kinds()
    assert "ecommerce.promos_resync" in kinds  # the registry was read, not an empty one
    unlabelled = [
        kind for kind in kinds if not kind.startswith(WEBHOOK_PREFIX) and kind not in KIND_SUBJECTS
    ]
    assert unlabelled == [], f"job kinds without a label in KIND_SUBJECTS: {unlabelled}"
    for kind in kinds:
        text = _subject(kind)
        assert text, kind
        # Not only the area, which the row shows beside the subject anyway.
        assert text != handled_by(kind), kind


def test_the_jobs_the_walkthrough_met_say_what_they_do() -> None:
    assert _subject("ecommerce.promos_resync") == (
        "All vouchers, sent to Mailchimp again as promo codes"
    )
    assert _subject("subscriptions.refresh_profiles", {"list_id": "abc"}) == (
        "Contact fields of every subscriber, sent again after the field mapping was saved"
    )
    assert _subject("initial_sync.watchdog", {"sync_id": 3}) == (
        "Initial sync: check that it is still making progress"
    )
    assert handled_by("installation.check") == "App lifecycle"


def test_a_payload_that_names_more_still_wins_over_the_kind_label() -> None:
    assert _subject("subscriptions.apply", {"email": "ann@example.com"}) == (
        "Subscription of ann@example.com"
    )
    assert _subject("subscriptions.apply", {}) == "A newsletter subscription change"


def test_the_initial_sync_watchdog_waiting_says_it_only_checks() -> None:
    now = datetime(2026, 12, 6, 6, 20, tzinfo=UTC)
    job = Job(
        id=7,
        installation_id=1,
        kind="initial_sync.watchdog",
        payload={"sync_id": 3},
        status=JobStatus.PENDING,
        attempts=0,
        run_after=now + timedelta(minutes=28),
    )
    found = waiting(job, Context(now=now))
    assert found is not None
    assert found.message == (
        "Scheduled for 06:48 UTC: checks then that the initial sync is still making progress; "
        "nothing to do if it has ended."
    )
