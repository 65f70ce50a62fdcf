"""Saleor's tax configuration and flat-rate taxes, for the prices of products and variants.

Each channel has a tax configuration (saleor/tax/models.py `TaxConfiguration`, made with the
channel: saleor/graphql/channel/mutations/channel_create.py), with per-country exceptions
(`TaxConfigurationPerCountry`). Flat rates are per country: a tax class's
(`TaxClassCountryRate`) or, with no tax class, the country's default rate. A product's tax class
is its own or else its product type's (saleor/graphql/tax/dataloaders.py
`TaxClassIdByProductIdLoader`).

Product and variant pricing (saleor/graphql/product/types/products.py `Product.resolve_pricing`,
`ProductVariant.resolve_pricing`) taxes a listing's price in the channel's default country
(saleor/core/utils/country.py `get_active_country`, no address given): with the flat rate only
when the strategy is FLAT_RATES, otherwise untaxed (saleor/product/utils/availability.py
`_calculate_product_price_with_taxes`). `charge_taxes` plays no part there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .models import Node, SandboxModel
from .money import TaxedMoney


class TaxCalculationStrategy(StrEnum):
    FLAT_RATES = "FLAT_RATES"
    TAX_APP = "TAX_APP"


class TaxConfigurationPerCountry(SandboxModel):
    """A country's exception in a channel's tax configuration (one per country), with the
    model's defaults; its strategy None is FLAT_RATES, not the channel's (below)."""

    country: str
    charge_taxes: bool = True
    tax_calculation_strategy: TaxCalculationStrategy | None = None
    display_gross_prices: bool = True
    tax_app_id: str | None = None


class TaxConfiguration(Node):
    """A channel's tax configuration, with Saleor's defaults (saleor/tax/models.py)."""

    graphql_type: ClassVar[str] = "TaxConfiguration"
    channel_id: int
    charge_taxes: bool = True
    tax_calculation_strategy: TaxCalculationStrategy | None = TaxCalculationStrategy.FLAT_RATES
    display_gross_prices: bool = True
    prices_entered_with_tax: bool = True
    tax_app_id: str | None = None
    countries: list[TaxConfigurationPerCountry] = Field(default_factory=list)
    """Its country exceptions (`country_exceptions`), listed by country as the model orders
    them."""

    def exception_for(self, country: str) -> TaxConfigurationPerCountry | None:
        return next((c for c in self.countries if c.country == country), None)


class TaxClass(Node):
    graphql_type: ClassVar[str] = "TaxClass"
    name: str


class TaxClassCountryRate(SandboxModel):
    """A flat rate in percent: a tax class's in a country, or (`tax_class_id` None) the
    country's default rate."""

    id: int
    country: str
    rate: Decimal
    tax_class_id: int | None = None

    @property
    def order_key(self) -> tuple[str, bool, int, int]:
        """The model's `Meta.ordering`: country, the tax class (nulls first), pk."""
        return (self.country, self.tax_class_id is not None, self.tax_class_id or 0, self.id)


def calculation_strategy(
    config: TaxConfiguration, exception: TaxConfigurationPerCountry | None
) -> TaxCalculationStrategy:
    """saleor/tax/utils.py `get_tax_calculation_strategy`: the exception's strategy where the
    country has one, else the channel's; none is FLAT_RATES."""
    strategy = exception.tax_calculation_strategy if exception else config.tax_calculation_strategy
    return strategy or TaxCalculationStrategy.FLAT_RATES


def display_gross_prices(
    config: TaxConfiguration, exception: TaxConfigurationPerCountry | None
) -> bool:
    """saleor/tax/utils.py `get_display_gross_prices`."""
    return exception.display_gross_prices if exception else config.display_gross_prices


def flat_rate_tax(
    amount: Decimal, rate: Decimal, entered_with_tax: bool
) -> tuple[Decimal, Decimal]:
    """saleor/tax/calculations/__init__.py `calculate_flat_rate_tax`: (net, gross), not rounded
    (the API rounds each amount to the currency: money.py)."""
    factor = Decimal(1 + rate / 100)
    if entered_with_tax:
        return amount / factor, amount
    return amount, amount * factor


@dataclass(frozen=True)
class ProductTaxes:
    """How a product's prices are taxed in a channel (its default country)."""

    rate: Decimal
    strategy: TaxCalculationStrategy
    entered_with_tax: bool
    display_gross_prices: bool

    def price(self, amount: Decimal, currency: str) -> TaxedMoney:
        """availability.py `_calculate_product_price_with_taxes`: flat rates only; another
        strategy (a tax app) leaves the price untaxed."""
        if self.strategy is not TaxCalculationStrategy.FLAT_RATES:
            return TaxedMoney.untaxed(amount, currency)
        net, gross = flat_rate_tax(amount, self.rate, self.entered_with_tax)
        return TaxedMoney.of(net, gross, currency)


UNTAXED = ProductTaxes(Decimal(0), TaxCalculationStrategy.FLAT_RATES, True, True)
"""A channel with no tax configuration (one a query names that does not exist)."""


def product_taxes(
    config: TaxConfiguration | None,
    country: str,
    tax_class_id: int | None,
    rates: dict[tuple[str, int | None], TaxClassCountryRate],
) -> ProductTaxes:
    """The taxes of a product of tax class `tax_class_id` in `country` (products.py
    `resolve_pricing`): the class's rate in the country (saleor/tax/utils.py
    `get_tax_rate_for_country`), else the country's default rate
    (`TaxClassDefaultRateByCountryLoader`), else 0."""
    if config is None:
        return UNTAXED
    exception = config.exception_for(country)
    default = rates.get((country, None))
    rate = default.rate if default is not None else Decimal(0)
    if tax_class_id:
        own = rates.get((country, tax_class_id))
        rate = own.rate if own is not None else rate
    return ProductTaxes(
        rate=rate,
        strategy=calculation_strategy(config, exception),
        entered_with_tax=config.prices_entered_with_tax,
        display_gross_prices=display_gross_prices(config, exception),
    )
