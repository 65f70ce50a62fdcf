"""Small builders for rows the tests need directly."""

from __future__ import annotations

from pydantic import SecretStr

from addon.installations.models import Installation
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
