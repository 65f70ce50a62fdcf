"""`addon serve | worker | migrate | rotate-secrets | sync`."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from addon.config import ConfigurationError, LogFormat, Settings, load_settings
from addon.logs import configure_logging

if TYPE_CHECKING:
    from addon.initial_sync.cli import SyncCommand

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)


def _settings(*, metrics_dir_checked: bool = True) -> Settings:
    """The settings, or exit code 2 with a message naming the variable. A process that counts
    needs a usable PROMETHEUS_MULTIPROC_DIR too (`addon doctor` reports it as a check)."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if metrics_dir_checked:
        from addon.metrics import multiprocess_dir_problem

        if (problem := multiprocess_dir_problem()) is not None:
            console.print(f"[red]{escape(problem)}[/red]")
            raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _say(settings: Settings, markup: str) -> None:
    """A start-up line: printed for people, or a log line where logs are JSON (one format)."""
    if settings.log_format is LogFormat.JSON:
        from rich.text import Text

        logging.getLogger("addon.cli").info(Text.from_markup(markup).plain)
    else:
        console.print(markup)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app and, in the same process, a background worker (migrates first)."""
    import uvicorn
    from rich.markup import escape

    from addon.app import create_app
    from addon.capabilities import create_services

    settings = _settings()
    app = create_app(create_services(settings))
    _say(settings, escape(settings.describe_mailchimp()))
    _say(settings, f"Manifest URL for a real Saleor: [bold]{settings.app_url}/api/manifest[/bold]")
    uvicorn.run(app, **uvicorn_options(settings, host=host, port=port))


def uvicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """How `serve` runs uvicorn (tests load the same options)."""
    from uvicorn.config import LOGGING_CONFIG

    return {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        # JSON lines: uvicorn's own loggers go through the app's handler, not uvicorn's format.
        "log_config": LOGGING_CONFIG if settings.log_format is LogFormat.HUMAN else None,
        # Forwarded headers count only from these addresses (the proxy's).
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }


@cli.command()
def worker() -> None:
    """Run only a worker (add more of them on PostgreSQL to scale out)."""
    from addon.capabilities import create_services, start_up
    from addon.db.migrations import upgrade
    from addon.heap import collect_less_often, freeze_start_up
    from addon.jobs.worker import Worker

    settings = _settings()

    async def main() -> None:
        services = create_services(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await upgrade(services.db.engine)
            await start_up(services)
            freeze_start_up()
            collect_less_often()
            await Worker(services).run(stop)
        finally:
            await services.aclose()

    asyncio.run(main())


@cli.command()
def migrate() -> None:
    """Apply database migrations."""
    from addon.db.engine import Database
    from addon.db.migrations import upgrade

    settings = _settings()

    async def main() -> None:
        database = Database(settings.database_url)
        try:
            await upgrade(database.engine)
        finally:
            await database.dispose()

    asyncio.run(main())
    _say(settings, "Database is up to date.")


@cli.command()
def doctor() -> None:
    """Check the deployment: settings, database and schema, each installation's Saleor and app
    token, each Mailchimp connection (ping). One line per check; exit code 1 if any failed."""
    from rich.markup import escape

    from addon.capabilities import create_services
    from addon.doctor import Status, run_checks

    settings = _settings(metrics_dir_checked=False)
    out = Console(soft_wrap=True)  # a check per line, however long, for grep and logs
    marks = {Status.OK: "[green]✓[/green]", Status.WARN: "[yellow]![/yellow]"}

    async def main() -> int:
        services = create_services(settings)
        failed = 0
        try:
            async for check in run_checks(services):
                failed += check.status is Status.FAIL
                mark = marks.get(check.status, "[red]✗[/red]")
                out.print(f"{mark} [bold]{escape(check.name)}[/bold]: {escape(check.detail)}")
        finally:
            await services.aclose()
        out.print(f"[red]{failed} check(s) failed.[/red]" if failed else "All checks passed.")
        return 1 if failed else 0

    raise typer.Exit(asyncio.run(main()))


@cli.command("rotate-secrets")
def rotate_secrets() -> None:
    """Re-encrypt every stored secret under SECRET_KEY, after changing it with the old key in
    SECRET_KEY_PREVIOUS (then remove that). A count per table; a second run changes nothing.
    Exit code 1 if a value decrypts under none of the keys (listed, left as it is)."""
    from addon.db.engine import Database
    from addon.db.migrations import upgrade
    from addon.secret_rotation import Rotation
    from addon.secret_rotation import rotate_secrets as rotate
    from addon.services import secret_box

    settings = _settings(metrics_dir_checked=False)
    out = Console(soft_wrap=True)

    async def main() -> Rotation:
        database = Database(settings.database_url)
        try:
            await upgrade(database.engine)
            return await rotate(database, secret_box(settings))
        finally:
            await database.dispose()

    rotation = asyncio.run(main())
    for table in rotation.tables:
        out.print(escape(table.line()))
    for row in rotation.unreadable:
        out.print(f"[red]{escape(row)}: decrypts under no key, left as it is[/red]")
    if rotation.unreadable:
        out.print(
            f"[red]{len(rotation.unreadable)} secret(s) decrypt under neither SECRET_KEY nor "
            "SECRET_KEY_PREVIOUS: add the key they were saved with to SECRET_KEY_PREVIOUS and "
            "run again.[/red]"
        )
        raise typer.Exit(1)
    if rotation.rotated:
        out.print("Every stored secret is under SECRET_KEY: SECRET_KEY_PREVIOUS can be removed.")
    else:
        out.print("Nothing to re-encrypt: every stored secret is under SECRET_KEY already.")


SYNC_HELP = "\n\n".join(
    (
        "Send a channel's products, customers and orders to Mailchimp (the initial sync), with "
        "progress bars until it ends.",
        "One initial sync runs per channel at a time: starting a second one is refused (follow "
        "the running one with --watch, or --cancel it). Ctrl-C stops watching; the sync itself "
        "goes on in the other workers, or resumes where it stopped when a worker starts next.",
        "Exit code: 0 when the sync succeeded (with --no-wait: it started; with --cancel: it was "
        "cancelled), 1 when it was cancelled or failed, 2 when nothing was done (unknown Saleor, "
        "channel not tracked, tracking off, a sync running already, invalid arguments), 130 "
        "after Ctrl-C.",
    )
)


@cli.command(help=SYNC_HELP)
def sync(
    channel: Annotated[
        str,
        typer.Option(
            "--channel",
            "-c",
            metavar="SLUG",
            show_default=False,
            help="The Saleor channel's slug (a channel tracked on the app's E-commerce page).",
        ),
    ],
    saleor_api_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            show_default=False,
            help="The installation, by its Saleor API URL (https://shop.saleor.cloud/graphql/). "
            "May be left out when the app is installed in exactly one Saleor.",
        ),
    ] = None,
    orders_since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            show_default=False,
            help="Send only orders placed since this date (YYYY-MM-DD, midnight UTC) or ISO "
            "date and time (UTC unless it has an offset). Products and customers are always "
            "sent in full.",
        ),
    ] = None,
    cancel: Annotated[
        bool, typer.Option("--cancel", help="Cancel the channel's running initial sync.")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Start nothing: follow the channel's running initial sync (or show how the "
            "latest one ended).",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="Show progress until the sync ends. --no-wait starts it and returns at once "
            "(the workers of `addon serve` and `addon worker` do the work).",
        ),
    ] = True,
    run_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="While waiting, run a worker in this process, so the sync progresses without "
            "`addon serve` or `addon worker` (it shares the work with them). --no-worker only "
            "watches.",
        ),
    ] = True,
) -> None:
    from addon.initial_sync.cli import ArgumentError, command_from_options

    try:
        command = command_from_options(
            channel=channel,
            saleor_api_url=saleor_api_url,
            orders_since=orders_since,
            cancel=cancel,
            watch=watch,
            wait=wait,
            run_worker=run_worker,
        )
    except ArgumentError as exc:
        raise typer.BadParameter(exc.message, param_hint=f"'{exc.option}'") from None
    raise typer.Exit(_run_sync(_settings(), command))


def _run_sync(settings: Settings, command: SyncCommand) -> int:
    from addon.initial_sync.view import rich_logging

    with rich_logging(console):  # from here on, logs print above the progress bars
        return asyncio.run(_sync_main(settings, command))


async def _sync_main(settings: Settings, command: SyncCommand) -> int:
    from rich.markup import escape
    from sqlalchemy.exc import SQLAlchemyError

    from addon.capabilities import create_services
    from addon.db.migrations import upgrade
    from addon.initial_sync.cli import EXIT_INTERRUPTED, EXIT_NOT_SUCCEEDED, run_sync

    services = create_services(settings)
    stop = asyncio.Event()
    task = asyncio.current_task()

    def interrupt() -> None:
        if stop.is_set() and task is not None:
            task.cancel()  # a second Ctrl-C: stop at once (leased jobs run again later)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, interrupt)
    try:
        try:
            await upgrade(services.db.engine)
        except (SQLAlchemyError, OSError) as exc:
            console.print(f"[red]The app's database could not be used: {escape(str(exc))}[/red]")
            return EXIT_NOT_SUCCEEDED
        return await run_sync(services, console, command, stop)
    except asyncio.CancelledError:
        console.print(
            "[yellow]Stopped at once.[/yellow] The sync continues in the other workers, or "
            "resumes where it stopped when a worker starts next (jobs this process had begun "
            "run again after WORKER_LEASE_SECONDS)."
        )
        return EXIT_INTERRUPTED
    finally:
        await services.aclose()


def main() -> None:
    cli()
