"""Migrations keep what a running store has (SQLite: the embedded default, foreign keys on)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text

from addon.db.engine import Database
from addon.db.migrations import alembic_config, current_revisions, head_revisions, upgrade
from tests.migration_rows import NOW, installed_at


async def test_0007_keeps_a_running_syncs_batches_and_position(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def to_0006(connection: Connection) -> None:
        installed_at(connection, "0006")
        connection.execute(
            text(
                "INSERT INTO initial_syncs (id, installation_id, channel_slug, active_channel,"
                " status, phase, cursor, phase_read, store_flagged, progress, started_at,"
                " last_progress_at) VALUES (1, 1, 'c', 'c', 'running', 'customers', 'CURSOR', 0,"
                " 1, '{}', :now, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO initial_sync_batches (installation_id, sync_id, kind,"
                " mailchimp_batch_id, status, operations, read_at, submitted_at, polls)"
                " VALUES (1, 1, 'customer', 'b1', 'submitted', '{}', :now, :now, 0)"
            ),
            {"now": NOW},
        )

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0006)
        await upgrade(database.engine)
        async with database.engine.connect() as connection:
            batches = (
                await connection.execute(
                    text("SELECT mailchimp_batch_id, attempt FROM initial_sync_batches")
                )
            ).all()
            streams = (
                await connection.execute(text("SELECT streams FROM initial_syncs"))
            ).scalar_one()
        async with database.engine.begin() as connection:
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0006"))
            kept = (
                await connection.execute(text("SELECT count(*) FROM initial_sync_batches"))
            ).scalar_one()
    finally:
        await database.dispose()
    assert [tuple(row) for row in batches] == [("b1", 1)]
    assert kept == 1  # and back down, still there
    if isinstance(streams, str):
        streams = json.loads(streams)
    assert streams == {
        "product": {"cursor": None, "done": True},
        "customer": {"cursor": "CURSOR", "done": False},
        "order": {"cursor": None, "done": False},
    }


def test_the_migrations_have_a_single_head() -> None:
    """Side-by-side schema changes are merged, so there is one newest schema to upgrade to."""
    assert head_revisions() == {"0061_type_tax_class"}


async def test_0023_gives_every_job_no_lapses_and_goes_back_down(tmp_path: Path) -> None:
    """Jobs stored before it (a running one too) have had no run end without an outcome."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def to_0022(connection: Connection) -> None:
        installed_at(connection, "0022_pushes_due")
        connection.execute(
            text(
                "INSERT INTO jobs (installation_id, kind, payload, status, attempts, run_after,"
                " locked_by, locked_until, created_at, updated_at) VALUES (1, 'a.kind', '{}',"
                " 'running', 2, :now, 'w', :now, :now, :now)"
            ),
            {"now": NOW},
        )
        command.upgrade(alembic_config(connection), "0023_job_lapses")

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0022)
            up = (await connection.execute(text("SELECT attempts, lapses FROM jobs"))).one()
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), "0022_pushes_due")
            )
            down = (await connection.execute(text("SELECT * FROM jobs"))).mappings().one()
    finally:
        await database.dispose()
    assert tuple(up) == (2, 0)
    assert down["attempts"] == 2 and "lapses" not in down


async def test_a_current_schema_is_not_migrated_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every start upgrades: a schema already at the head costs one query, not Alembic's
    upgrade (which loads every migration module); one behind is still brought up to it."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    upgrades: list[str] = []
    real_upgrade = command.upgrade

    def counted(config: Any, revision: str) -> None:
        upgrades.append(revision)
        real_upgrade(config, revision)

    monkeypatch.setattr(command, "upgrade", counted)
    try:
        await upgrade(database.engine)  # a new database
        await upgrade(database.engine)  # current
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), "0026_held_contacts")
            )
        await upgrade(database.engine)  # one behind
        assert await current_revisions(database.engine) == head_revisions()
    finally:
        await database.dispose()
    assert upgrades == ["heads", "heads"]


async def test_0028_marks_contacts_with_a_mailchimp_change_pending(tmp_path: Path) -> None:
    """A customer update held back before it (a Mailchimp change pending) goes once that
    change is applied: such contacts are marked; contacts in step are not."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    contact = text(
        "INSERT INTO contact_states (installation_id, list_id, email, status, interests, tags,"
        " data_tags, marketing_permissions, mailchimp_changed_at, synced_at, updated_at)"
        " VALUES (1, 'l1', :email, 'subscribed', '[]', '[]', '[]', '[]', :changed, :synced,"
        " :now)"
    )
    later = "2026-12-03 12:00:00+00:00"  # as NOW is stored

    def to_0027(connection: Connection) -> None:
        installed_at(connection, "0027_engagement_run_holder")
        for email, changed, synced in (
            ("pending@x.example", later, NOW),
            ("never@x.example", later, None),
            ("in-step@x.example", NOW, later),
            ("untouched@x.example", None, later),
        ):
            values = {"email": email, "changed": changed, "synced": synced, "now": NOW}
            connection.execute(contact, values)
        command.upgrade(alembic_config(connection), "0028_profile_held_back")

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0027)
            rows = await connection.execute(
                text("SELECT email FROM contact_states WHERE profile_held_back ORDER BY email")
            )
            marked = [email for (email,) in rows]
    finally:
        await database.dispose()
    assert marked == ["never@x.example", "pending@x.example"]


# A job of installation 1 (0023 and later), as stored by an earlier version.
JOB_ROW = text(
    "INSERT INTO jobs (installation_id, kind, payload, status, attempts, lapses, run_after,"
    " created_at, updated_at) VALUES (1, :kind, '{}', :status, 0, 0, :now, :now, :now)"
)


async def test_0029_leaves_installations_unread_and_takes_its_jobs_back_down(
    tmp_path: Path,
) -> None:
    """Installations made before have their webhooks read at the next check (nothing known of
    them yet); going back down drops the upkeep's jobs, which no earlier version handles, and
    keeps the installation and its other jobs."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def to_0029(connection: Connection) -> None:
        installed_at(connection, "0028_profile_held_back")
        connection.execute(JOB_ROW, {"kind": "installation.check", "status": "pending", "now": NOW})
        command.upgrade(alembic_config(connection), "0029_webhooks_state")
        connection.execute(
            JOB_ROW, {"kind": "installation.webhooks", "status": "pending", "now": NOW}
        )

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0029)
            up = (
                await connection.execute(
                    text("SELECT webhooks_checked_at, webhooks_paused FROM installations")
                )
            ).one()
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), "0028_profile_held_back")
            )
            kinds = [kind for (kind,) in await connection.execute(text("SELECT kind FROM jobs"))]
            installations = (
                await connection.execute(text("SELECT count(*) FROM installations"))
            ).scalar_one()
    finally:
        await database.dispose()
    assert tuple(up) == (None, None)
    assert kinds == ["installation.check"] and installations == 1


async def test_0030_replaces_the_old_kinds_pending_upkeep_and_goes_back_down(
    tmp_path: Path,
) -> None:
    """An upkeep of the old kind ran in no lane: a pending one goes, as the first start after
    the migration queues the upkeep of every installation (none has a fingerprint yet); one
    running or quarantined joins the upkeep's lane."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def to_0030(connection: Connection) -> None:
        installed_at(connection, "0029_webhooks_state")
        for kind, status in [
            ("installation.saleor_version_known", "pending"),
            ("installation.saleor_version_known", "running"),
            ("installation.saleor_version_known", "quarantined"),
            ("installation.check", "pending"),
        ]:
            connection.execute(JOB_ROW, {"kind": kind, "status": status, "now": NOW})
        command.upgrade(alembic_config(connection), "0030_webhooks_digest")

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0030)
            digest = (
                await connection.execute(text("SELECT webhooks_digest FROM installations"))
            ).scalar_one()
            jobs = (await connection.execute(text("SELECT kind, status, lane FROM jobs"))).all()
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), "0029_webhooks_state")
            )
            columns = (await connection.execute(text("SELECT * FROM installations"))).keys()
    finally:
        await database.dispose()
    assert digest is None
    lane = "installation.webhooks"
    assert sorted(map(tuple, jobs)) == [
        ("installation.check", "pending", None),
        ("installation.saleor_version_known", "quarantined", lane),
        ("installation.saleor_version_known", "running", lane),
    ]
    assert "webhooks_digest" not in columns


async def test_0037_dates_the_missed_deliveries_of_paused_installations(tmp_path: Path) -> None:
    """An active installation's last accepted check is when it last knew its token accepted (two
    hours before a refusal still to be confirmed); a paused one's missed deliveries date from
    its pause (the webhook's time, or two hours before a check noticed it); going back down
    drops the replay's jobs."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    paused = text(
        "INSERT INTO installations (id, saleor_api_url, saleor_domain, app_id, app_token, jwks,"
        " jwks_fetched_at, is_active, status_changed_at, status_noticed_by, installed_at,"
        " updated_at) VALUES (:id, :url, 'shop.example', 'QXBwOjE=', 'x', '{}', :now, 0,"
        " '2026-01-02 10:00:00', :noticed, :now, :now)"
    )

    def to_0037(connection: Connection) -> None:
        installed_at(connection, "0036_initial_sync_handoffs")
        connection.execute(text("UPDATE installations SET checked_at = '2026-01-03 08:00:00'"))
        for id_, noticed in ((2, "webhook"), (3, "periodic_check")):
            url = f"https://shop{id_}.example/graphql/"
            connection.execute(paused, {"id": id_, "url": url, "noticed": noticed, "now": NOW})
        connection.execute(
            paused, {"id": 4, "url": "https://shop4.example/", "noticed": None, "now": NOW}
        )
        connection.execute(
            text(
                "UPDATE installations SET is_active = 1, token_refused_at = '2026-01-03 09:00:00'"
                " WHERE id = 4"
            )
        )
        command.upgrade(alembic_config(connection), "0037_missed_deliveries")
        connection.execute(
            JOB_ROW, {"kind": "installation.missed", "status": "pending", "now": NOW}
        )

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0037)
            rows = (
                await connection.execute(
                    text(
                        "SELECT id, token_accepted_at, missed_since FROM installations ORDER BY id"
                    )
                )
            ).all()
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), "0036_initial_sync_handoffs")
            )
            kinds = [kind for (kind,) in await connection.execute(text("SELECT kind FROM jobs"))]
    finally:
        await database.dispose()
    assert [tuple(row) for row in rows] == [
        (1, "2026-01-03 08:00:00.000000", None),
        (2, None, "2026-01-02 10:00:00.000000"),
        (3, None, "2026-01-02 08:00:00.000000"),
        (4, "2026-01-03 07:00:00.000000", None),  # a refusal unconfirmed: accepted before it
    ]
    assert kinds == []


async def test_0040_gives_a_database_past_0038_the_missed_creations(tmp_path: Path) -> None:
    """0037 and 0038 had been applied where `missed_creations` came later (it was first added to
    0037): its own revision brings it to such a database, and takes it away going back down."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def columns(connection: Connection) -> set[str]:
        rows = connection.execute(text("PRAGMA table_info(installations)")).all()
        return {row[1] for row in rows}

    def walk(connection: Connection) -> list[bool]:
        installed_at(connection, "0039_catalog_revision")
        seen = ["missed_creations" in columns(connection)]
        command.upgrade(alembic_config(connection), "0040_missed_creations")
        connection.execute(text("UPDATE installations SET missed_creations = '[]' WHERE id = 1"))
        seen.append("missed_creations" in columns(connection))
        command.downgrade(alembic_config(connection), "0039_catalog_revision")
        return [*seen, "missed_creations" in columns(connection)]

    try:
        async with database.engine.begin() as connection:
            seen = await connection.run_sync(walk)
    finally:
        await database.dispose()
    assert seen == [False, True, False]


async def test_0042_dates_the_leaving_of_contacts_that_left_before_it(tmp_path: Path) -> None:
    """Not known before 0042, a contact's leaving takes the row's last update: the latest it
    can have been (a consent given before it does not bring them back)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    contact = text(
        "INSERT INTO contact_states (installation_id, list_id, email, status, interests, tags,"
        " data_tags, marketing_permissions, updated_at, profile_held_back)"
        " VALUES (1, 'l1', :email, :status, '[]', '[]', '[]', '[]', :now, false)"
    )

    def to_0041(connection: Connection) -> None:
        installed_at(connection, "0041_store_channel")
        for status in ("subscribed", "unsubscribed", "cleaned", "archived", "pending"):
            values = {"email": f"{status}@x.example", "status": status, "now": NOW}
            connection.execute(contact, values)
        command.upgrade(alembic_config(connection), "0042_contact_withdrawn_at")

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0041)
            rows = await connection.execute(
                text("SELECT status FROM contact_states WHERE withdrawn_at = updated_at")
            )
            dated = sorted(status for (status,) in rows)
    finally:
        await database.dispose()
    assert dated == ["archived", "cleaned", "unsubscribed"]
