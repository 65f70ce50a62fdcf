"""The app as a benchmark runs it, in processes of its own: the `addon` command line, the
environment every benchmark gives it (its origin, its database, a secret, warnings only, and
the Mailchimp sandbox to talk to instead of Mailchimp) and its migrations, run before a worker
or server starts."""

from __future__ import annotations

import asyncio
import os
import sys

from sandboxes.devstack import MAILCHIMP_PATH

# `addon ...`, from this virtualenv, whatever the PATH.
ADDON = [sys.executable, "-c", "from addon.cli import main; main()"]
SECRET_KEY = "benchmark-secret-key-benchmark-secret-key"


def app_env(origin: str, database_url: str, mailchimp_origin: str) -> dict[str, str]:
    """The environment of the app served at `origin` on `database_url`, its Mailchimp API the
    sandbox served at `mailchimp_origin` (at the dev stack's path)."""
    return {
        **os.environ,
        "APP_URL": origin,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "MAILCHIMP_API_URL_TEMPLATE": f"{mailchimp_origin}{MAILCHIMP_PATH}/{{dc}}/3.0",
    }


async def migrate(env: dict[str, str]) -> None:
    """`addon migrate` with `env`, to its end."""
    if await (await asyncio.create_subprocess_exec(*ADDON, "migrate", env=env)).wait():
        raise RuntimeError("addon migrate failed")
