"""`addon doctor`: a line per check, exit code 1 when one fails; Saleor and Mailchimp checked
through the sandboxes (token refused, key revoked), the command itself on a fresh database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from addon.cli import cli
from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.doctor import Check, Status, run_checks
from addon.installations.webhook_plan import slug_of
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import dashboard_headers
from tests.test_connection import connect_key


async def checks(services: Services) -> dict[str, Check]:
    return {check.name: check async for check in run_checks(services)}


async def test_saleor_and_mailchimp_are_checked_per_installation(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    account: SandboxAccount = mailchimp.create_account("Green Grocer", "owner@grocer.example")
    headers = dashboard_headers(saleor, installed_app)
    assert (await connect_key(app_client, headers, account.api_key)).status_code == 200
    saleor_check, mailchimp_check = f"Saleor {saleor.api_url}", f"Mailchimp of {saleor.domain}"

    found = await checks(services)
    assert found["Database"].status is Status.OK
    assert found["Schema"].status is Status.OK
    assert found["Stored credentials"].status is Status.OK
    assert found[saleor_check].status is Status.OK, found[saleor_check]
    assert "app token is valid" in found[saleor_check].detail
    assert found[mailchimp_check] == Check(mailchimp_check, Status.OK, "Green Grocer: ping answers")
    assert not [c for c in found.values() if c.status is Status.FAIL]

    # Saleor stops accepting the token (an app deleted without telling this app), and the
    # Mailchimp key is revoked: both fail, and the doctor changes nothing.
    saleor.store.apps[installed_app.id].is_active = False
    mailchimp.revoke(account)
    found = await checks(services)
    assert found[saleor_check].status is Status.FAIL and "refuses" in found[saleor_check].detail
    assert found[mailchimp_check].status is Status.FAIL
    assert "ping failed" in found[mailchimp_check].detail
    assert account.api_key not in found[mailchimp_check].detail
    again = await checks(services)
    assert again[mailchimp_check].status is Status.FAIL  # still connected as far as the app knows


def test_the_command_fails_until_the_schema_is_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_logging: None
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env, and the development key file lands here
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'doctor.db'}",
        "APP_URL": "https://mailchimp.example.com",
        "SECRET_KEY": "doctor-test-secret-key-0123456789abcdef",
    }
    runner = CliRunner()
    before = runner.invoke(cli, ["doctor"], env=env)
    assert before.exit_code == 1, before.output
    assert "Database: SQLite answers" in before.output
    assert "run `addon migrate`" in before.output and "1 check(s) failed." in before.output

    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    after = runner.invoke(cli, ["doctor"], env=env)
    assert after.exit_code == 0, after.output
    assert "✓ Schema: current" in after.output and "All checks passed." in after.output
    assert "! METRICS_TOKEN: not set" in after.output

    # Production refuses an http APP_URL as a setting (exit code 2, as every command does).
    production = {**env, "APP_ENV": "production"}
    http = runner.invoke(cli, ["doctor"], env={**production, "APP_URL": "http://m.example.com"})
    assert http.exit_code == 2
    assert "APP_URL must be the app's public https origin" in http.output
    refused = runner.invoke(cli, ["doctor"], env=production)
    assert refused.exit_code == 1
    assert "ALLOWED_SALEOR_URLS: empty" in refused.output
    # A SQLite DATABASE_URL given explicitly starts (a single process on a volume): a warning.
    assert "! DATABASE_URL: SQLite: run a single process" in refused.output


async def test_the_apps_webhooks_are_checked_against_its_documents(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services
) -> None:
    name = f"Webhooks in {saleor.domain}"
    await Worker(services).run_until_idle()  # the upkeep registers CUSTOMER_DELETED here
    found = await checks(services)
    assert found[name].status is Status.OK and "as the app's documents say" in found[name].detail

    # A staff member paused one; another holds an older document (an upgrade not yet upkept).
    hooks = {slug_of(h.target_url): h for h in installed_app.webhooks}
    hooks["ecommerce-products"].is_active = False
    hooks[
        "ecommerce-customers"
    ].query = "subscription { event { ... on CustomerUpdated { user { id } } } }"
    found = await checks(services)
    assert found[name].status is Status.WARN
    assert "(update ecommerce-customers)" in found[name].detail
    assert "reach nobody: ecommerce-products" in found[name].detail
    assert hooks["ecommerce-products"].is_active is False  # the doctor changes nothing


async def test_a_revoked_mailchimp_connection_fails_the_check(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
    services: Services,
) -> None:
    """Mailchimp answered 401 and the app marked the connection revoked: the store's sync has
    stopped until it reconnects, a failure as a refused Saleor app token is."""
    account = mailchimp.create_account("Green Grocer", "owner@grocer.example")
    headers = dashboard_headers(saleor, installed_app)
    assert (await connect_key(app_client, headers, account.api_key)).status_code == 200
    name = f"Mailchimp of {saleor.domain}"
    async with services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=ConnectionStatus.REVOKED))
    found = await checks(services)
    assert found[name].status is Status.FAIL and "revoked" in found[name].detail

    # Disconnected by the store's admin on purpose: worth knowing, not a failure.
    async with services.db.transaction() as session:
        await session.execute(
            update(MailchimpConnection).values(
                status=ConnectionStatus.DISCONNECTED, credential=None
            )
        )
    found = await checks(services)
    assert found[name].status is Status.WARN and "disconnected" in found[name].detail


async def test_an_unusable_metrics_directory_fails_the_check(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prometheus-client finds out only at the first count, and every Mailchimp request,
    webhook and job outcome then raises: the doctor says so before."""
    name = "PROMETHEUS_MULTIPROC_DIR"
    assert name not in await checks(services)  # unset: each process counts for itself
    directory = tmp_path / "metrics"
    monkeypatch.setenv(name, str(directory))
    found = await checks(services)
    assert found[name].status is Status.FAIL and "does not exist" in found[name].detail
    directory.write_text("")
    found = await checks(services)
    assert found[name].status is Status.FAIL and "is not a directory" in found[name].detail
    directory.unlink()
    directory.mkdir()
    found = await checks(services)
    assert found[name].status is Status.OK, found[name]
