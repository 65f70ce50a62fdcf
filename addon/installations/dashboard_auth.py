"""Authentication of the app's own API calls from its pages inside the Saleor dashboard.

The dashboard hands the page a short-lived RS256 JWT (through app-bridge); the page sends it as
`authorization-bearer`, with `saleor-api-url` naming the installation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Security
from fastapi.security import APIKeyHeader
from pydantic import SecretStr

from addon.dependencies import ServicesDep
from addon.errors import ErrorCode, Forbidden, Unauthorized
from addon.installations.lifecycle import dashboard_check
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.signing_keys import SigningKeys
from addon.openapi import raises
from addon.saleor.jws import verify_dashboard_token
from addon.saleor.schemas import DashboardTokenClaims

# The token the dashboard hands the app's pages (an OpenAPI security scheme).
DASHBOARD_TOKEN = APIKeyHeader(
    name="authorization-bearer",
    scheme_name="dashboardToken",
    description="The JWT the Saleor dashboard hands the app's pages through app-bridge.",
    auto_error=False,
)

# What a staff user needs to change the app's settings.
MANAGE_APP_SETTINGS = ("MANAGE_APPS",)


@dataclass(frozen=True)
class DashboardContext:
    installation: Installation
    claims: DashboardTokenClaims
    token: SecretStr  # the dashboard's token, to ask Saleor as the user (app { isActive })


def _not_installed() -> Unauthorized:
    return Unauthorized(
        "The app is not installed for this Saleor.", code=ErrorCode.UNKNOWN_INSTALLATION
    )


def require_dashboard(
    *permissions: str,
) -> Callable[..., Awaitable[DashboardContext]]:
    """A dependency that admits a dashboard user holding all `permissions`."""

    @raises(401, 403, 502, required_headers=("saleor-api-url",))
    async def dependency(
        services: ServicesDep,
        authorization_bearer: Annotated[str | None, Security(DASHBOARD_TOKEN)],
        saleor_api_url: Annotated[
            str | None, Header(description="The API URL of the Saleor the app is installed in.")
        ] = None,
    ) -> DashboardContext:
        if not authorization_bearer or not saleor_api_url:
            raise Unauthorized(
                "Missing authorization-bearer or saleor-api-url header; "
                "open the app from the Saleor dashboard.",
                code=ErrorCode.MISSING_AUTHENTICATION,
            )
        # Verified before the request's transaction starts (see installations.signing_keys).
        signing_keys = SigningKeys(services.db, services.settings, services.saleor)
        keys = await signing_keys.load(saleor_api_url)
        if keys is None:
            raise Unauthorized(
                "The app is not installed for this Saleor.", code=ErrorCode.UNKNOWN_INSTALLATION
            )
        claims = await signing_keys.verify_token(
            keys,
            lambda jwks: verify_dashboard_token(jwks, authorization_bearer, saleor_api_url),
            when_expired="reload the page",
        )
        # Read outside the request's transaction too: that transaction begins with the
        # endpoint's first statement, so an endpoint can call Mailchimp or Saleor before it
        # (on SQLite it holds the write lock from that statement on).
        async with services.db.session() as read:
            installation = await InstallationRepository(read).get(keys.installation_id)
        if installation is None:  # erased since the keys were read
            raise _not_installed()
        if claims.app != installation.app_id:
            raise Unauthorized(
                "The token was issued for another app.", code=ErrorCode.INVALID_TOKEN
            )
        missing = [p for p in permissions if p not in claims.user_permissions]
        if missing:
            raise Forbidden(
                "You need these permissions in Saleor to use this: " + ", ".join(missing) + ".",
                code=ErrorCode.MISSING_PERMISSIONS,
            )
        token = SecretStr(authorization_bearer)
        # Where Saleor sends the app no lifecycle webhooks, a dashboard load reads its state.
        checked = await dashboard_check(services, installation, token)
        if checked is None:  # erased while Saleor was asked
            raise _not_installed()
        return DashboardContext(installation=checked, claims=claims, token=token)

    return dependency


DashboardAuth = Annotated[DashboardContext, Depends(require_dashboard(*MANAGE_APP_SETTINGS))]
