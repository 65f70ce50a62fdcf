"""A store's automations and connected site, and verifying the site's script.

Kept beside `client.py` (typed calls through its `request`): what the abandoned-cart health
and the storefront's site script need of Mailchimp. A store created through the API has a
connected site whose id is the store's (`connected_site.site_foreign_id`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from . import paths
from .client import MailchimpClient
from .models import MailchimpResource

__all__ = [
    "AbandonedCartAutomation",
    "ConnectedSite",
    "SiteScript",
    "StoreAutomations",
    "StoreConnectedSite",
    "StoreHealth",
    "get_connected_site",
    "store_health",
    "verify_script_installation",
]


class AbandonedCartAutomation(MailchimpResource):
    """`automations.abandoned_cart`; `id` and `status` only once one was built in Mailchimp."""

    is_supported: bool = False
    id: str | None = None
    status: Literal["save", "sending", "paused"] | None = None


class StoreAutomations(MailchimpResource):
    abandoned_cart: AbandonedCartAutomation = Field(default_factory=AbandonedCartAutomation)


class SiteScript(BaseModel):
    url: str = ""
    fragment: str = ""


class StoreConnectedSite(MailchimpResource):
    site_foreign_id: str = ""
    site_script: SiteScript = Field(default_factory=SiteScript)


class StoreHealth(MailchimpResource):
    """The fields of a store that say whether its automations can send."""

    id: str
    is_syncing: bool = False
    automations: StoreAutomations = Field(default_factory=StoreAutomations)
    connected_site: StoreConnectedSite | None = None


class ConnectedSite(MailchimpResource):
    foreign_id: str
    store_id: str = ""
    domain: str = ""
    site_script: SiteScript = Field(default_factory=SiteScript)


HEALTH_FIELDS = "id,is_syncing,automations,connected_site"


async def store_health(client: MailchimpClient, store_id: str) -> StoreHealth:
    data = await client.request("GET", paths.store(store_id), params={"fields": HEALTH_FIELDS})
    return client._parse(StoreHealth, data, paths.store(store_id))


async def get_connected_site(client: MailchimpClient, site_id: str) -> ConnectedSite:
    path = paths.connected_site(site_id)
    return client._parse(ConnectedSite, await client.request("GET", path), path)


async def verify_script_installation(client: MailchimpClient, site_id: str) -> None:
    """204 once Mailchimp finds the script on the site; a `BadRequest` when it does not."""
    await client.request("POST", paths.verify_script(site_id))
