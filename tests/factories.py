"""Small builders and readers of the rows the tests need directly (an installation, its jobs, its
Mailchimp connection), and the OAuth log-in's journey that makes a connection."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from addon.connection.models import MailchimpConnection
from addon.installations.models import Installation
from addon.jobs.models import HOUSEKEEPING_KINDS, Job
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from sandboxes.mailchimp import SandboxAccount
from tests.conftest import MAILCHIMP_URL, keep_browser_key


async def make_installation(
    services: Services, url: str = "http://saleor.test/graphql/", *, active: bool = True
) -> int:
    async with services.db.transaction() as session:
        installation = Installation(
            saleor_api_url=url,
            saleor_domain="saleor.test",
            app_id="QXBwOjE=",
            app_token=SecretStr("app-token"),
            jwks={"keys": []},
            is_active=active,
        )
        session.add(installation)
        await session.flush()
        return installation.id


def recorded_kind(services: Services, kind: str) -> list[int]:
    """Register a job kind whose handler only notes the ids of the jobs it runs, in order."""
    ran: list[int] = []

    async def record(job: ClaimedJob, _: Services) -> None:
        ran.append(job.id)

    services.handlers.register(kind, record)
    return ran


async def installation(services: Services) -> Installation | None:
    async with services.db.session() as session:
        result = await session.execute(select(Installation))
        return result.scalar_one_or_none()


async def count_jobs(services: Services) -> int:
    """Jobs besides the app's own upkeep (the lifecycle check, the version's announcement)."""
    async with services.db.session() as session:
        statement = select(func.count()).select_from(Job).where(Job.kind.not_in(HOUSEKEEPING_KINDS))
        return int((await session.execute(statement)).scalar_one())


async def connection_row(services: Services) -> MailchimpConnection:
    async with services.db.session() as session:
        return (await session.execute(select(MailchimpConnection))).scalar_one()


async def oauth(
    client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount, flow: str = "login"
) -> tuple[httpx.Response, str]:
    """Run the pop-up's journey: start, Mailchimp's authorize page, back to the callback."""
    start = await client.get(
        "/api/connection/oauth/start",
        params={"flow": flow},
        headers={**headers, "accept": "application/json"},
    )
    assert start.status_code == 200, start.text
    keep_browser_key(client, start.json())
    authorize_url = start.json()["authorize_url"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    page = await client.get(authorize_url)
    assert page.status_code == 200 and account.name in page.text
    allowed = await client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "account_id": account.id, "decision": "allow"},
    )
    assert allowed.status_code == 302
    callback = allowed.headers["location"]
    return await client.get(callback), callback
