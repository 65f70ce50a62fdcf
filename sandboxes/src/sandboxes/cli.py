"""`sandboxes serve | run`: the app against offline Saleor and Mailchimp (development only).

`serve` is what `make run` starts: the app with both sandboxes mounted on one origin, installed
into the Saleor sandbox as a real Saleor would install it. `run` starts any other `addon`
command (a worker, an initial sync) with Mailchimp pointed at the sandbox of a running `serve`,
through the same environment variables an operator would set.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from addon.config import Settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)


def _settings(**overrides: object) -> Settings:
    from addon.config import ConfigurationError, load_settings
    from addon.logs import configure_logging

    try:
        settings = load_settings(**overrides)
    except ConfigurationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if settings.is_production:
        console.print("[red]The sandboxes are for development: APP_ENV=production has none.[/red]")
        raise typer.Exit(2)
    configure_logging(settings.log_level)
    return settings


def served_settings(host: str, port: int) -> Settings:
    """The settings, APP_URL where the stack listens unless given: the app installs itself in
    the Saleor sandbox from APP_URL, and the printed dashboard link is under it (served on
    another port with the default APP_URL, no app appeared and the link led nowhere)."""
    settings = _settings()
    if "app_url" in settings.model_fields_set:
        return settings
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    shown = f"[{shown}]" if ":" in shown else shown
    return _settings(app_url=f"http://{shown}:{port}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    saleor_version: Annotated[
        str,
        typer.Option(
            envvar="SANDBOX_SALEOR_VERSION",
            help="The Saleor the sandbox plays: current, or 3.20 (the oldest the manifest "
            "accepts: no lifecycle webhooks to the app, no orders(where:)).",
        ),
    ] = "current",
) -> None:
    """Run the app with both sandboxes and a worker in one process (migrates first)."""
    import uvicorn

    from sandboxes.devstack import create_dev_app, describe_mailchimp

    if saleor_version not in ("current", "3.20"):
        raise typer.BadParameter("current or 3.20", param_hint="'--saleor-version'")
    settings = served_settings(host, port)
    app = create_dev_app(settings, saleor_version="3.20" if saleor_version == "3.20" else "current")
    stack = app.state.devstack
    console.print(
        f"Open [bold]{stack.dashboard_url}[/bold] to try the app offline "
        f"(demo Mailchimp API key: {stack.demo_account.api_key})"
    )
    console.print(escape(describe_mailchimp(stack.settings)))
    console.print(f"Manifest URL for a real Saleor: [bold]{settings.app_url}/api/manifest[/bold]")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())


@cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(ctx: typer.Context) -> None:
    """Run an `addon` command (e.g. `sandboxes run addon worker`) against the sandboxes of a
    `sandboxes serve` at APP_URL: Mailchimp settings not given explicitly point at its sandbox."""
    from sandboxes.devstack import sandbox_environment

    if not ctx.args:
        raise typer.BadParameter("a command to run, e.g. `addon worker`", param_hint="COMMAND")
    env = {**os.environ, **sandbox_environment(_settings())}
    raise typer.Exit(subprocess.call(ctx.args, env=env))  # noqa: S603 (the developer's command)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
