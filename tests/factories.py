"""Small builders for rows the tests need directly."""

from __future__ import annotations

from pydantic import SecretStr

from addon.installations.models import Installation
from addon.jobs.schemas import ClaimedJob
from addon.services import Services


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
