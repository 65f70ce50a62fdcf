"""Whether a product is on offer in a channel: published there and available for purchase.

Saleor shows customers a product only once its channel listing is published (`is_published`,
and `published_at` passed or unset: saleor/core/models.py `PublishableModel.is_visible`), and
sells it only once `available_for_purchase_at` has passed (never while unset:
saleor/product/models.py `ProductChannelListing.is_available_for_purchase`). The app holds
MANAGE_PRODUCTS, so it reads products customers cannot see; Mailchimp gets those hidden and out
of stock, so that no e-mail recommends them, as Mailchimp for WooCommerce hides its draft,
private and unpurchasable products.

A date still to come changes that with no webhook (Saleor sends PRODUCT_UPDATED when the
listing is edited, not when its time comes): `next_change` says when to look again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from addon.ecommerce.saleor_schemas import ProductPublication

__all__ = ["next_change", "on_offer"]

Listings = Sequence[ProductPublication] | None  # a product's `channelListings`


def _listing(listings: Listings, channel: str) -> ProductPublication | None:
    return next((cl for cl in listings or [] if cl.channel.slug == channel), None)


def on_offer(listings: Listings, channel: str, now: datetime) -> bool:
    """Published in the channel and available for purchase there at `now`, by the product's
    listings. A product read without them (a query that does not ask: a cart's restore)
    counts as on offer."""
    if listings is None:
        return True
    listing = _listing(listings, channel)
    if listing is None or not listing.is_published:
        return False
    published = listing.published_at is None or listing.published_at <= now
    available = listing.available_for_purchase_at
    return published and available is not None and available <= now


def next_change(listings: Listings, channel: str, now: datetime) -> datetime | None:
    """The first moment after `now` at which `on_offer` turns true by the clock alone."""
    listing = _listing(listings, channel)
    if listing is None or not listing.is_published or listing.available_for_purchase_at is None:
        return None  # only an edit can put it on offer
    moments = [listing.published_at, listing.available_for_purchase_at]
    coming = [moment for moment in moments if moment is not None and moment > now]
    return max(coming) if coming else None
