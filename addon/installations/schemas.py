"""What the app's API says about an installation (never its secrets)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class InstallationRead(BaseModel):
    saleor_api_url: str
    saleor_domain: str
    app_id: str
    is_active: bool
    installed_at: datetime
    updated_at: datetime
    signing_key_ids: list[str]
    user_email: str | None
    user_permissions: list[str]
