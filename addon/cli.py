"""`addon serve | worker | migrate`."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console

from addon.config import ConfigurationError, Settings, load_settings
from addon.logs import configure_logging

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    return settings


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web app and, in the same process, a background worker (migrates first)."""
    import uvicorn

    from addon.app import create_app
    from addon.services import Services

    settings = _settings()
    if settings.sandbox_enabled:
        from addon.sandbox.devstack import create_dev_app

        app = create_dev_app(settings)
        stack = app.state.devstack
        console.print(
            f"Open [bold]{stack.dashboard_url}[/bold] to try the app offline "
            f"(demo Mailchimp API key: {stack.demo_account.api_key})"
        )
    else:
        app = create_app(Services.create(settings))
    console.print(f"Manifest URL for a real Saleor: [bold]{settings.app_url}/api/manifest[/bold]")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())


@cli.command()
def worker() -> None:
    """Run only a worker (add more of them on PostgreSQL to scale out)."""
    from addon.db.migrations import upgrade
    from addon.jobs.worker import Worker
    from addon.services import Services

    settings = _settings()

    async def main() -> None:
        services = Services.create(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await upgrade(services.db.engine)
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
    console.print("Database is up to date.")


def main() -> None:
    cli()
