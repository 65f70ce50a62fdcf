"""The public storefront API's e-commerce part: restoring a cart from its e-mailed link, and
the Mailchimp site script of a channel's store. Same rules as the rest of `/api/storefront`
(`addon.subscriptions.endpoints`): the installation named by `saleor_api_url`, CORS limited to
the store's allowed origins; the site script under the per-address rate limit.

A restore link is exchanged by the store's own server for every shopper (the documented Next.js
route), so the exchange is not limited per address, which that server would use up for all its
shoppers at once: it is limited per cart (replays of one link) and, for refusals only (a changed
or foreign link, an unknown store), per address (`StorefrontLimits.check_cart`,
`check_refused`). A good link is never held up by others' bad ones. Every 429 of these routes
says when to try again (`Retry-After`, as every 429 of the app's limits).
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from addon.db.types import utcnow
from addon.dependencies import ServicesDep
from addon.ecommerce import restore, store_checks
from addon.errors import AppError, ErrorCode, NotFound, error_responses
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.openapi import raises
from addon.subscriptions.cors import STOREFRONT_PREFIX, StorefrontRoute
from addon.subscriptions.endpoints import StoreDep
from addon.subscriptions.ratelimit import StorefrontLimits

router = APIRouter(
    prefix=STOREFRONT_PREFIX, route_class=StorefrontRoute, responses=error_responses(403)
)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@raises(404, 429)
async def restoring_store(
    request: Request,
    services: ServicesDep,
    saleor_api_url: Annotated[str, Query(max_length=512)],
) -> Installation:
    """The installation the storefront names, as `StoreDep` reads it but without the
    per-address limit; an unknown store counts as a refusal of the address."""
    async with services.db.session() as read:
        installation = await InstallationRepository(read).get_by_api_url(saleor_api_url)
    if installation is None or not installation.is_active:
        await StorefrontLimits(services).check_refused(_client(request))
        raise NotFound(
            "No store with this Saleor API URL uses the app.", code=ErrorCode.UNKNOWN_STORE
        )
    return installation


RestoringStore = Annotated[Installation, Depends(restoring_store)]


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
    dropped_voucher_code: str | None = Field(
        None,
        description="Only when the cart had a voucher code Saleor no longer accepts (ended, "
        "used up, or the checkout does not meet its conditions): that code, left out, so the "
        "checkout has no discount. Absent when there was none or it was carried, and on a "
        "later exchange once the checkout has a voucher code (the shopper applied one).",
    )
    dropped_voucher_reason: str | None = Field(
        None,
        description="With `dropped_voucher_code`: Saleor's reason. `INVALID`: the code is no "
        "longer valid (ended, used up, deactivated). `VOUCHER_NOT_APPLICABLE`: the checkout "
        "does not meet its conditions now, among them a shipping voucher, which Saleor takes "
        "only once the checkout has a delivery method: apply it again with "
        "`checkoutAddPromoCode` then.",
    )


class SiteScript(BaseModel):
    channel: str
    url: str = Field(description="Load this script on every page (async).")
    fragment: str = Field(description="Mailchimp's ready-made <script> tag for the same URL.")


# `dropped_voucher_code` only when there is one: the answer of a cart without a refused code is
# the same as before the field.
@router.post(
    "/cart/restore",
    responses=error_responses(400, 404, 409, 429, 502),
    response_model_exclude_none=True,
)
async def restore_cart(
    body: RestoreRequest, installation: RestoringStore, services: ServicesDep, request: Request
) -> RestoredCheckout:
    """Exchange a cart's restore link for a checkout with the cart's lines (refused when changed
    or expired): the same checkout every time while Saleor has it, CART_GONE once it was
    ordered."""
    limits = StorefrontLimits(services)
    try:
        link = await restore.read_link(services, installation, body.link)
    except AppError as exc:
        # Changed or foreign: what a flood of made-up links gets. Expired links are real ones,
        # from old e-mails: they answer as they are.
        if exc.code is ErrorCode.RESTORE_LINK_INVALID:
            await limits.check_refused(_client(request))
        raise
    await limits.check_cart(installation.id, link.checkout_id)
    cart = await restore.restore(services, installation, link)
    return RestoredCheckout(
        checkout_id=cart.checkout_id,
        checkout_token=cart.checkout_token,
        channel=cart.channel,
        dropped_lines=cart.dropped_lines,
        reduced_lines=cart.reduced_lines,
        dropped_voucher_code=cart.dropped_voucher_code,
        dropped_voucher_reason=cart.dropped_voucher_reason,
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
