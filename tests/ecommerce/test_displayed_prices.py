"""A variant's price in Mailchimp is the one the channel's storefront shows: with tax where
Saleor says prices are displayed gross, without it where they are displayed net, whatever the
basis the channel price is entered on.

Saleor's tax configuration has both switches (saleor/tax/models.py `TaxConfiguration`:
`prices_entered_with_tax`, `display_gross_prices`, both true by default; a country's own
configuration overrides the channel's, saleor/tax/utils.py `get_display_gross_prices`), and
answers the one for the channel's default country as `ProductPricingInfo.displayGrossPrices`
(saleor/graphql/product/types/products.py `Product.resolve_pricing`). A channel entering net
prices with a flat VAT rate and displaying gross ones (the default) charges and shows the gross
price, as Mailchimp's cart and order lines of it carry (`cart_payloads`, `sale_payloads`); its
products went at the net price, the tax below it. The sandbox's Saleor charges no tax (net and
gross alike), so this is checked on the payload.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from addon.ecommerce.marketing import ProductOptions
from addon.ecommerce.payloads import product_input
from addon.ecommerce.saleor_schemas import SaleorProduct

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CHANNEL = "default-channel"


def _taxed(net: str, gross: str) -> dict[str, Any]:
    return {"net": {"amount": net}, "gross": {"amount": gross}}


def _product(listed: str, undiscounted: dict[str, Any], sale: dict[str, Any], gross: bool) -> Any:
    channel = {"slug": CHANNEL, "isActive": True}
    return SaleorProduct.model_validate(
        {
            "id": "UHJvZHVjdDox",
            "name": "Basil",
            "slug": "basil",
            "pricing": {"displayGrossPrices": gross},
            "channelListings": [
                {
                    "channel": channel,
                    "isPublished": True,
                    "visibleInListings": True,
                    "availableForPurchaseAt": "2026-01-01T00:00:00+00:00",
                }
            ],
            "variants": [
                {
                    "id": "UHJvZHVjdFZhcmlhbnQ6MQ==",
                    "name": "Pot",
                    "trackInventory": False,
                    "channelListings": [{"channel": channel, "price": {"amount": listed}}],
                    "pricing": {"price": sale, "priceUndiscounted": undiscounted},
                }
            ],
        }
    )


@pytest.mark.parametrize(
    ("listed", "undiscounted", "sale", "gross", "sent"),
    [
        # Entered net, a 23% flat rate, shown gross (Saleor's default display): the gross price.
        ("10.00", _taxed("10.00", "12.30"), _taxed("8.00", "9.84"), True, "9.84"),
        # Entered net, shown net (a US store): the net price.
        ("10.00", _taxed("10.00", "12.30"), _taxed("8.00", "9.84"), False, "8.00"),
        # Entered gross, shown gross (an EU store): the gross price.
        ("10.00", _taxed("8.13", "10.00"), _taxed("6.50", "8.00"), True, "8.00"),
        # Entered gross, shown net (a B2B store): the net price.
        ("10.00", _taxed("8.13", "10.00"), _taxed("6.50", "8.00"), False, "6.50"),
    ],
)
def test_a_variant_goes_at_the_price_the_storefront_shows(
    listed: str, undiscounted: dict[str, Any], sale: dict[str, Any], gross: bool, sent: str
) -> None:
    body = product_input(
        _product(listed, undiscounted, sale, gross),
        CHANNEL,
        ProductOptions(),
        currency="EUR",
        now=NOW,
    )
    assert body is not None
    assert [v.price for v in body.variants] == [float(Decimal(sent))]
