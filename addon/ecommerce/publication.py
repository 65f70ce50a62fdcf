"""Whether a product is on offer in a channel: published there, available for purchase, shown
in the listings, in a channel that is active.

Saleor shows customers a product only once its channel listing is published (`is_published`,
and `published_at` passed or unset: saleor/core/models.py `PublishableModel.is_visible`), and
sells it only once `available_for_purchase_at` has passed (never while unset:
saleor/product/models.py `ProductChannelListing.is_available_for_purchase`). The app holds
MANAGE_PRODUCTS, so it reads products customers cannot see; Mailchimp gets those hidden and out
of stock, so that no e-mail recommends them, as Mailchimp for WooCommerce hides its draft,
private and unpurchasable products.

Two more leave a product out of what e-mails recommend (`on_offer`). A channel the admin
deactivates shows and sells nothing: Saleor answers customers no product of an inactive channel
(saleor/product/managers.py `ProductsQueryset.published` and
`ProductVariantQueryset.visible_to_user`: "if not channel or not channel.is_active: return
self.none()", 3.20.119 and 723cd4e alike) and checkoutComplete refuses it (CHANNEL_INACTIVE).
And a product taken out of the listings (gift wrap, samples:
`ProductChannelListing.visible_in_listings` false) is one `visible_to_user` lists no variant of
for customers; Mailchimp for WooCommerce sends a product that is not `is_visible()` (catalog
visibility "hidden") with inventory 0 (includes/api/class-mailchimp-woocommerce-transform-
products.php `variant()`). Both are read with the listing (`channel { isActive }`,
`visibleInListings`). Saleor tells of a channel's (de)activation only apps with MANAGE_CHANNELS
(CHANNEL_STATUS_CHANGED), which the app does not ask for: the channel list the E-commerce page
and the daily product sweep read notices it, and re-pushes the channel's products
(`channel_presence.note_activity`).

A cart keeps the lines of both (`purchasable`): a product out of the listings is still bought
(a checkout line of one is served as any other: saleor/graphql/checkout/tests/test_checkout.py
`test_get_variant_data_from_checkout_line_variant_hidden_in_listings`), and a channel switched
off for a while gets its carts back as they were when it is switched on again (dropping their
lines would have deleted every cart of the channel in Mailchimp, for good).

A date still to come changes that with no webhook (Saleor sends PRODUCT_UPDATED when the
listing is edited, not when its time comes): `next_change` says when to look again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from addon.ecommerce.saleor_schemas import ProductPublication

__all__ = ["next_change", "on_offer", "purchasable"]

Listings = Sequence[ProductPublication] | None  # a product's `channelListings`


def _listing(listings: Listings, channel: str) -> ProductPublication | None:
    return next((cl for cl in listings or [] if cl.channel.slug == channel), None)


def _shown(listing: ProductPublication) -> bool:
    """Published, in the listings, in an active channel: what no date changes."""
    return listing.is_published and listing.visible_in_listings and listing.channel.is_active


def on_offer(listings: Listings, channel: str, now: datetime) -> bool:
    """Published in the channel, shown in its listings and available for purchase there at
    `now`, the channel active, by the product's listings: what e-mails may recommend. A product
    read without them (a query that does not ask: a cart's restore) counts as on offer."""
    if listings is None:
        return True
    listing = _listing(listings, channel)
    return listing is not None and _shown(listing) and purchasable(listings, channel, now)


def purchasable(listings: Listings, channel: str, now: datetime) -> bool:
    """Published in the channel and available for purchase there at `now`: what a cart's line
    needs, shown in the listings or not, the channel active or switched off for a while."""
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
    if listing is None or not _shown(listing) or listing.available_for_purchase_at is None:
        return None  # only an edit (or the channel's activation) can put it on offer
    moments = [listing.published_at, listing.available_for_purchase_at]
    coming = [moment for moment in moments if moment is not None and moment > now]
    return max(coming) if coming else None
