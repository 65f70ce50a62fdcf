"""Nothing is connected to an uninstalled installation (waiting for its last job to erase it).
An OAuth log-in started before the uninstall and completed after it stored a Mailchimp token
and told the admin "connected": the callback checked only that the installation was not erased
yet, and saving checked nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from addon.connection.linking import Linking
from addon.connection.models import ConnectionMethod, MailchimpConnection
from addon.db.types import utcnow
from addon.errors import BadRequest, ErrorCode
from addon.installations.models import Installation
from addon.mailchimp import Account, ApiKey, MailchimpCredentials
from addon.services import Services
from sandboxes.mailchimp import SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import MAILCHIMP_URL, keep_browser_key
from tests.factories import installation


async def _stored_credential(services: Services) -> str | None:
    async with services.db.session() as session:
        row = (await session.execute(select(MailchimpConnection))).scalar_one_or_none()
    return None if row is None else row.credential


async def test_an_oauth_callback_after_the_uninstall_connects_nothing(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
) -> None:
    start = await app_client.get(
        "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
    )
    assert start.status_code == 200, start.text
    keep_browser_key(app_client, start.json())
    params = {k: v[0] for k, v in parse_qs(urlsplit(start.json()["authorize_url"]).query).items()}
    allowed = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "account_id": account.id, "decision": "allow"},
    )
    # Meanwhile the admin uninstalls the app (its APP_DELETED applied; erased by its last job).
    [delivery] = await saleor.uninstall_app(installed_app)
    assert delivery.status_code == 200, delivery.response_body
    stored = await installation(services)
    assert stored is not None and stored.uninstalled_at is not None
    page = await app_client.get(allowed.headers["location"])
    assert page.status_code == 400, page.text
    assert await _stored_credential(services) is None


async def test_saving_for_an_installation_uninstalled_meanwhile_is_refused(
    installed_app: SandboxApp, account: SandboxAccount, services: Services
) -> None:
    """The request read the installation before an uninstall committed (an OAuth callback
    waiting on Mailchimp, an API key being checked)."""
    credentials = MailchimpCredentials.from_api_key(ApiKey.parse(account.api_key))
    async with services.db.transaction() as session:
        stale = (await session.execute(select(Installation))).scalar_one()
        # Committed by the uninstall meanwhile; the request's object still says installed.
        await session.execute(
            update(Installation)
            .where(Installation.id == stale.id)
            .values(uninstalled_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        assert stale.uninstalled_at is None
        with pytest.raises(BadRequest) as refused:
            await Linking(session, services).save(
                stale,
                ConnectionMethod.API_KEY,
                credentials,
                Account(account_id=account.id, account_name="Shop"),
            )
    assert refused.value.code == ErrorCode.UNKNOWN_INSTALLATION
    assert await _stored_credential(services) is None
