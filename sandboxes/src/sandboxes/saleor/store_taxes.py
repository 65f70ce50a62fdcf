"""Taxes of ``SaleorStore``: each channel's tax configuration (made with the channel, with
Saleor's defaults), tax classes and flat rates (``taxes.py``), and the taxes of a product's
prices in a channel.

What tests use (the sandbox's own store, ``saleor.store``)::

    config = store.tax_configuration("default-channel")   # mutable, e.g.:
    config.prices_entered_with_tax = False
    store.set_tax_exception("default-channel", "DE", tax_calculation_strategy="TAX_APP")
    books = store.add_tax_class("Books")
    store.set_flat_rate("US", Decimal("10"))                # the country's default rate
    store.set_flat_rate("US", Decimal("5"), books.id)       # the class's rate in the country
    store.update_product(product, tax_class_id=books.id)    # or its product type's tax_class_id

None of them sends a webhook (Saleor sends none for tax settings; a product's tax class changes
with `productUpdate`, which `update_product` stands for).
"""

from __future__ import annotations

import itertools
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .models import Channel, Product
from .store_base import NotFound, StoreBase
from .taxes import (
    ProductTaxes,
    TaxClass,
    TaxClassCountryRate,
    TaxConfiguration,
    TaxConfigurationPerCountry,
    product_taxes,
)

_COUNTRY = re.compile(r"[A-Z]{2}")
# saleor/tax/models.py `TaxClassCountryRate.rate`: a DecimalField of 3 decimal places.
RATE_STEP = Decimal("0.001")


def _country(code: str) -> str:
    if not _COUNTRY.fullmatch(code):
        raise ValueError(f"{code!r} is not a country code (ISO 3166-1 alpha-2, upper case).")
    return code


class StoreTaxes(StoreBase):
    """Tax configurations per channel, tax classes and flat rates."""

    def __init__(self) -> None:
        super().__init__()
        # Keyed by channel pk (Saleor's one-to-one `TaxConfiguration.channel`). Tax objects
        # take their pks from a sequence of their own (Saleor's tables each have one): the
        # catalogue's pks do not move because a channel got a tax configuration.
        self.tax_configurations: dict[int, TaxConfiguration] = {}
        self.tax_classes: dict[int, TaxClass] = {}
        # Flat rates by (country, tax class pk or None for the country's default rate): one
        # each, as the model's unique constraints allow.
        self.tax_rates: dict[tuple[str, int | None], TaxClassCountryRate] = {}
        self._tax_ids = itertools.count(1)

    def add_channel(self, slug: str, *args: Any, **kwargs: Any) -> Channel:
        """A channel, with its tax configuration (`ChannelCreate.save`:
        `TaxConfiguration.objects.create(channel=instance)`, the model's defaults)."""
        channel = super().add_channel(slug, *args, **kwargs)
        config = TaxConfiguration(id=next(self._tax_ids), channel_id=channel.id)
        self.tax_configurations[channel.id] = config
        return channel

    def prices_entered_with_tax(self, channel_id: int) -> bool:
        config = self.tax_configurations.get(channel_id)
        return config.prices_entered_with_tax if config is not None else True

    def tax_configuration(self, channel: str) -> TaxConfiguration:
        """The tax configuration of the channel of slug `channel`, to read or change (e.g.
        `prices_entered_with_tax`, `display_gross_prices`, `tax_calculation_strategy`)."""
        return self.tax_configurations[self.channel_by_slug(channel).id]

    def set_tax_exception(
        self, channel: str, country: str, **fields: Any
    ) -> TaxConfigurationPerCountry:
        """The channel's exception for `country` made, or changed where it has one (one per
        country); `fields`: `charge_taxes`, `tax_calculation_strategy`, `display_gross_prices`,
        `tax_app_id` (`taxConfigurationUpdate(updateCountriesConfiguration)`)."""
        config = self.tax_configuration(channel)
        exception = config.exception_for(_country(country))
        if exception is None:
            exception = TaxConfigurationPerCountry(country=country, **fields)
            # The model's `Meta.ordering`: by country (then pk, one per country here).
            config.countries = sorted([*config.countries, exception], key=lambda c: c.country)
        else:
            for key, value in fields.items():
                setattr(exception, key, value)
        return exception

    def add_tax_class(self, name: str) -> TaxClass:
        """A tax class with no rates (`taxClassCreate(input: {name})`)."""
        tax_class = TaxClass(id=next(self._tax_ids), name=name)
        self.tax_classes[tax_class.id] = tax_class
        return tax_class

    def set_flat_rate(
        self, country: str, rate: Decimal | None, tax_class_id: int | None = None
    ) -> TaxClassCountryRate | None:
        """The flat rate (in percent) of a tax class in `country`, or with no tax class the
        country's default rate, set; a rate of None deletes it
        (`taxCountryConfigurationUpdate`: negative rates refused, `_clean_rate_values`). Stored
        to 3 decimal places, as the column holds it."""
        key = (_country(country), tax_class_id)
        if tax_class_id is not None and tax_class_id not in self.tax_classes:
            raise NotFound(f"TaxClass {tax_class_id} does not exist")
        if rate is None:
            self.tax_rates.pop(key, None)
            return None
        if rate < 0:
            raise ValueError("Cannot create rates with negative values.")
        stored = Decimal(rate).quantize(RATE_STEP, ROUND_HALF_UP)
        found = self.tax_rates.get(key)
        if found is not None:
            found.rate = stored
            return found
        made = TaxClassCountryRate(
            id=next(self._tax_ids), country=country, rate=stored, tax_class_id=tax_class_id
        )
        self.tax_rates[key] = made
        return made

    def tax_rates_listed(self) -> list[TaxClassCountryRate]:
        """Every flat rate, in the model's ordering (country, tax class nulls first, pk)."""
        return sorted(self.tax_rates.values(), key=lambda r: r.order_key)

    def product_taxes(self, product: Product, channel: Channel) -> ProductTaxes:
        """How `product`'s prices are taxed in `channel`: in its default country, with the
        product's tax class or else its type's (`TaxClassIdByProductIdLoader`)."""
        product_type = self.product_types.get(product.product_type_id)
        tax_class_id = product.tax_class_id or (product_type.tax_class_id if product_type else None)
        config = self.tax_configurations.get(channel.id)
        return product_taxes(config, channel.default_country, tax_class_id, self.tax_rates)
