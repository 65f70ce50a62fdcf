"""The public storefront API's e-commerce part: restoring a cart from its e-mailed link, and
the Mailchimp site script of a channel's store. Same rules as the rest of `/api/storefront`
(`addon.subscriptions.endpoints`): the installation named by `saleor_api_url`, the per-address
rate limit, CORS limited to the store's allowed origins."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from addon.db.types import utcnow
from addon.dependencies import ServicesDep
from addon.ecommerce import restore, store_checks
from addon.errors import error_responses
from addon.subscriptions.cors import StorefrontRoute
from addon.subscriptions.endpoints import StoreDep

router = APIRouter(
    prefix="/api/storefront", route_class=StorefrontRoute, responses=error_responses(403)
)


class RestoreRequest(BaseModel):
    link: str = Field(
        min_length=1, max_length=2048, description="The `{restore}` value of the cart's link."
    )


class RestoredCheckout(BaseModel):
    checkout_id: str = Field(
        description="A new checkout with the cart's lines and e-mail (for `checkout(id:)`); "
        "never the original checkout, whose token would grant more than the cart."
    )
    checkout_token: str = Field(description="The new checkout's token, as storefronts keep it.")
    channel: str
    dropped_lines: int = Field(
        description="Lines of the cart left out: their product can no longer be bought in the "
        "channel, or none of it is in stock."
    )
    reduced_lines: int = Field(
        description="Lines the checkout holds fewer of than the cart did: only that many are "
        "in stock, or a quantity limit allows no more."
    )


class SiteScript(BaseModel):
    channel: str
    url: str = Field(description="Load this script on every page (async).")
    fragment: str = Field(description="Mailchimp's ready-made <script> tag for the same URL.")


@router.post("/cart/restore", responses=error_responses(400, 404, 429, 502))
async def restore_cart(
    body: RestoreRequest, installation: StoreDep, services: ServicesDep
) -> RestoredCheckout:
    """Exchange a cart's restore link for a checkout with the cart's lines (refused when changed
    or expired; the same checkout again while it still has lines)."""
    cart = await restore.restore(services, installation, body.link)
    return RestoredCheckout(
        checkout_id=cart.checkout_id,
        checkout_token=cart.checkout_token,
        channel=cart.channel,
        dropped_lines=cart.dropped_lines,
        reduced_lines=cart.reduced_lines,
    )


@router.get("/site-script", responses=error_responses(404, 429))
async def site_script(
    installation: StoreDep,
    services: ServicesDep,
    response: Response,
    channel: Annotated[str, Query(min_length=1, max_length=255)],
) -> SiteScript:
    """The Mailchimp site script of the channel's store (cache it as Cache-Control says)."""
    check = await store_checks.script_for(services, installation.id, channel)
    # Cached for what is left of the answer's freshness; a stale one (Mailchimp failing) only
    # until the app asks Mailchimp again, so a CDN does not keep it for a whole cache age.
    fresh = services.settings.site_script_cache_seconds - (
        (utcnow() - check.checked_at).total_seconds()
    )
    max_age = math.ceil(fresh) if fresh > 0 else int(store_checks.RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return SiteScript(
        channel=channel, url=check.script_url or "", fragment=check.script_fragment or ""
    )
