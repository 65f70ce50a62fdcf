"""Order lines whose variant Saleor deleted ("orphans"), and the placeholder product that lets
Mailchimp take them when it never held their product.

Saleor sets `OrderLine.variant` to null when the variant (or its product) is deleted, and keeps
on the line the variant's global id as a string (`productVariantId`), the product and variant
names, the SKU and the prices (saleor/order/models.py `OrderLine`, `on_delete=SET_NULL`;
`product_variant_id` is copied at purchase, saleor/checkout/complete_checkout.py and
saleor/order/utils.py). Such a line is sent with the variant id the app used while the variant
existed (`mailchimp_id(productVariantId)`) under the Mailchimp product the ledger recorded it in
(`VariantLedger.orphan_products`: a product's record keeps the variants Mailchimp holds
hidden). When Mailchimp never held that product, a hidden, out-of-stock placeholder product is
created for the variant first, as Mailchimp for WooCommerce does for the items of deleted
products (includes/api/class-mailchimp-woocommerce-transform-orders-wc3.php and
`MailChimp_WooCommerce_Transform_Products::deleted`: product and variant
"deleted_<id>", the line's name as title, inventory 0, visibility "hidden"). Live sync creates
it (`CatalogPusher.ensure_orphans`) and records it in the ledger as a product keyed by
`productVariantId`; the initial sync hands such orders to live sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from addon.ecommerce.amounts import money
from addon.ecommerce.models import PLACEHOLDER_PREFIX
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.saleor_schemas import SaleorOrderLine
from addon.mailchimp import ProductInput, ProductVariantInput
from addon.saleor.global_ids import global_id_type

__all__ = [
    "PLACEHOLDER_PREFIX",
    "is_placeholder_key",
    "line_ref",
    "orphan_lines",
    "placeholder_product",
    "unlisted_product",
]


def is_placeholder_key(saleor_id: str) -> bool:
    """Whether a product's ledger record is a placeholder's: keyed by the deleted variant's
    global id ("ProductVariant:<pk>"), where a real product's is a "Product:<pk>" id."""
    return global_id_type(saleor_id) == "ProductVariant"


def orphan_lines(lines: Iterable[SaleorOrderLine]) -> dict[str, SaleorOrderLine]:
    """The lines whose variant was deleted, by the Mailchimp variant id the app used for it
    (the first line of each variant; one with no `productVariantId` cannot be referenced)."""
    orphans: dict[str, SaleorOrderLine] = {}
    for line in lines:
        if line.variant is None and line.product_variant_id:
            orphans.setdefault(mailchimp_id(line.product_variant_id), line)
    return orphans


def line_ref(line: SaleorOrderLine, orphans: Mapping[str, str]) -> tuple[str, str] | None:
    """(Mailchimp product id, variant id) a line references, or None when it cannot reference
    one. `orphans`: Mailchimp variant id → product id for the lines of deleted variants."""
    if line.variant is not None:
        return mailchimp_id(line.variant.product.id), mailchimp_id(line.variant.id)
    if not line.product_variant_id:
        return None
    variant_id = mailchimp_id(line.product_variant_id)
    product_id = orphans.get(variant_id)
    return (product_id, variant_id) if product_id is not None else None


def placeholder_product(variant_id: str, line: SaleorOrderLine, currency: str) -> ProductInput:
    """The placeholder of a deleted variant Mailchimp never held: its id from the variant's
    (one per variant: a line names no product id), the line's copies for the rest."""
    title = line.product_name or line.variant_name or line.product_sku or variant_id
    return ProductInput(
        id=f"{PLACEHOLDER_PREFIX}{variant_id}",
        title=title,
        vendor="deleted",
        variants=[_hidden_variant(variant_id, line, title, currency)],
    )


def unlisted_product(
    product_id: str, lines: Sequence[SaleorOrderLine], currency: str
) -> ProductInput:
    """A product Saleor no longer lists in the channel, which Mailchimp never held (unlisted
    before its first push: an old order's): made, hidden, from its lines' copies, as a
    placeholder is, but under its own id (sold again, its push brings it up to date)."""
    first = lines[0]
    title = first.product_name or first.variant_name or first.product_sku or product_id
    variants: dict[str, ProductVariantInput] = {}
    for line in lines:
        if line.variant is not None:
            variant_id = mailchimp_id(line.variant.id)
            variants.setdefault(variant_id, _hidden_variant(variant_id, line, title, currency))
    return ProductInput(id=product_id, title=title, variants=list(variants.values()))


def _hidden_variant(
    variant_id: str, line: SaleorOrderLine, title: str, currency: str
) -> ProductVariantInput:
    """A variant from an order line's copies: hidden and out of stock (nobody can buy it)."""
    price = line.unit_price.gross.amount if line.unit_price else None
    return ProductVariantInput(
        id=variant_id,
        title=line.variant_name or line.product_sku or title,
        sku=line.product_sku or None,
        price=money(price, currency) if price is not None else None,
        inventory_quantity=0,
        visibility="hidden",
    )
