"""What Saleor did not deliver while the app was deactivated is replayed once it is activated
again, however the pause was noticed (addon/installations/missed.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from addon.clock import ManualClock
from addon.installations import replay
from addon.installations.missed_queue import MISSED_JOB
from addon.installations.models import Installation, LifecycleSignal
from addon.installations.replay import handled_definitions
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job
from addon.jobs.schemas import ClaimedJob
from addon.saleor.client import SaleorError
from addon.services import Services
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests.conftest import APP_URL
from tests.ecommerce.conftest import Shop, shop  # noqa: F401
from tests.test_saleor_versions import (  # noqa: F401
    CONFIRM,
    INTERVAL,
    legacy,
    lifecycle_settings,
    pass_time,
    saleor,
    stored,
)


def _mailchimp_customer_ids(shop: Shop) -> set[str]:  # noqa: F811
    return {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)}


async def _replayed(services: Services) -> list[Job]:
    async with services.db.session() as session:
        jobs = (await session.execute(select(Job).order_by(Job.id))).scalars()
        return [job for job in jobs if job.payload.get("replayed")]


async def test_changes_made_while_deactivated_are_replayed_on_every_version(
    shop: Shop,  # noqa: F811
    saleor: SaleorSandbox,  # noqa: F811
    clock: ManualClock,
) -> None:
    services = shop.services
    product = await shop.product("Plum", "4.00")
    await shop.drain()
    before = await stored(services)
    assert before is not None and before.token_accepted_at is not None
    accepted = before.token_accepted_at  # at the installation
    # The sandbox dates Saleor's changes by the machine's clock, the app's checks by the test's:
    # the changes come before the test's clock moves, as Saleor's and the app's clocks agree.
    await saleor.set_app_active(shop.app, False)  # appDeactivate
    await saleor.update_product(product, name="Damson")
    customer = await saleor.create_customer("ann@example.com", "Ann", "Lee")
    await pass_time(services, clock, INTERVAL)
    await pass_time(services, clock, CONFIRM)
    paused = await stored(services)
    assert paused is not None and not paused.is_active and paused.missed_since is not None
    if legacy(saleor):  # noticed by the checks: since the last one that found the app active
        assert paused.status_noticed_by is LifecycleSignal.PERIODIC_CHECK
        assert paused.missed_since == accepted
    else:  # the webhook says when
        assert paused.status_noticed_by is LifecycleSignal.WEBHOOK
        assert accepted < paused.missed_since < accepted + timedelta(seconds=INTERVAL)
    assert shop.products()[str(product.id)].title == "Plum"

    await saleor.set_app_active(shop.app, True)  # appActivate
    await pass_time(services, clock, INTERVAL)  # where no webhook says so, a check notices
    await shop.drain()
    resumed = await stored(services)
    assert resumed is not None and resumed.is_active and resumed.missed_since is None
    assert shop.products()[str(product.id)].title == "Damson"
    customers = {c.id: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers[str(customer.id)].email_address == "ann@example.com"
    replayed = {(job.kind, job.payload["event"]) for job in await _replayed(services)}
    assert (webhook_job_kind("ecommerce-customers"), "CUSTOMER_CREATED") in replayed
    assert (webhook_job_kind("subscriptions-customer-created"), "CUSTOMER_CREATED") in replayed

    activity = (await shop.api("GET", "/api/activity")).json()
    summaries = {item["summary"] for item in activity["items"]}
    assert "Webhook CUSTOMER_CREATED (replayed)" in summaries

    # Caught up once: the next checks find the app active and queue nothing more.
    await pass_time(services, clock, INTERVAL)
    await pass_time(services, clock, INTERVAL)
    async with services.db.session() as session:
        missed = (await session.execute(select(Job).where(Job.kind == MISSED_JOB))).scalars()
        assert len(list(missed)) == 1


async def test_a_document_paused_in_saleor_gets_no_replay(shop: Shop) -> None:  # noqa: F811
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        everything = {d.slug for d in handled_definitions(installation, shop.services)}
        installation.webhooks_paused = ["ecommerce-customers"]
    assert "ecommerce-customers" in everything
    async with shop.services.db.session() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        kept = {d.slug for d in handled_definitions(installation, shop.services)}
    assert kept == everything - {"ecommerce-customers"}


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_a_deactivation_shorter_than_the_confirmation_is_caught_up_with(
    shop: Shop,  # noqa: F811
    saleor: SaleorSandbox,  # noqa: F811
    clock: ManualClock,
) -> None:
    """Refused by a check, accepted again by the confirming one: the app was deactivated for a
    while, and Saleor delivered nothing meanwhile."""
    services = shop.services
    await shop.drain()
    await saleor.set_app_active(shop.app, False)
    customer = await saleor.create_customer("ann@example.com", "Ann", "Lee")
    await pass_time(services, clock, INTERVAL)  # refused: to be confirmed
    await saleor.set_app_active(shop.app, True)
    await pass_time(services, clock, CONFIRM)  # accepted: never paused
    installation = await stored(services)
    assert installation is not None and installation.is_active
    assert installation.status_noticed_by is None
    await shop.drain()
    assert str(customer.id) in _mailchimp_customer_ids(shop)


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_installing_again_after_a_pause_catches_up_with_it(
    shop: Shop,  # noqa: F811
    saleor: SaleorSandbox,  # noqa: F811
    clock: ManualClock,
) -> None:
    """Before 3.23.5 an app deleted in Saleor is first noticed as a pause; installed again
    within the grace period, the installation (and its data) is kept, and what changed since
    the pause is replayed."""
    services = shop.services
    await shop.drain()
    await saleor.uninstall_app(shop.app)  # no APP_DELETED reaches the app on 3.20
    await pass_time(services, clock, INTERVAL)
    await pass_time(services, clock, CONFIRM)
    paused = await stored(services)
    assert paused is not None and not paused.is_active and paused.missed_since is not None
    customer = await saleor.create_customer("ann@example.com", "Ann", "Lee")
    shop.app = await saleor.install_app(f"{APP_URL}/api/manifest")
    await shop.drain()
    resumed = await stored(services)
    assert resumed is not None and resumed.id == paused.id and resumed.missed_since is None
    assert str(customer.id) in _mailchimp_customer_ids(shop)


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_a_new_app_of_the_same_saleor_catches_up_with_what_the_old_one_missed(
    shop: Shop,  # noqa: F811
    saleor: SaleorSandbox,  # noqa: F811
    clock: ManualClock,
) -> None:
    """Deleted and installed again before any check noticed (Saleor 3.20 sends the app no
    APP_DELETED): the installation still looked active, and what changed in between, with no
    app to deliver to, is replayed from the last time its token was accepted."""
    await shop.drain()
    await saleor.uninstall_app(shop.app)
    customer = await saleor.create_customer("ann@example.com", "Ann", "Lee")
    clock.advance(120)  # later than a rival registration (`service.RIVAL`), after the change
    shop.app = await saleor.install_app(f"{APP_URL}/api/manifest")
    await shop.drain()
    assert str(customer.id) in _mailchimp_customer_ids(shop)


@pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)
async def test_a_long_replay_goes_on_from_where_each_run_stopped(
    shop: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(replay, "PAGES_PER_JOB", 1)
    await shop.drain()
    await shop.saleor.set_app_active(shop.app, False)
    created = [await shop.saleor.create_customer(f"c{i}@example.com", f"C{i}") for i in range(150)]
    await shop.saleor.set_app_active(shop.app, True)
    await shop.drain()
    async with shop.services.db.session() as session:
        runs = (
            await session.execute(select(Job).where(Job.kind == replay.REPLAY_JOB).order_by(Job.id))
        ).scalars()
        customer_runs = [job for job in runs if job.payload["source"] == "customers"]
    assert [job.payload["after"] is None for job in customer_runs] == [True, False]
    assert {str(c.id) for c in created} <= _mailchimp_customer_ids(shop)


async def _replay_answered(
    shop: Shop,  # noqa: F811
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    data: dict[str, Any],
    asked: list[str | None],
) -> None:
    """Runs a customers replay that Saleor answers `data` to, noting in `asked` the cursor of
    each page asked for; no job to go on from is left."""
    await shop.drain()

    async def execute(
        api_url: str, token: SecretStr, document: str, variables: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        asked.append(variables["after"])
        return data

    monkeypatch.setattr(shop.services.saleor, "execute", execute)
    async with shop.services.db.session() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
    job = ClaimedJob(
        id=0, installation_id=installation.id, kind=replay.REPLAY_JOB, payload={}, attempts=1
    )
    missed = replay.Replay(source=replay.Source.CUSTOMERS, since=clock.now(), until=clock.now())
    try:
        await replay.handle_replay(job, missed, shop.services)
    finally:
        async with shop.services.db.session() as session:
            left = select(Job).where(Job.kind == replay.REPLAY_JOB)
            assert list((await session.execute(left)).scalars()) == []


@pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)
@pytest.mark.parametrize(
    ("customers", "error", "match"),
    [
        # Saleor never answers so (addon/saleor/paging.py). Read on, the replay read its first
        # page again and again, then left a job to start over, and so on.
        (
            {"edges": [], "pageInfo": {"hasNextPage": True, "endCursor": None}},
            SaleorError,
            "no endCursor",
        ),
        # Not the query's answer: never read as an empty last page, which would skip the rest.
        (None, ValueError, "answered no customers"),
    ],
)
async def test_an_answer_the_replay_cannot_go_on_from_fails_it_to_be_retried(
    shop: Shop,  # noqa: F811
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    customers: dict[str, Any] | None,
    error: type[Exception],
    match: str,
) -> None:
    asked: list[str | None] = []
    with pytest.raises(error, match=match):
        await _replay_answered(shop, clock, monkeypatch, {"customers": customers}, asked)
    assert asked == [None]  # its first page, once
