"""`addon doctor`: what an operator checks after deploying, one line per check.

The settings (production rules beyond those that refuse to start), the database and its schema,
whether the stored credentials decrypt with this SECRET_KEY (and, while SECRET_KEY_PREVIOUS is
set, how many are still under a previous key), then for each installation whether
its Saleor answers and still accepts the app token and whether the app's webhooks there are as
its documents say and active, and for each connected Mailchimp account
whether `ping` succeeds. Nothing is changed: a refused token is reported, not acted on (the
worker's lifecycle check does that), and no job is queued.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, text

from addon import metrics
from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.connection.service import credentials_of
from addon.db.migrations import current_revisions, head_revisions
from addon.installations.delivery_key import blocked_reasons, key_blocked_message, unforeseen
from addon.installations.models import Installation
from addon.installations.webhook_plan import key_refusals_among, paused_among, plan
from addon.installations.webhook_upkeep import installed_webhooks
from addon.mailchimp import MailchimpClient, MailchimpError
from addon.saleor.client import SaleorError, SaleorPermissionDenied
from addon.saleor.manifest import wanted_webhooks
from addon.saleor.versions import parse_version
from addon.secret_rotation import rotate_secrets
from addon.services import Services, secret_box


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # worth knowing; does not fail the command
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


async def run_checks(services: Services) -> AsyncIterator[Check]:
    """Each check as it completes (later ones are skipped when the database is unusable)."""
    for check in _settings_checks(services):
        yield check
    database = await _database_check(services)
    yield database
    if database.status is Status.FAIL:
        return
    schema = await _schema_check(services)
    yield schema
    if schema.status is Status.FAIL and not await current_revisions(services.db.engine):
        return  # no tables yet
    try:
        async with services.db.session() as session:
            installations = list(
                (await session.execute(select(Installation).order_by(Installation.id))).scalars()
            )
            connections = {
                c.installation_id: c
                for c in (await session.execute(select(MailchimpConnection))).scalars()
            }
    except Exception as exc:  # a wrong SECRET_KEY fails the decryption of the stored tokens
        yield Check(
            "Stored credentials",
            Status.FAIL,
            f"cannot be read ({type(exc).__name__}); is SECRET_KEY the one they were saved with?",
        )
        return
    yield Check("Stored credentials", Status.OK, f"{len(installations)} installation(s) read")
    if services.settings.previous_secret_keys:
        yield await _previous_keys_check(services)
    for installation in installations:
        saleor = await _saleor_check(services, installation)
        yield saleor
        if saleor.status is Status.OK:
            yield await _webhooks_check(services, installation)
        connection = connections.get(installation.id)
        if connection is not None:
            yield await _mailchimp_check(services, installation, connection)


def _settings_checks(services: Services) -> list[Check]:
    settings = services.settings
    checks = [Check("Settings", Status.OK, f"loaded (APP_ENV={settings.app_env.value})")]
    # Production refuses to load an APP_URL that is not public https (`config.py`).
    https = settings.app_url.startswith("https://")
    checks.append(Check("APP_URL", Status.OK if https else Status.WARN, settings.app_url))
    if settings.is_production and not settings.allowed_saleor_urls:
        checks.append(
            Check(
                "ALLOWED_SALEOR_URLS",
                Status.FAIL,
                "empty: in production no Saleor can install the app until its API URL is allowed",
            )
        )
    if settings.secret_key is None:
        checks.append(
            Check(
                "SECRET_KEY",
                Status.WARN,
                f"not set: using the development key in {settings.secret_key_file}",
            )
        )
    if not settings.oauth_configured:
        checks.append(
            Check(
                "Mailchimp OAuth",
                Status.WARN,
                "MAILCHIMP_CLIENT_ID/SECRET not set: stores can connect with an API key only",
            )
        )
    if settings.is_production and settings.is_sqlite:
        checks.append(
            Check(
                "DATABASE_URL",
                Status.WARN,
                "SQLite: run a single process (`addon serve`, no `addon worker`), its file on "
                "storage that outlives the container; PostgreSQL for more",
            )
        )
    if settings.metrics_token is None:
        checks.append(Check("METRICS_TOKEN", Status.WARN, "not set: /metrics is off"))
    if (problem := metrics.multiprocess_dir_problem()) is not None:
        checks.append(Check("PROMETHEUS_MULTIPROC_DIR", Status.FAIL, problem))
    elif (directory := metrics.multiprocess_dir()) is not None:
        checks.append(Check("PROMETHEUS_MULTIPROC_DIR", Status.OK, f"{directory} is writable"))
    return checks


async def _database_check(services: Services) -> Check:
    kind = "SQLite" if services.db.is_sqlite else "PostgreSQL"
    try:
        async with services.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        return Check("Database", Status.FAIL, f"{kind}: {type(exc).__name__}: {exc}")
    return Check("Database", Status.OK, f"{kind} answers")


async def _schema_check(services: Services) -> Check:
    current, heads = await current_revisions(services.db.engine), head_revisions()
    if current == heads:
        return Check("Schema", Status.OK, f"current ({', '.join(sorted(heads))})")
    at = ", ".join(sorted(current)) or "empty"
    return Check(
        "Schema",
        Status.FAIL,
        f"at {at}, newest is {', '.join(sorted(heads))}: run `addon migrate`",
    )


async def _previous_keys_check(services: Services) -> Check:
    """While SECRET_KEY_PREVIOUS is set (only then: a key change is under way), the stored
    secrets still under a previous key. One pass over the encrypted columns, decrypting nothing
    it returns, as `addon rotate-secrets` would, changing nothing."""
    name = "SECRET_KEY_PREVIOUS"
    rotation = await rotate_secrets(services.db, secret_box(services.settings), dry_run=True)
    if rotation.unreadable:
        shown = ", ".join(rotation.unreadable[:5])
        more = f" and {len(rotation.unreadable) - 5} more" if len(rotation.unreadable) > 5 else ""
        return Check(
            name,
            Status.FAIL,
            f"{len(rotation.unreadable)} stored secret(s) decrypt under no key ({shown}{more})",
        )
    if rotation.rotated:
        where = ", ".join(t.table for t in rotation.tables if t.rotated)
        return Check(
            name,
            Status.WARN,
            f"{rotation.rotated} stored secret(s) still under a previous key ({where}): "
            "run `addon rotate-secrets`",
        )
    return Check(
        name,
        Status.WARN,
        "no longer needed: every stored secret is under SECRET_KEY, remove SECRET_KEY_PREVIOUS",
    )


async def _saleor_check(services: Services, installation: Installation) -> Check:
    name = f"Saleor {installation.saleor_api_url}"
    if installation.uninstalled_at is not None:
        return Check(
            name, Status.WARN, "the app was uninstalled: erased once Mailchimp is cleaned up"
        )
    if not installation.is_active:
        return Check(name, Status.WARN, "the app is deactivated in this Saleor (paused)")
    try:
        data = await services.saleor.execute(
            installation.saleor_api_url,
            installation.app_token,
            "installation_check",
            notify_refusal=False,
        )
    except SaleorPermissionDenied:
        return Check(name, Status.FAIL, "answers, but refuses the app token (uninstalled?)")
    except SaleorError as exc:
        return Check(name, Status.FAIL, str(exc))
    if (data.get("app") or {}).get("id") != installation.app_id:
        return Check(name, Status.FAIL, "answers, but no longer knows the app (uninstalled?)")
    version = (data.get("shop") or {}).get("version") or "unknown version"
    return Check(name, Status.OK, f"answers ({version}); the app token is valid")


async def _webhooks_check(services: Services, installation: Installation) -> Check:
    """The app's webhooks in that Saleor against its documents (`webhook_upkeep.plan`), and
    those of them paused there (Saleor sends their events to nobody)."""
    name = f"Webhooks in {installation.saleor_domain}"
    try:
        installed = await installed_webhooks(
            services, installation.saleor_api_url, installation.app_token
        )
    except SaleorError as exc:
        return Check(name, Status.FAIL, f"cannot be read: {exc}")
    if installed is None:
        return Check(name, Status.FAIL, "cannot be read: Saleor no longer knows the app")
    wanted = wanted_webhooks(parse_version(installation.saleor_version))
    problems = []
    changes = plan(installed, wanted, services.settings.app_url, installation.webhook_key)
    if changes:
        listed = ", ".join(f"{c.action} {c.slug}" for c in changes)
        problems.append(
            f"{len(changes)} change(s) to match the app's documents ({listed}), made at the "
            "next lifecycle check"
        )
    if installation.webhook_key is not None:
        key = installation.webhook_key
        refused = key_refusals_among(installed, wanted, services.settings.app_url, key)
        if refused:
            problems.append(key_blocked_message(refused))
        # Those Saleor refused at the last upkeep for a reason the app does not foresee (the
        # others it reads afresh above: one fixed since is no longer said).
        stored = blocked_reasons(installation.webhooks_key_blocked)
        earlier = {
            slug: why for slug, why in stored.items() if slug not in refused and unforeseen(why)
        }
        if earlier:
            problems.append("at the last upkeep: " + key_blocked_message(earlier))
    paused = paused_among(installed, wanted, services.settings.app_url)
    if paused:
        problems.append(
            f"paused in Saleor, so their events reach nobody: {', '.join(paused)} (the "
            "Activity page turns them back on)"
        )
    if problems:
        return Check(name, Status.WARN, "; ".join(problems))
    return Check(name, Status.OK, f"{len(wanted)} active, as the app's documents say")


async def _mailchimp_check(
    services: Services, installation: Installation, connection: MailchimpConnection
) -> Check:
    name = f"Mailchimp of {installation.saleor_domain}"
    if connection.status is ConnectionStatus.REVOKED:
        # Mailchimp refused the credential: the store's sync stopped until an admin reconnects
        # (as when Saleor refuses the app token, `_saleor_check`).
        return Check(
            name,
            Status.FAIL,
            "revoked: Mailchimp refuses the app's credential, nothing syncs until the store "
            "reconnects Mailchimp on the app's page",
        )
    if connection.status is not ConnectionStatus.CONNECTED or connection.credential is None:
        return Check(name, Status.WARN, f"not connected ({connection.status.value})")
    account = connection.account_name or connection.account_id or "account"
    try:
        await MailchimpClient(services.mailchimp, credentials_of(connection)).ping()
    except MailchimpError as exc:
        return Check(name, Status.FAIL, f"{account}: ping failed: {exc}")
    return Check(name, Status.OK, f"{account}: ping answers")
