"""Product and variant pricing taxed as Saleor taxes them (the sandbox's taxes.py,
store_taxes.py): flat rates of the channel's default country, the channel's tax configuration
and its country exceptions, each amount rounded to the currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Product
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.taxes import TaxCalculationStrategy

from .conftest import APP_HOST, gql

MONEY = "net { amount } gross { amount } tax { amount } currency"
PRICING = f"""query($id: ID!, $channel: String) {{
  product(id: $id, channel: $channel) {{
    pricing {{
      onSale displayGrossPrices
      priceRange {{ start {{ {MONEY} }} stop {{ {MONEY} }} }}
      priceRangeUndiscounted {{ start {{ {MONEY} }} stop {{ {MONEY} }} }}
    }}
    variants {{
      pricing {{ onSale price {{ {MONEY} }} priceUndiscounted {{ {MONEY} }} }}
    }}
  }}
}}"""


def money(net: float, gross: float, tax: float, currency: str = "USD") -> dict[str, Any]:
    return {
        "net": {"amount": net},
        "gross": {"amount": gross},
        "tax": {"amount": tax},
        "currency": currency,
    }


async def _product(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, product: Product, channel: str = "default"
) -> dict[str, Any]:
    app = next(iter(sandbox.store.apps.values()), None)
    if app is None:
        app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    variables = {"id": product.global_id, "channel": channel}
    body = await gql(client, PRICING, variables, token=app.auth_token)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["product"]
    return found


@pytest.fixture
async def shop(sandbox: SaleorSandbox, fake_app: Any) -> SaleorSandbox:
    """A US channel "default" and a German one, "de" (EUR)."""
    await sandbox.add_channel("default")
    await sandbox.add_channel("de", currency_code="EUR", default_country="DE")
    return sandbox


async def _mug(sandbox: SaleorSandbox, **fields: Any) -> Product:
    return await sandbox.create_product(
        "Mug",
        [VariantSpec(sku="S", price=Decimal("10.00")), VariantSpec(sku="L", price=Decimal("20"))],
        **fields,
    )


async def test_without_rates_prices_are_untaxed_and_shown_gross(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    product = await _product(shop, client, await _mug(shop))
    assert product["pricing"] == {
        "onSale": False,
        "displayGrossPrices": True,
        "priceRange": {"start": money(10, 10, 0), "stop": money(20, 20, 0)},
        "priceRangeUndiscounted": {"start": money(10, 10, 0), "stop": money(20, 20, 0)},
    }


async def test_prices_entered_with_tax_are_gross(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    shop.store.set_flat_rate("US", Decimal("23"))
    product = await _product(shop, client, await _mug(shop))
    # 10 / 1.23 = 8.1300813..., 20 / 1.23 = 16.260162...
    small, large = money(8.13, 10, 1.87), money(16.26, 20, 3.74)
    assert product["pricing"]["priceRange"] == {"start": small, "stop": large}
    assert product["pricing"]["priceRangeUndiscounted"] == {"start": small, "stop": large}
    assert product["variants"] == [
        {"pricing": {"onSale": False, "price": small, "priceUndiscounted": small}},
        {"pricing": {"onSale": False, "price": large, "priceUndiscounted": large}},
    ]


async def test_prices_entered_without_tax_are_net(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    shop.store.set_flat_rate("US", Decimal("23"))
    shop.store.tax_configuration("default").prices_entered_with_tax = False
    product = await _product(shop, client, await _mug(shop))
    assert product["variants"][0]["pricing"]["price"] == money(10, 12.3, 2.3)
    assert product["pricing"]["priceRange"]["stop"] == money(20, 24.6, 4.6)


async def test_the_rate_is_the_channels_default_countrys(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    shop.store.set_flat_rate("DE", Decimal("19"))
    mug = await _mug(shop)
    assert (await _product(shop, client, mug))["variants"][0]["pricing"]["price"] == money(
        10, 10, 0
    )
    german = await _product(shop, client, mug, channel="de")
    # 10 / 1.19 = 8.403361...
    assert german["variants"][0]["pricing"]["price"] == money(8.4, 10, 1.6, "EUR")


async def test_display_gross_prices_follows_the_configuration_and_its_country_exception(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    mug = await _mug(shop)
    shop.store.tax_configuration("default").display_gross_prices = False
    assert (await _product(shop, client, mug))["pricing"]["displayGrossPrices"] is False
    # An exception for the channel's default country decides instead (its default: gross).
    shop.store.set_tax_exception("default", "US")
    assert (await _product(shop, client, mug))["pricing"]["displayGrossPrices"] is True
    shop.store.set_tax_exception("default", "US", display_gross_prices=False)
    assert (await _product(shop, client, mug))["pricing"]["displayGrossPrices"] is False
    # Another country's exception does not apply to the US channel.
    shop.store.tax_configuration("default").display_gross_prices = True
    shop.store.tax_configuration("default").countries = []
    shop.store.set_tax_exception("default", "DE", display_gross_prices=False)
    assert (await _product(shop, client, mug))["pricing"]["displayGrossPrices"] is True


async def test_a_tax_class_rate_overrides_the_default_rate(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    store = shop.store
    books, food = store.add_tax_class("Books"), store.add_tax_class("Food")
    store.set_flat_rate("US", Decimal("25"))
    store.set_flat_rate("US", Decimal("5"), books.id)
    store.set_flat_rate("DE", Decimal("7"), food.id)  # no US rate: the default applies

    def gross_net(product: dict[str, Any]) -> tuple[float, float]:
        price = product["variants"][0]["pricing"]["price"]
        return price["gross"]["amount"], price["net"]["amount"]

    mug = await _mug(shop)
    assert gross_net(await _product(shop, client, mug)) == (10, 8)
    # The product type's class, for a product with none of its own.
    store.product_types[mug.product_type_id].tax_class_id = books.id
    assert gross_net(await _product(shop, client, mug)) == (10, 9.52)  # 10 / 1.05
    # The product's own class first.
    store.update_product(mug, tax_class_id=food.id)
    assert gross_net(await _product(shop, client, mug)) == (10, 8)
    # A class's rate of 0 is a rate: no tax.
    store.set_flat_rate("US", Decimal("0"), food.id)
    assert gross_net(await _product(shop, client, mug)) == (10, 10)
    # With no default rate either, a class without a rate in the country is untaxed.
    store.set_flat_rate("US", None, food.id)
    store.set_flat_rate("US", None)
    assert gross_net(await _product(shop, client, mug)) == (10, 10)


async def test_a_country_exception_with_a_tax_app_leaves_prices_untaxed(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    store = shop.store
    store.set_flat_rate("US", Decimal("23"))
    mug = await _mug(shop)
    store.set_tax_exception("default", "US", tax_calculation_strategy="TAX_APP")
    product = await _product(shop, client, mug)
    assert product["variants"][0]["pricing"]["price"] == money(10, 10, 0)
    assert product["pricing"]["priceRange"]["stop"] == money(20, 20, 0)
    # An exception without a strategy is FLAT_RATES, whatever the channel's
    # (saleor/tax/utils.py `get_tax_calculation_strategy`).
    store.tax_configuration("default").tax_calculation_strategy = TaxCalculationStrategy.TAX_APP
    store.set_tax_exception("default", "US", tax_calculation_strategy=None)
    product = await _product(shop, client, mug)
    assert product["variants"][0]["pricing"]["price"] == money(8.13, 10, 1.87)
    # With no exception, the channel's TAX_APP leaves prices untaxed; none set is FLAT_RATES.
    store.tax_configuration("default").countries = []
    product = await _product(shop, client, mug)
    assert product["variants"][0]["pricing"]["price"] == money(10, 10, 0)
    store.tax_configuration("default").tax_calculation_strategy = None
    product = await _product(shop, client, mug)
    assert product["variants"][0]["pricing"]["price"] == money(8.13, 10, 1.87)


async def test_taxed_amounts_are_rounded_to_the_currency_half_to_even(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    store = shop.store
    store.add_channel("jp", currency_code="JPY", default_country="JP")
    store.set_flat_rate("US", Decimal("10"))
    store.set_flat_rate("JP", Decimal("8"))
    store.tax_configuration("default").prices_entered_with_tax = False
    pin = await shop.create_product(
        "Pin", [VariantSpec(sku="P", prices={"default": Decimal("1.15"), "jp": Decimal("1000")})]
    )
    # 1.15 * 1.1 = 1.265: 1.26 (Saleor's `quantize_price`, half to even); the tax 0.115: 0.12.
    us = await _product(shop, client, pin)
    assert us["variants"][0]["pricing"]["price"] == money(1.15, 1.26, 0.12)
    # 1000 / 1.08 = 925.925...: 926 yen, the tax 74.07...: 74.
    jp = await _product(shop, client, pin, channel="jp")
    assert jp["variants"][0]["pricing"]["price"] == money(926, 1000, 74, "JPY")


async def test_a_promotions_discounted_price_is_taxed_and_the_product_is_on_sale(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    shop.store.set_flat_rate("US", Decimal("25"))
    mug = await _mug(shop)
    await shop.promotions.create(
        "Sale", [{"channels": ["default"], "product_ids": [mug.id], "reward_value": Decimal(50)}]
    )
    await shop.promotions.recalculate()
    product = await _product(shop, client, mug)
    assert product["variants"][0]["pricing"] == {
        "onSale": True,
        "price": money(4, 5, 1),
        "priceUndiscounted": money(8, 10, 2),
    }
    # saleor/product/utils/availability.py `get_product_availability`: the range of the
    # discounted prices, on sale when it starts below the undiscounted range.
    assert product["pricing"]["onSale"] is True
    assert product["pricing"]["priceRange"] == {"start": money(4, 5, 1), "stop": money(8, 10, 2)}
    assert product["pricing"]["priceRangeUndiscounted"] == {
        "start": money(8, 10, 2),
        "stop": money(16, 20, 4),
    }


async def test_a_variant_has_no_pricing_where_its_product_is_not_listed(
    shop: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    mug = await _mug(shop)
    product = await _product(shop, client, mug, channel="de")
    assert product["variants"][0]["pricing"] is not None
    # The product's channel listing removed, the variant's kept
    # (`ProductVariant.resolve_pricing`: none without both).
    mug.channel_ids.remove(shop.store.channel_by_slug("de").id)
    app = next(iter(shop.store.apps.values()))
    query = """query($id: ID!) { productVariant(id: $id, channel: "de") { pricing { onSale } } }"""
    body = await gql(client, query, {"id": mug.variants[0].global_id}, token=app.auth_token)
    assert body["data"]["productVariant"] == {"pricing": None}
