"""A channel's tax settings changed in Saleor: its products re-priced in Mailchimp.

A variant's price in Mailchimp is the one Saleor's storefront shows (`payloads.sale_price`):
taxed by the flat rate of the channel's default country for the product's tax class (else that
country's default rate), with tax or without it as the channel displays prices, from a base
entered with tax or without (saleor/graphql/product/types/products.py `ProductVariant.
resolve_pricing`, saleor/product/utils/availability.py `get_variant_availability`). Changing a
rate (`taxClassUpdate`, `taxCountryConfigurationUpdate`), the channel's tax configuration
(`taxConfigurationUpdate`) or its default country (`channelUpdate`) changes those prices and
sends no product event: Mailchimp kept the old prices until each product's next edit.

So the daily product sweep (`product_sweep.py`) reads the tax configurations and the flat rates
(two queries an installation, a page of configurations a hundred channels; any app may:
saleor/graphql/tax/schema.py) and keeps, for each
swept channel, a digest of what its prices depend on (`MailchimpStore.tax_digest`). A digest
other than the last one re-prices the channel (`reprice.queue_reprice_now`: every product
pushed again, those whose price did not change sending nothing). The digest is recorded with
the re-price queued, in one transaction. A channel read for the first time (tracked since the
last sweep, or the app upgraded) is re-priced once: its prices were sent at whatever settings
held then. Under a tax app's strategy only the strategy counts: Saleor leaves product prices
untaxed there, whatever the rates. A product type given another tax class
(`productTypeUpdate`) changes its products' prices alone: the same sweep pushes them again
(`product_type_names.py`).
"""

from __future__ import annotations

import hashlib
import json
import logging

from pydantic import BaseModel, ConfigDict, Field

from addon.ecommerce.context import Context
from addon.ecommerce.reprice import queue_reprice_now
from addon.ecommerce.saleor_schemas import IdRef
from addon.ecommerce.stores_repository import StoreRepository
from addon.saleor.client import SaleorQueryError
from addon.saleor.paging import read_all
from addon.services import Services

logger = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class _Country(_Model):
    code: str


class _ChannelRef(_Model):
    slug: str
    default_country: _Country = Field(alias="defaultCountry")


class _CountryException(_Model):
    country: _Country
    strategy: str | None = Field(None, alias="taxCalculationStrategy")
    display_gross: bool = Field(alias="displayGrossPrices")


class _TaxConfiguration(_Model):
    channel: _ChannelRef
    strategy: str | None = Field(None, alias="taxCalculationStrategy")
    display_gross: bool = Field(alias="displayGrossPrices")
    entered_with_tax: bool = Field(alias="pricesEnteredWithTax")
    countries: list[_CountryException] = Field(default_factory=list)


class _Rate(_Model):
    rate: float
    tax_class: IdRef | None = Field(None, alias="taxClass")


class _CountryRates(_Model):
    country: _Country
    rates: list[_Rate] = Field(default_factory=list, alias="taxClassCountryRates")


def channel_digest(configuration: _TaxConfiguration, rates: dict[str, _CountryRates]) -> str:
    """What the channel's product prices depend on, beyond the products: its tax settings for
    its default country (the country's exception over the channel's own) and that country's
    rates, default and by tax class."""
    country = configuration.channel.default_country.code
    exception = next((c for c in configuration.countries if c.country.code == country), None)
    # saleor/tax/utils.py `get_tax_calculation_strategy`, `get_display_gross_prices`.
    strategy = (exception.strategy if exception else configuration.strategy) or "FLAT_RATES"
    settings: dict[str, object] = {"country": country, "strategy": strategy}
    if strategy == "FLAT_RATES":
        # Another strategy (a tax app) leaves product prices untaxed, whatever the rest says
        # (saleor/product/utils/availability.py `_calculate_product_price_with_taxes`).
        held = rates.get(country)
        settings |= {
            "entered_with_tax": configuration.entered_with_tax,
            "display_gross": exception.display_gross if exception else configuration.display_gross,
            "rates": sorted(
                (r.tax_class.id if r.tax_class else "", f"{r.rate:.4f}")
                for r in (held.rates if held else [])
            ),
        }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


async def note_tax_settings(services: Services, contexts: list[Context]) -> int:
    """Read Saleor's tax settings and re-price each of `contexts` (channels of one installation,
    swept now) whose digest changed since the last read; record the digests. How many channels
    were re-priced."""
    if not contexts:
        return 0
    first = contexts[0]
    try:
        configurations = await _read_configurations(services, first)
        data = await services.saleor.execute(first.api_url, first.token, "ecommerce_tax_rates", {})
    except SaleorQueryError as exc:
        # Refused (not an outage, which the sweep's retries wait out): the rest of the sweep
        # (products deleted, types renamed) still runs; the next day's reads again.
        logger.warning("Saleor's tax settings could not be read: %s", exc)
        return 0
    rates = {
        item.country.code: item
        for item in (
            _CountryRates.model_validate(node)
            for node in data.get("taxCountryConfigurations") or []
        )
    }
    by_slug = {c.channel.slug: c for c in configurations}
    changed = 0
    async with services.db.transaction() as session:
        stores = StoreRepository(session)
        for context in contexts:
            configuration = by_slug.get(context.channel)
            store = await stores.get(context.installation_id, context.channel)
            if configuration is None or store is None or not store.tracked:
                continue
            digest = channel_digest(configuration, rates)
            # Not read before (a channel tracked since the last sweep, or the app upgraded):
            # its prices were sent at whatever settings held then, so once re-priced.
            if store.tax_digest != digest:
                await queue_reprice_now(session, context.installation_id, context.channel)
                changed += 1
            store.tax_digest = digest
    if changed:
        logger.info("Tax settings changed in Saleor: %d channel(s) re-priced", changed)
    return changed


async def _read_configurations(services: Services, context: Context) -> list[_TaxConfiguration]:
    return await read_all(
        services.saleor,
        context.api_url,
        context.token,
        "ecommerce_tax_configurations",
        "taxConfigurations",
        _TaxConfiguration,
    )


__all__ = ["channel_digest", "note_tax_settings"]
