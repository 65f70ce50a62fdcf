"""What the app's API says about an installation (never its secrets)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from addon.db.read import RowRead
from addon.installations.models import LifecycleSignal


class InstallationRead(RowRead):
    saleor_api_url: str
    saleor_domain: str
    saleor_version: str | None = Field(description='Saleor\'s full version, e.g. "3.20.119"')
    app_id: str
    is_active: bool
    status_noticed_by: LifecycleSignal | None = Field(
        description="How the latest pause or resume was noticed"
    )
    refused_since: datetime | None = Field(
        description="Since when Saleor refuses the app token (deactivated or uninstalled)"
    )
    checked_at: datetime | None = Field(description="The last lifecycle check Saleor answered")
    installed_at: datetime
    updated_at: datetime
    signing_key_ids: list[str]
    user_email: str | None
    user_permissions: list[str]
