"""What the app's API says about an installation (never its secrets)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from addon.db.read import RowRead
from addon.installations.delivery_key import blocked_reasons, key_blocked_message
from addon.installations.models import LifecycleSignal, MailchimpCleanup
from addon.saleor.manifest import webhook_by_slug


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


class PausedWebhook(BaseModel):
    """One of the app's webhooks a staff member paused in Saleor: its events reach nobody."""

    slug: str = Field(description="The document's name, e.g. ecommerce-products")
    events: list[str] = Field(description="Saleor's events it carries, e.g. PRODUCT_UPDATED")


class PausedWebhooks(BaseModel):
    paused: list[PausedWebhook] = Field(description="Those still paused (none, normally)")
    checked_at: datetime | None = Field(description="When the app last read them in Saleor")


def paused_webhooks(slugs: list[str] | None) -> list[PausedWebhook]:
    """The paused webhooks the installation records (`webhook_upkeep`), with their events."""
    found = [(slug, webhook_by_slug(slug)) for slug in slugs or []]
    return [PausedWebhook(slug=slug, events=list(d.events)) for slug, d in found if d is not None]


def key_blocked_problem(stored: dict[str, str] | list[str] | None) -> str | None:
    """What the admin reads of the lifecycle webhooks the delivery key cannot be added to
    (`Installation.webhooks_key_blocked`); None: nothing to do."""
    reasons = blocked_reasons(stored)
    return key_blocked_message(reasons) if reasons else None


class Farewell(BaseModel):
    """What an uninstall removed from Mailchimp before its erasure."""

    cleanup: MailchimpCleanup
    carts_deleted: int | None = None
    webhooks_deleted: int | None = None
