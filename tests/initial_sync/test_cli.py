"""`addon sync`: the initial sync started, followed and cancelled from the command line, through
the Saleor and Mailchimp sandboxes, with a worker running in the command's process."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import update
from typer.testing import CliRunner

from addon.cli import cli
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.cli import (
    EXIT_INTERRUPTED,
    EXIT_NOT_SUCCEEDED,
    EXIT_OK,
    EXIT_REFUSED,
    Action,
    ArgumentError,
    SyncCommand,
    command_from_options,
    parse_orders_since,
    run_sync,
)
from addon.installations.models import Installation
from tests.conftest import SALEOR_API_URL
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    finish,
    is_syncing,
    progress,
    run_jobs,
    start,
)

TIMEOUT = 60  # seconds; a run takes well under one, this only turns a hang into a failure


@pytest.fixture
def cli_shop(small: Shop) -> Shop:
    """The small-batch shop whose in-process worker polls often."""
    settings = small.services.settings
    small.services.settings = settings.model_copy(update={"worker_poll_interval_seconds": 0.01})
    return small


class Run:
    def __init__(self, code: int, output: str) -> None:
        self.code = code
        self.output = output

    @property
    def text(self) -> str:
        """The output with line breaks and runs of spaces as one space (for phrases)."""
        return " ".join(self.output.split())

    def __repr__(self) -> str:
        return f"exit code {self.code}:\n{self.output}"


async def sync(
    shop: Shop, action: Action = Action.START, stop: asyncio.Event | None = None, **options: object
) -> Run:
    console = Console(record=True, width=160, file=io.StringIO())
    command = SyncCommand(
        channel=str(options.pop("channel", CHANNEL)),
        action=action,
        refresh_seconds=0.02,
        # Settling ends as soon as nothing is due; the real-time cap must not cut it short on
        # a slow machine (the step clearing `is_syncing` after a cancel or failure runs in it).
        settle_seconds=float(options.pop("settle_seconds", TIMEOUT)),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )
    code = await asyncio.wait_for(run_sync(shop.services, console, command, stop), TIMEOUT)
    return Run(code, console.export_text())


async def test_a_sync_started_from_the_cli_runs_to_the_end_with_progress_bars(
    cli_shop: Shop,
) -> None:
    shop = cli_shop
    shop.saleor.generate_store(products=30, customers=20, orders=25, seed=4)
    run = await sync(shop, saleor_api_url=SALEOR_API_URL)
    assert run.code == EXIT_OK, run
    assert "Started the initial sync of channel default-channel" in run.text
    assert "A worker runs in this process" in run.text
    lines = run.output.splitlines()
    for label, total in (("Products", 30), ("Customers", 20), ("Orders", 25)):
        [line] = [line for line in lines if line.startswith(label)]
        assert f"{total}/{total}" in line and "100%" in line and "done" in line, line
        assert f"sent {total}" in line and "quarantined 0" in line, line
    assert "succeeded" in run.text
    assert "30 products, 20 customers, 25 orders confirmed by Mailchimp" in run.text
    assert_equal_to_saleor(shop)
    assert not is_syncing(shop)
    assert (await progress(shop))["status"] == "succeeded"


async def test_starting_while_one_runs_is_refused_and_cancel_stops_it(cli_shop: Shop) -> None:
    shop = cli_shop
    shop.saleor.generate_store(products=30, customers=5, orders=5, seed=2)
    started = await sync(shop, wait=False)
    assert started.code == EXIT_OK, started
    assert "addon sync --channel default-channel --watch" in started.text

    again = await sync(shop)
    assert again.code == EXIT_REFUSED, again
    assert "An initial sync of channel 'default-channel' is running already." in again.text
    assert "--watch" in again.text and "--cancel" in again.text

    await run_jobs(shop, 2)  # Mailchimp's store is flagged as syncing
    assert is_syncing(shop)
    cancelled = await sync(shop, Action.CANCEL)
    assert cancelled.code == EXIT_OK, cancelled
    assert "Cancelled the initial sync of channel default-channel." in cancelled.text
    assert "cancelled" in cancelled.text and "Products" in cancelled.text
    assert (await progress(shop))["status"] == "cancelled"
    assert not is_syncing(shop)  # the command's worker ran the step that clears the flag

    nothing = await sync(shop, Action.CANCEL)
    assert nothing.code == EXIT_REFUSED, nothing
    assert "No initial sync of channel 'default-channel' is running." in nothing.text


async def test_untracked_channel_and_tracking_off_are_refused(cli_shop: Shop) -> None:
    shop = cli_shop
    untracked = await sync(shop, channel="elsewhere")
    assert untracked.code == EXIT_REFUSED, untracked
    assert "The channel 'elsewhere' is not tracked." in untracked.text
    assert "Tracked channels: default-channel." in untracked.text
    assert "Traceback" not in untracked.text

    response = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": False})
    assert response.status_code == 200, response.text
    off = await sync(shop)
    assert off.code == EXIT_REFUSED, off
    assert "E-commerce tracking is off." in off.text


async def test_the_installation_is_chosen_by_its_saleor_api_url(cli_shop: Shop) -> None:
    shop = cli_shop
    unknown = await sync(shop, saleor_api_url="https://elsewhere.example/graphql/")
    assert unknown.code == EXIT_REFUSED, unknown
    assert "not installed in the Saleor at https://elsewhere.example/graphql/" in unknown.text
    assert f"Installed: {SALEOR_API_URL}" in unknown.text

    async with shop.services.db.transaction() as session:
        session.add(
            Installation(
                saleor_api_url="https://second.example/graphql/",
                saleor_domain="second.example",
                app_id="QXBwOjI=",
                app_token=SecretStr("second-token"),
                jwks={"keys": []},
            )
        )
    ambiguous = await sync(shop, wait=False)
    assert ambiguous.code == EXIT_REFUSED, ambiguous
    assert "installed in 2 Saleors: choose one with --saleor-api-url" in ambiguous.text
    # The URL without its trailing slash names the installation too.
    chosen = await sync(shop, wait=False, saleor_api_url=SALEOR_API_URL.rstrip("/"))
    assert chosen.code == EXIT_OK, chosen


async def test_a_deactivated_installation_starts_nothing(cli_shop: Shop) -> None:
    shop = cli_shop
    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(is_active=False))
    run = await sync(shop)
    assert run.code == EXIT_REFUSED, run
    assert "Processing is paused" in run.text
    response = await shop.api("GET", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert response.json()["error"]["code"] == "NO_INITIAL_SYNC"


async def test_watch_follows_a_sync_started_elsewhere(cli_shop: Shop) -> None:
    shop = cli_shop
    none_yet = await sync(shop, Action.WATCH)
    assert none_yet.code == EXIT_REFUSED, none_yet
    assert "has no initial sync" in none_yet.text
    assert "addon sync --channel default-channel" in none_yet.text

    shop.saleor.generate_store(products=20, customers=10, orders=10, seed=6)
    await start(shop)  # from the dashboard
    watched = await sync(shop, Action.WATCH)
    assert watched.code == EXIT_OK, watched
    assert "Watching the initial sync of channel default-channel" in watched.text
    assert "succeeded" in watched.text
    # Watching again shows how it ended.
    again = await sync(shop, Action.WATCH)
    assert again.code == EXIT_OK, again
    assert "has ended" in again.text and "20/20" in again.text


async def test_ctrl_c_stops_watching_and_the_sync_resumes_later(cli_shop: Shop) -> None:
    shop = cli_shop
    shop.saleor.generate_store(products=30, customers=5, orders=5, seed=8)
    shop.mailchimp.batches_paused = True  # the sync cannot end while the command watches
    stop = asyncio.Event()

    async def press_ctrl_c_once_a_batch_is_in_flight() -> None:
        while True:
            response = await shop.api("GET", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
            if response.status_code == 200 and response.json()["batches_in_flight"]:
                stop.set()
                return
            await asyncio.sleep(0.01)

    ctrl_c = asyncio.create_task(press_ctrl_c_once_a_batch_is_in_flight())
    run = await sync(shop, stop=stop)
    await ctrl_c
    assert run.code == EXIT_INTERRUPTED, run
    assert "Stopped watching" in run.text and "is still running" in run.text
    assert "resumes where it stopped" in run.text
    assert (await progress(shop))["status"] == "running"

    shop.mailchimp.batches_paused = False
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)


async def test_no_worker_only_watches(cli_shop: Shop) -> None:
    shop = cli_shop
    await start(shop)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stop.set)
    run = await sync(shop, Action.WATCH, stop=stop, run_worker=False)
    assert run.code == EXIT_INTERRUPTED, run
    assert "without one it does not move" in run.text
    assert "A worker runs in this process" not in run.text
    assert (await progress(shop))["kinds"][0]["read"] == 0  # nothing was processed


async def test_a_failed_sync_says_why_and_exits_non_zero(cli_shop: Shop) -> None:
    shop = cli_shop
    shop.saleor.generate_store(products=10, customers=5, orders=5, seed=9)
    await start(shop)
    await run_jobs(shop, 1)
    response = await shop.api("POST", "/api/connection/reset", {"forget_account_data": False})
    assert response.status_code == 200, response.text
    run = await sync(shop, Action.WATCH)
    assert run.code == EXIT_NOT_SUCCEEDED, run
    assert "The initial sync of channel default-channel failed:" in run.text


async def test_quarantined_records_are_counted_in_the_outcome(cli_shop: Shop) -> None:
    shop = cli_shop
    shop.saleor.generate_store(products=5, customers=10, orders=0, seed=5)
    for i in range(3):
        shop.saleor.store.create_customer(f"broken-{i}.example.com", "Bad", "Mail")
    run = await sync(shop)
    assert run.code == EXIT_OK, run
    assert "succeeded" in run.text
    assert "Quarantined (Mailchimp refused them): 3 customers." in run.text
    [line] = [line for line in run.output.splitlines() if line.startswith("Customers")]
    assert "quarantined 3" in line


async def test_orders_since_is_passed_to_the_sync(cli_shop: Shop) -> None:
    shop = cli_shop
    shop.saleor.generate_store(products=5, customers=5, orders=20, seed=11)
    orders = sorted(shop.saleor.store.orders.values(), key=lambda o: o.created)
    since = orders[12].created
    run = await sync(shop, orders_since=since)
    assert run.code == EXIT_OK, run
    assert "orders since" in run.text
    assert set(shop.orders()) == {str(o.id) for o in orders if o.created >= since}
    body = await progress(shop)
    assert datetime.fromisoformat(body["orders_since"]) == since


def test_orders_since_takes_a_date_or_an_iso_date_and_time() -> None:
    assert parse_orders_since("2025-01-31") == datetime(2025, 1, 31, tzinfo=UTC)
    assert parse_orders_since("2025-01-31T18:00:00+01:00") == datetime(2025, 1, 31, 17, tzinfo=UTC)
    assert parse_orders_since("2025-01-31T18:00") == datetime(2025, 1, 31, 18, tzinfo=UTC)
    for wrong in ("31/01/2025", "yesterday", ""):
        with pytest.raises(ValueError, match="is not a date"):
            parse_orders_since(wrong)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    with pytest.raises(ValueError, match="in the future"):
        parse_orders_since(tomorrow)


def test_options_that_do_not_go_together() -> None:
    with pytest.raises(ArgumentError, match="either --cancel or --watch"):
        command_from_options(channel=CHANNEL, cancel=True, watch=True)
    with pytest.raises(ArgumentError, match="only applies when a sync is started"):
        command_from_options(channel=CHANNEL, cancel=True, orders_since="2025-01-01")
    with pytest.raises(ArgumentError, match="always waits"):
        command_from_options(channel=CHANNEL, watch=True, wait=False)
    started = command_from_options(channel=CHANNEL, wait=False)
    assert started.action is Action.START and not started.run_worker


def test_the_command_line_rejects_a_bad_date_before_touching_anything() -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["sync", "--channel", CHANNEL, "--orders-since", "31/01/2025"], terminal_width=200
    )
    text = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--orders-since': '31/01/2025' is not a date" in text
    assert "Traceback" not in text
    result = runner.invoke(cli, ["sync", "--orders-since", "2025-01-01"])
    assert result.exit_code == 2 and "Missing option '--channel'" in result.output
