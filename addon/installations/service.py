"""Install, pause, resume and erase installations (signing keys: see signing_keys)."""

from __future__ import annotations

import logging

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.db.types import utcnow
from addon.errors import AppError, ErrorCode, Forbidden, Unauthorized, UpstreamUnavailable
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.saleor.client import SaleorClient, SaleorQueryError, SaleorUnavailable, saleor_domain
from addon.saleor.schemas import AppLifecycleEvent

logger = logging.getLogger(__name__)


class InstallationService:
    def __init__(self, session: AsyncSession, settings: Settings, saleor: SaleorClient) -> None:
        self.session = session
        self.settings = settings
        self.saleor = saleor
        self.repository = InstallationRepository(session)

    def ensure_allowed(self, saleor_api_url: str) -> None:
        if not self.settings.is_saleor_url_allowed(saleor_api_url):
            raise Forbidden(
                f"This app does not accept installations from {saleor_api_url}. "
                "Ask its operator to add the URL to ALLOWED_SALEOR_URLS.",
                code=ErrorCode.SALEOR_URL_PROHIBITED,
            )

    async def register(
        self, saleor_api_url: str, domain: str | None, auth_token: str
    ) -> Installation:
        """Saleor's `tokenTargetUrl` flow. Nothing goes out before the allow-list check."""
        self.ensure_allowed(saleor_api_url)
        token = SecretStr(auth_token)
        try:
            data = await self.saleor.execute(saleor_api_url, token, "app_id")
        except SaleorQueryError as exc:
            raise Unauthorized(
                f"Saleor did not accept the app token: {exc}", code=ErrorCode.INVALID_APP_TOKEN
            ) from exc
        except SaleorUnavailable as exc:
            raise UpstreamUnavailable(str(exc), code=ErrorCode.SALEOR_UNREACHABLE) from exc
        app = data.get("app") or {}
        app_id = app.get("id")
        if not app_id:
            raise Unauthorized(
                "Saleor did not confirm the app token ({ app { id } } returned nothing).",
                code=ErrorCode.INVALID_APP_TOKEN,
            )
        try:
            jwks = await self.saleor.fetch_jwks(saleor_api_url)
        except SaleorUnavailable as exc:
            raise UpstreamUnavailable(str(exc), code=ErrorCode.JWKS_UNAVAILABLE) from exc

        installation = await self.repository.get_by_api_url(saleor_api_url)
        if installation is None:
            installation = Installation(saleor_api_url=saleor_api_url)
            self.session.add(installation)
        # A re-install replaces the credentials and reactivates the installation.
        installation.saleor_domain = domain or saleor_domain(saleor_api_url)
        installation.app_id = app_id
        installation.app_token = token
        installation.jwks = jwks.as_dict()
        installation.jwks_fetched_at = utcnow()
        installation.is_active = True
        installation.status_changed_at = None
        await self.session.flush()
        logger.info("Installed for %s (app %s)", saleor_api_url, app_id)
        return installation

    async def apply_status_change(
        self, installation: Installation, event: AppLifecycleEvent
    ) -> bool:
        """Pause or resume processing. Returns False for a stale (older) delivery."""
        if event.app is None or event.app.is_active is None:
            raise AppError(
                "APP_STATUS_CHANGED without app.isActive", code=ErrorCode.INVALID_PAYLOAD
            )
        issued_at = event.issued_at or utcnow()
        if installation.status_changed_at and issued_at <= installation.status_changed_at:
            logger.info("Ignored an older APP_STATUS_CHANGED for %s", installation.saleor_api_url)
            return False
        installation.is_active = event.app.is_active
        installation.status_changed_at = issued_at
        await self.session.flush()
        state = "resumed" if installation.is_active else "paused"
        logger.info("Processing %s for %s", state, installation.saleor_api_url)
        return True

    async def erase(self, installation: Installation) -> None:
        """APP_DELETED: remove the installation with all its data and secrets."""
        url = installation.saleor_api_url
        await self.repository.delete(installation)
        await self.session.flush()
        logger.info("Uninstalled: erased all data of %s", url)
