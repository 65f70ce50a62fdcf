"""The fields marketers segment on and personalise e-mails with, read from Saleor's answers: a
product's vendor and type (the admin's choice of source), its description as text and its
stock, an order's shipment tracking, a store's language and time zone. Pure functions, used by
the payload builders (`payloads.py`, `sale_payloads.py`) that live sync, bursts and the initial
sync share.
"""

from __future__ import annotations

import html
import importlib.resources
import json
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from addon.ecommerce.links import fill_url, given_url
from addon.ecommerce.marketing_settings import (
    DEFAULT_TYPE,
    DEFAULT_VENDOR,
    ProductField,
    TrackingRule,
    check_locale,
    is_timezone,
)
from addon.ecommerce.preorder import preorder_left
from addon.ecommerce.saleor_schemas import (
    SaleorChannel,
    SaleorFulfillment,
    SaleorOrder,
    SaleorProduct,
    SaleorVariant,
)


@dataclass(frozen=True)
class ProductOptions:
    """How the installation's products are described to Mailchimp (from its settings)."""

    url_template: str | None = None
    vendor: ProductField = DEFAULT_VENDOR
    type: ProductField = DEFAULT_TYPE

    def read_variables(self) -> dict[str, Any]:
        """What a product read adds to its variables: the metadata keys the fields read
        (`$productKeys` of the EcommerceProduct fragment; none read otherwise)."""
        keys = [f.key for f in (self.vendor, self.type) if f.source == "metadata" and f.key]
        return {"productKeys": sorted(set(keys))}


@dataclass(frozen=True)
class TrackingOptions:
    """What an order carries besides Saleor's data: the carrier and tracking link rules of its
    shipment, and the link to its page on the storefront (`order_url_template`)."""

    rules: tuple[TrackingRule, ...] = field(default_factory=tuple)
    order_url_template: str | None = None


NO_TRACKING_RULES = TrackingOptions()


# --- products ---------------------------------------------------------------------------------


def product_field(product: SaleorProduct, source: ProductField) -> str | None:
    """The text of one product field from the chosen source, or None when the product has none.
    An attribute with several values (e.g. two brands) gives them joined by ", "."""
    value: str | None = None
    if source.source == "category":
        value = product.category.name if product.category else None
    elif source.source == "product_type":
        value = product.product_type.name if product.product_type else None
    elif source.source == "attribute":
        wanted = (source.key or "").casefold()
        for selected in product.attributes:
            if (selected.attribute.slug or "").casefold() == wanted:
                names = [(v.name or "").strip() for v in selected.values]
                names = [name for name in names if name]
                value = ", ".join(names)
                break
    elif source.source == "metadata":
        # Public metadata first (what a storefront shows), then private.
        key = source.key or ""
        value = (product.metafields or {}).get(key) or (product.private_metafields or {}).get(key)
    value = " ".join((value or "").split())
    return value or None


# What a variant whose stock Saleor does not track is sent: Mailchimp reads a quantity left out
# as 0, sold out (a maintainer in mailchimp/mc-woocommerce#374), and so never recommends it;
# Mailchimp for WooCommerce sends 1000000 for stock it does not manage.
UNTRACKED_STOCK = 1_000_000


def inventory(variant: SaleorVariant, channel: str, now: datetime) -> int:
    """What the channel's warehouses can still sell, or `UNTRACKED_STOCK` when Saleor does not
    track the variant's stock; while its preorder is active, what the preorder can still sell
    in the channel whatever the stock, `UNTRACKED_STOCK` with no threshold (`preorder.py`).

    Read from `stocks` (in the channel's context Saleor returns the stocks of the channel's
    warehouses with a quantity left: saleor/graphql/product/types/products.py
    `ProductVariant.resolve_stocks`), not `quantityAvailable`, which Saleor caps at the site's
    `limitQuantityPerCheckout` (50 by default: saleor/graphql/warehouse/dataloaders.py
    `AvailableQuantityByProductVariantIdAndChannelSlugLoader`).

    Stock held by shoppers' checkouts is counted as stock: `quantity - quantityAllocated`
    subtracts orders' allocations, not checkout reservations (`Stock.quantityReserved`), which
    `quantityAvailable` does subtract where the site reserves stock
    (saleor/warehouse/availability.py `_get_available_quantity`, `check_reservations`; the
    loader's `prepare_stocks_reservations_map`). Left so on purpose: a reservation lasts the
    site's `reserveStockDuration*` minutes and then lapses with no webhook (nor does making one
    send a product event), so a count less reservations would be pushed at whatever moment the
    product next changed and stay short in Mailchimp until the one after (its last unit
    reserved: out of stock in e-mails until then), while the reserved units mostly return to
    sale within minutes.
    """
    if variant.preorder is not None and variant.preorder.active(now):
        listing = next(
            (cl for cl in variant.channel_listings or [] if cl.channel.slug == channel), None
        )
        left = preorder_left(variant.preorder, listing.preorder_threshold if listing else None)
        return UNTRACKED_STOCK if left is None else left
    if not variant.track_inventory:
        return UNTRACKED_STOCK
    return sum(max(s.quantity - s.quantity_allocated, 0) for s in variant.stocks or [])


def variant_image(variant: SaleorVariant) -> str | None:
    """The variant's own first picture (a video is no image), as a link Mailchimp takes
    (`links.given_url`); None: the product's."""
    return given_url(
        next((m.url for m in variant.media or [] if m.type == "IMAGE" and m.url), None)
    )


_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _inline_text(value: Any) -> str:
    """Editor.js inline HTML (bold, links, line breaks) as text."""
    if not isinstance(value, str):
        return ""
    text = html.unescape(_TAG.sub("", _BREAK.sub("\n", value)))
    return "\n".join(" ".join(line.split()) for line in text.splitlines()).strip()


def _list_items(items: Any, depth: int = 0) -> list[str]:
    """A list block's items: strings (Editor.js list 1.x) or {"content", "items"} (nested list,
    2.x), each on its own line."""
    lines: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            text = _inline_text(item.get("content") or item.get("text"))
            children = item.get("items")
        else:
            text, children = _inline_text(item), None
        if text:
            lines.append("  " * depth + "- " + text)
        lines.extend(_list_items(children, depth + 1))
    return lines


def editorjs_text(description: str | None) -> str | None:
    """Saleor's rich text (an Editor.js document as JSON: saleor/core/utils/editorjs.py) as
    plain text, one block per paragraph; text that is not such a document is kept as it is."""
    if not description or not description.strip():
        return None
    try:
        document = json.loads(description)
    except ValueError:
        return description.strip()
    blocks = document.get("blocks") if isinstance(document, dict) else None
    if not isinstance(blocks, list):
        return None
    parts: list[str] = []
    for block in blocks:
        data = block.get("data") if isinstance(block, dict) else None
        if not isinstance(data, dict):
            continue
        if isinstance(data.get("items"), list):
            text = "\n".join(_list_items(data["items"]))
        elif isinstance(data.get("content"), list):  # a table: rows of cells
            rows = [r for r in data["content"] if isinstance(r, list)]
            text = "\n".join(" | ".join(_inline_text(c) for c in row) for row in rows)
        else:
            text = _inline_text(data.get("text"))
            caption = _inline_text(data.get("caption"))
            if caption and text:
                text = f"{text}\n— {caption}"
        if text.strip():
            parts.append(text.strip())
    return "\n\n".join(parts) or None


# --- orders -----------------------------------------------------------------------------------

# The fulfilments that went to the shopper and still stand (saleor/order/__init__.py
# `FulfillmentStatus`: a cancelled, returned, refunded or replaced one does not).
_SHIPPED = {"FULFILLED"}


@dataclass(frozen=True)
class Tracking:
    number: str
    url: str | None
    carrier: str | None


def shipment(order: SaleorOrder) -> SaleorFulfillment | None:
    """The latest standing fulfilment with a tracking number (Mailchimp holds one per order)."""
    tracked = [f for f in order.fulfillments if f.status in _SHIPPED and f.tracking_number.strip()]
    return max(tracked, key=lambda f: f.fulfillment_order, default=None)


def tracking_rule(order: SaleorOrder, rules: TrackingOptions) -> TrackingRule | None:
    """The rule of the order's shipping method, else the rule for every other method."""
    method = (order.shipping_method_name or "").strip().casefold()
    named = {r.shipping_method.casefold(): r for r in rules.rules}
    return named.get(method) if method and method in named else named.get("")


def order_tracking(order: SaleorOrder, rules: TrackingOptions) -> Tracking | None:
    """The order's tracking number, carrier and link, or None before a tracked shipment.

    A tracking number that is itself a link (some carriers' labels give one) is the link."""
    fulfillment = shipment(order)
    if fulfillment is None:
        return None
    number = fulfillment.tracking_number.strip()
    rule = tracking_rule(order, rules)
    url: str | None = None
    if re.match(r"^https?://\S+$", number):
        url = given_url(number)
    elif rule is not None and rule.url_template:
        address = order.shipping_address
        country = address.country.code if address and address.country else ""
        postal_code = address.postal_code if address else ""
        url = fill_url(rule.url_template, number=number, postal_code=postal_code, country=country)
    return Tracking(number=number, url=url, carrier=rule.carrier if rule else None)


# --- stores -----------------------------------------------------------------------------------

# Channel metadata keys an admin may set in Saleor's dashboard (Configuration → Channels →
# metadata) for one channel's store; Saleor's Channel has no language or time zone of its own.
LOCALE_KEY = "mailchimp.locale"
TIMEZONE_KEY = "mailchimp.timezone"


def store_locale(channel: SaleorChannel, default: str | None) -> str | None:
    """The channel's `mailchimp.locale`, else the app's default."""
    try:
        own = check_locale((channel.store_metadata or {}).get(LOCALE_KEY))
    except ValueError:
        own = None  # not a language code: the default rather than a refused store
    return own or default


def store_timezone(channel: SaleorChannel, default: str | None) -> str | None:
    """The channel's `mailchimp.timezone`, else the one time zone of the channel's default
    country (Poland: Europe/Warsaw; not the United States, which has several), else the app's
    default."""
    own = ((channel.store_metadata or {}).get(TIMEZONE_KEY) or "").strip()
    if own and is_timezone(own):
        return own
    country = channel.default_country.code if channel.default_country else ""
    zones = country_zones().get(country.upper(), ())
    if len(zones) == 1:
        return zones[0]
    return default


@cache
def country_zones() -> dict[str, tuple[str, ...]]:
    """Country code → its time zones, from the tz database's `zone.tab` (one line per zone and
    country) where the system keeps it; empty without it (the defaults apply)."""
    zones: dict[str, list[str]] = {}
    for text in _zone_tables():
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            columns = line.split("\t")
            if len(columns) >= 3:
                zones.setdefault(columns[0].strip(), []).append(columns[2].strip())
        break
    return {country: tuple(names) for country, names in zones.items()}


def _zone_tables() -> list[str]:
    """`zone.tab` where `zoneinfo` finds zones: the system's database, else the `tzdata`
    package's copy."""
    for directory in zoneinfo.TZPATH:
        path = Path(directory) / "zone.tab"
        if path.is_file():
            return [path.read_text(encoding="utf-8")]
    try:
        table = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab")
        return [table.read_text(encoding="utf-8")]
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return []
