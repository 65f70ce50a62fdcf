"""Apps of ``SaleorSandbox``, installed as Saleor installs them (manifest, subscription
queries validated, auth token handshake), activated, deactivated and uninstalled with their
lifecycle events."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import httpx

from .ids import pk_from_global_id
from .manifest_errors import InstallationFailed
from .manifest_rules import check_manifest
from .models import SandboxApp, WebhookConfig
from .sandbox_webhooks import SandboxWebhooks
from .versions import schema_version, sends_own_lifecycle_events
from .webhooks import Delivery, events_from_query

_TOKEN_CHARS = string.ascii_letters + string.digits

__all__ = ["InstallationFailed", "SandboxApps"]


class SandboxApps(SandboxWebhooks):
    """Apps installed, activated, deactivated and removed as Saleor does it."""

    refuses_duplicate_identifiers: bool = True
    """Refuse an app whose ``id`` an installed app has ("App with the same identifier is
    already installed: <name>"), in the versions that refuse it: 3.19.61+ and 3.20.1+
    (saleor/app/manifest_validations.py at tags 3.19.61 and 3.20.1, not at 3.19.60 or 3.20.0;
    see ``manifest_rules.refuses_duplicate_identifier``), so every version the sandbox plays.
    A test playing a Saleor without the check (3.20.0 or older) switches it off; any other
    installs an app again only after removing it, and two apps under two identifiers."""

    refuses_manage_apps: bool = False
    """Refuse MANAGE_APPS in the permissions granted (or an extension's), as Saleor main does
    since saleor/saleor#19166 (commit 4eb5981, in main@723cd4e, the current version played, but
    in no release tag: 3.23.28 and 3.22.67 lack it). Off while no released Saleor refuses it."""

    # -- apps ----------------------------------------------------------------------------------

    async def install_app(
        self, manifest_url: str, permissions: list[str] | None = None, activate: bool = True
    ) -> SandboxApp:
        """Install the app whose manifest is at ``manifest_url``, as Saleor does.

        Raises :class:`InstallationFailed` if the manifest cannot be fetched or is invalid, or
        if the app rejects the auth token (non-2xx; its ``error.message`` is carried along).
        """
        async with self._client() as client:
            try:
                response = await client.get(manifest_url, follow_redirects=False)
            except httpx.HTTPError as exc:
                raise InstallationFailed(f"Unable to fetch manifest data: {exc}") from exc
            if response.status_code != 200:
                raise InstallationFailed(
                    "Unable to fetch manifest data.", status_code=response.status_code
                )
            try:
                manifest = response.json()
            except ValueError as exc:
                raise InstallationFailed("Incorrect structure of manifest.") from exc
            app = self._app_from_manifest(manifest, manifest_url, permissions, activate)
            self.store.apps[app.id] = app
            try:
                await self._send_app_token(client, app)
            except BaseException:
                self.store.apps.pop(app.id, None)
                raise
        await self.emit("APP_INSTALLED", app)
        return app

    def _app_from_manifest(
        self,
        manifest: Any,
        manifest_url: str,
        permissions: list[str] | None,
        activate: bool,
    ) -> SandboxApp:
        if not isinstance(manifest, dict):
            raise InstallationFailed("Incorrect structure of manifest.")
        granted = permissions if permissions is not None else manifest.get("permissions", [])
        # saleor/app/manifest_validations.py (clean_manifest_data): every rule, see manifest_rules.
        check_manifest(
            manifest,
            version=self.version,
            granted=granted,
            installed=(
                {a.identifier: a.name for a in self.store.apps.values() if a.identifier}
                if self.refuses_duplicate_identifiers
                else None
            ),
            refuse_manage_apps=self.refuses_manage_apps,
        )
        granted = list(granted)
        token_target = str(manifest["tokenTargetUrl"])
        app_pk = self.store.next_id()
        webhooks = []
        for spec in manifest.get("webhooks") or []:
            query = str(spec["query"])
            async_events = list(spec.get("asyncEvents") or [])
            if not async_events and not spec.get("syncEvents"):
                async_events = events_from_query(query)
            headers = spec.get("customHeaders") or {}
            webhooks.append(
                WebhookConfig(
                    id=self.store.next_id(),
                    app_id=app_pk,
                    name=str(spec["name"]),
                    target_url=str(spec["targetUrl"]),
                    is_active=spec.get("isActive", True),
                    async_events=async_events,
                    sync_events=list(spec.get("syncEvents") or []),
                    query=query,
                    # custom_headers_validator returns the keys lower-cased
                    custom_headers={key.lower(): value for key, value in headers.items()},
                )
            )
        return SandboxApp(
            id=app_pk,
            name=str(manifest["name"]),
            identifier=str(manifest["id"]),
            version=str(manifest["version"]),
            permissions=granted,
            manifest_url=manifest_url,
            manifest=manifest,
            app_url=manifest.get("appUrl"),
            token_target_url=token_target,
            about_app=manifest.get("about"),
            homepage_url=manifest.get("homepageUrl"),
            support_url=manifest.get("supportUrl"),
            data_privacy_url=manifest.get("dataPrivacyUrl"),
            author=manifest["author"].strip() if manifest.get("author") else None,
            is_active=activate,
            # oauthlib's `generate_token()`, as saleor/app/models.py `AppTokenManager.create`.
            auth_token="".join(secrets.choice(_TOKEN_CHARS) for _ in range(30)),
            webhooks=webhooks,
        )

    async def _send_app_token(self, client: httpx.AsyncClient, app: SandboxApp) -> None:
        assert app.token_target_url is not None
        headers = {
            "Content-Type": "application/json",
            "Saleor-Domain": self.domain,
            "Saleor-Api-Url": self.api_url,
            # major.minor only (saleor/app/installation_utils.py, send_app_token)
            "Saleor-Schema-Version": schema_version(self.version),
        }
        body = json.dumps({"auth_token": app.auth_token}).encode()
        try:
            response = await client.post(app.token_target_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise InstallationFailed(
                "Failed to connect to app. Try later or contact with app support."
            ) from exc
        if response.is_success:
            return
        message = f"Client error '{response.status_code}' for url '{app.token_target_url}'"
        code: str | None = None
        try:
            error = response.json()["error"]
            message = str(error["message"])
            code = str(error.get("code")) if error.get("code") is not None else None
        except (ValueError, KeyError, TypeError):
            pass
        raise InstallationFailed(message, status_code=response.status_code, code=code)

    async def set_app_active(self, app: SandboxApp, active: bool) -> list[Delivery]:
        """``appActivate`` / ``appDeactivate``: set the state, then send APP_STATUS_CHANGED as
        the version played does (see :meth:`_lifecycle_event`)."""
        current = self.store.apps[app.id]
        current.is_active = active
        return await self._lifecycle_event("APP_STATUS_CHANGED", current)

    async def uninstall_app(self, app: SandboxApp) -> list[Delivery]:
        """``appDelete``: deactivate the app (its token stops authenticating), send APP_DELETED
        as the version played does, then remove the app and its webhooks."""
        current = self.store.apps[app.id]
        current.is_active = False  # saved before the event fires, as Saleor's appDelete does
        deliveries = await self._lifecycle_event("APP_DELETED", current)
        self.store.apps.pop(current.id, None)
        return deliveries

    async def _lifecycle_event(self, event_type: str, app: SandboxApp) -> list[Delivery]:
        """Since 3.23.5 (saleor/saleor#19160) an app's lifecycle event goes to that app's own
        webhooks only, whatever its state; before, like any event, to the active apps holding
        MANAGE_APPS, and so never to an app just deactivated or deleted."""
        if sends_own_lifecycle_events(self.version):
            return await self.emit(event_type, app, include_app=app, only_app=app)
        return await self.emit(event_type, app)

    def get_app(self, app_id: int | str) -> SandboxApp:
        """An installed app by pk or global ID."""
        pk = app_id if isinstance(app_id, int) else pk_from_global_id(app_id, "App")
        return self.store.apps[pk]
