"""`addon sync`: start, follow or cancel a channel's initial sync from a terminal.

The typer command in `addon/cli.py` only parses arguments; `run_sync` does the work, given the
`Services` and a rich `Console`, and answers the process's exit code:

    0    the sync succeeded (or, with --no-wait, was started; with --cancel, was cancelled)
    1    the sync ended cancelled or failed, or the database could not be used
    2    nothing was done: unknown installation, untracked channel, tracking off, a sync running
         already, no sync to cancel or watch (and argument errors, from typer)
    130  Ctrl-C stopped watching; the sync itself continues

Progress is read from the database (the same figures as the dashboard's API), so it shows the
work of every worker: the one this command runs in-process, `addon serve`'s and `addon worker`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.stores_repository import StoreRepository
from addon.errors import AppError, ErrorCode
from addon.initial_sync.in_process import InProcessWorker, settle
from addon.initial_sync.schemas import InitialSyncRead, StartRequest
from addon.initial_sync.service import InitialSyncService
from addon.initial_sync.view import Say, SyncView, print_outcome
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.jobs.worker import Worker
from addon.services import Services

EXIT_OK = 0
EXIT_NOT_SUCCEEDED = 1
EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130


class Action(StrEnum):
    START = "start"
    WATCH = "watch"
    CANCEL = "cancel"


@dataclass(frozen=True)
class SyncCommand:
    channel: str
    saleor_api_url: str | None = None
    action: Action = Action.START
    orders_since: datetime | None = None
    wait: bool = True  # show progress until the sync ends
    run_worker: bool = True  # process jobs in this process while waiting
    refresh_seconds: float = 0.5  # how often progress is read from the database
    # After a cancel or a failure, how long the in-process worker may keep going so that the
    # step clearing Mailchimp's `is_syncing` runs even when no other worker does.
    settle_seconds: float = 5.0


class CommandError(Exception):
    """Nothing was done; the message says why, the hint what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# --- arguments -----------------------------------------------------------------------------------


class ArgumentError(ValueError):
    """An option that is invalid, or invalid with another one (a usage error, exit code 2)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


def command_from_options(
    *,
    channel: str,
    saleor_api_url: str | None = None,
    orders_since: str | None = None,
    cancel: bool = False,
    watch: bool = False,
    wait: bool = True,
    run_worker: bool = True,
) -> SyncCommand:
    """The command the CLI's options describe; ArgumentError for an invalid combination."""
    if not channel.strip():
        raise ArgumentError("--channel", "give the channel's slug.")
    if cancel and watch:
        raise ArgumentError("--cancel", "use either --cancel or --watch.")
    since = None
    if orders_since is not None:
        if cancel or watch:
            raise ArgumentError("--orders-since", "only applies when a sync is started.")
        try:
            since = parse_orders_since(orders_since)
        except ValueError as exc:
            raise ArgumentError("--orders-since", str(exc)) from None
    if watch and not wait:
        raise ArgumentError("--no-wait", "--watch always waits.")
    return SyncCommand(
        channel=channel.strip(),
        saleor_api_url=saleor_api_url,
        action=Action.CANCEL if cancel else Action.WATCH if watch else Action.START,
        orders_since=since,
        wait=wait,
        run_worker=run_worker and wait,
    )


def parse_orders_since(value: str, *, now: datetime | None = None) -> datetime:
    """`YYYY-MM-DD` (midnight UTC) or an ISO 8601 date and time (UTC unless it has an offset).

    Raises ValueError with a sentence for the user.
    """
    text = value.strip()
    parsed: datetime
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date: use YYYY-MM-DD or an ISO date and time "
            "such as 2025-01-31T18:00:00+01:00."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed > (now or utcnow()):
        raise ValueError(f"{value!r} is in the future: no order would be sent.")
    return parsed


# --- the command ---------------------------------------------------------------------------------


async def run_sync(
    services: Services,
    console: Console,
    command: SyncCommand,
    stop: asyncio.Event | None = None,
) -> int:
    """Run `addon sync` and return its exit code. Setting `stop` (Ctrl-C) stops watching."""
    stop = stop or asyncio.Event()
    try:
        if command.action is Action.CANCEL:
            return await _cancel(services, console, command, stop)
        if command.action is Action.START:
            read, installation = await _start(services, command)
            Say(console, command.channel).started(read, installation.saleor_api_url)
        else:
            read, installation = await _latest(services, command)
        if not command.wait:
            Say(console, command.channel).not_waiting()
            return EXIT_OK
        return await _watch(services, console, command, installation, read, stop)
    except CommandError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        if exc.hint:
            console.print(exc.hint)
        return EXIT_REFUSED
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]The app's database could not be used: {escape(str(exc))}[/red]")
        return EXIT_NOT_SUCCEEDED


async def find_installation(session: AsyncSession, saleor_api_url: str | None) -> Installation:
    """The installation of `saleor_api_url` (a trailing slash may differ), or the only one."""
    repository = InstallationRepository(session)
    installations = await repository.list_all()
    known = ", ".join(i.saleor_api_url for i in installations[:10]) + (
        ", …" if len(installations) > 10 else ""
    )
    if saleor_api_url is None:
        if len(installations) == 1:
            return installations[0]
        if not installations:
            raise CommandError("The app is not installed in any Saleor yet.")
        raise CommandError(
            f"The app is installed in {len(installations)} Saleors: "
            "choose one with --saleor-api-url.",
            f"Installed: {escape(known)}",
        )
    url = saleor_api_url.strip()
    for candidate in dict.fromkeys((url, url.rstrip("/") + "/", url.rstrip("/"))):
        installation = await repository.get_by_api_url(candidate)
        if installation is not None:
            return installation
    raise CommandError(
        f"The app is not installed in the Saleor at {url}.",
        f"Installed: {escape(known)}" if installations else "No Saleor has installed the app yet.",
    )


def _refused(exc: AppError, command: SyncCommand, tracked: list[str]) -> CommandError:
    channel = escape(command.channel)
    hints = {
        "CHANNEL_NOT_TRACKED": "Track it on the app's E-commerce page first."
        + (f" Tracked channels: {escape(', '.join(tracked))}." if tracked else ""),
        "TRACKING_OFF": "Turn on e-commerce tracking on the app's E-commerce page first.",
        "INITIAL_SYNC_RUNNING": (
            f"Follow it with [bold]addon sync --channel {channel} --watch[/bold], or cancel it "
            f"with [bold]addon sync --channel {channel} --cancel[/bold]."
        ),
        "NO_INITIAL_SYNC": (
            f"Start one with [bold]addon sync --channel {channel}[/bold]."
            if command.action is Action.WATCH
            else None
        ),
    }
    return CommandError(exc.message, hints.get(exc.code))


def _paused(installation: Installation, *, running: bool = False) -> CommandError:
    """No worker claims the installation's jobs; `running`: its sync started, and waits."""
    if installation.uninstalled_at is not None:
        return CommandError(
            f"The app was uninstalled from {installation.saleor_api_url}; its data is erased "
            "once Mailchimp is cleaned up.",
            "Install the app again in the Saleor dashboard to sync this store.",
        )
    return CommandError(
        f"Processing is paused for {installation.saleor_api_url}: "
        "the app is deactivated in that Saleor.",
        "Activate the app in the Saleor dashboard (Apps): the sync resumes where it stopped."
        if running
        else "Activate the app in the Saleor dashboard (Apps), then try again.",
    )


def _processed(installation: Installation) -> bool:
    """Whether workers claim the installation's jobs (active, not uninstalled)."""
    return installation.is_active and installation.uninstalled_at is None


async def _act(
    session: AsyncSession, services: Services, command: SyncCommand
) -> tuple[InitialSyncRead, Installation]:
    """The command's action on the service, whose rules (tracked channel, tracking on, one
    sync at a time) come first; a refusal becomes a CommandError with a hint."""
    installation = await find_installation(session, command.saleor_api_url)
    service = InitialSyncService(session, services)
    try:
        if command.action is Action.START:
            request = StartRequest(orders_since=command.orders_since)
            read = await service.start(installation, command.channel, request)
        elif command.action is Action.CANCEL:
            read = await service.cancel(installation, command.channel)
        else:
            read = await service.read(installation, command.channel)
    except AppError as exc:
        tracked = []
        if exc.code is ErrorCode.CHANNEL_NOT_TRACKED:
            stores = await StoreRepository(session).tracked(installation.id)
            tracked = [s.channel_slug for s in stores]
        raise _refused(exc, command, tracked) from None
    return read, installation


async def _start(services: Services, command: SyncCommand) -> tuple[InitialSyncRead, Installation]:
    async with services.db.transaction() as session:
        read, installation = await _act(session, services, command)
        if not installation.is_active:
            raise _paused(installation)  # rolls the start back
    return read, installation


async def _latest(services: Services, command: SyncCommand) -> tuple[InitialSyncRead, Installation]:
    async with services.db.session() as session:
        read, installation = await _act(session, services, command)
    if read.status is RunStatus.RUNNING and not _processed(installation):
        raise _paused(installation, running=True)
    return read, installation


async def _cancel(
    services: Services, console: Console, command: SyncCommand, stop: asyncio.Event
) -> int:
    async with services.db.transaction() as session:
        read, installation = await _act(session, services, command)
    console.print(SyncView(read, installation.saleor_api_url))
    Say(console, command.channel).cancelled()
    if command.run_worker and installation.is_active:
        # Clear Mailchimp's `is_syncing` flag now if no other worker does it first (once the
        # batches it sent are settled, `ended.py`: a worker does it then if this one has gone).
        await settle(Worker(services), command.settle_seconds, stop)
    return EXIT_OK


async def _read(
    services: Services, installation: Installation, channel: str
) -> tuple[InitialSyncRead, Installation] | None:
    """The channel's latest sync and its installation, read again (None once erased): one
    deactivated or uninstalled meanwhile has its jobs claimed by no worker."""
    async with services.db.session() as session:
        current = await InstallationRepository(session).get(installation.id)
        if current is None:
            return None
        return await InitialSyncService(session, services).read(current, channel), current


async def _watch(
    services: Services,
    console: Console,
    command: SyncCommand,
    installation: Installation,
    read: InitialSyncRead,
    stop: asyncio.Event,
) -> int:
    say = Say(console, command.channel)
    if read.status is not RunStatus.RUNNING:
        say.ended()
        console.print(SyncView(read, installation.saleor_api_url))
        return _outcome(console, read)
    say.watching(read, attached=command.action is Action.WATCH, in_process=command.run_worker)
    worker = InProcessWorker(services) if command.run_worker else None
    view = SyncView(read, installation.saleor_api_url)
    replaced: InitialSyncRead | None = None
    paused: CommandError | None = None
    try:
        with Live(view, console=console, auto_refresh=False, transient=False) as live:
            if worker is not None:
                worker.start()
            while read.status is RunStatus.RUNNING and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), command.refresh_seconds)
                if worker is not None and (problem := worker.problem()):
                    console.print(f"[red]The in-process worker stopped: {escape(problem)}[/red]")
                    worker = None
                fresh = await _read(services, installation, command.channel)
                if fresh is None:
                    paused = CommandError(
                        f"The app was uninstalled from {installation.saleor_api_url}."
                    )
                    break
                current, installation = fresh
                if current.id != read.id:
                    replaced = current  # it ended and a new one was started meanwhile
                    break
                read = current
                view.update(read)
                live.refresh()
                if read.status is RunStatus.RUNNING and not _processed(installation):
                    # No worker claims the store's jobs now: the sync waits, watching never ends.
                    paused = _paused(installation, running=True)
                    break
        if not console.is_terminal:
            console.line()  # a terminal gets its line break from Live; a file or pipe does not
    finally:
        if worker is not None:
            if stop.is_set() and worker.busy():
                console.print("Stopping the worker after its current jobs (Ctrl-C again: at once)…")
            await worker.close()
    if replaced is not None:
        say.replaced(replaced)
        return EXIT_NOT_SUCCEEDED
    if paused is not None:
        raise paused
    if read.status is RunStatus.RUNNING:
        say.still_running()
        return EXIT_INTERRUPTED
    if worker is not None and read.status is not RunStatus.SUCCEEDED:
        await settle(worker.worker, command.settle_seconds, stop)
    return _outcome(console, read)


def _outcome(console: Console, read: InitialSyncRead) -> int:
    print_outcome(console, read)
    return EXIT_OK if read.status is RunStatus.SUCCEEDED else EXIT_NOT_SUCCEEDED
