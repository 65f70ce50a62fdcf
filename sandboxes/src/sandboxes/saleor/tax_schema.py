"""Resolvers of Saleor's tax settings (saleor/graphql/tax/schema.py and types.py):
``taxConfigurations``, ``taxCountryConfigurations`` and ``Channel.taxConfiguration``, for staff
and apps only (AUTHENTICATED_STAFF_USER or AUTHENTICATED_APP, any app whatever its
permissions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .arguments import ids_filter, page_args
from .connections import paginate
from .context import Info, api_context
from .permissions import AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER
from .shop_schema import country_display
from .taxes import TaxClassCountryRate


def resolve_tax_configurations(
    root: Any, info: Info, filter: dict[str, Any] | None = None, **args: Any
) -> Any:
    """`taxConfigurations`: every channel's, by pk (the model's `Meta.ordering`); the
    filter's `ids` as Saleor's `filter_by_id` reads them (ids of another type skipped)."""
    context = api_context(info)
    context.viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    configs = sorted(context.store.tax_configurations.values(), key=lambda c: c.id)
    pks = ids_filter(filter, "TaxConfiguration")
    if pks is not None:
        configs = [c for c in configs if c.id in pks]
    return paginate(info, configs, lambda c: c.id, **page_args(args))


def resolve_tax_country_configurations(root: Any, info: Info) -> list[dict[str, Any]]:
    """`taxCountryConfigurations`: the countries that have any flat rate, each with its rates,
    grouped in the rates' ordering (`resolve_tax_country_configurations`: country, tax class
    nulls first, pk)."""
    context = api_context(info)
    context.viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    per_country: dict[str, list[TaxClassCountryRate]] = {}
    for rate in context.store.tax_rates_listed():
        per_country.setdefault(rate.country, []).append(rate)
    return [
        {"country": country_display(country), "taxClassCountryRates": rates}
        for country, rates in per_country.items()
    ]


def _tax_class(rate: TaxClassCountryRate, info: Info) -> Any:
    if not rate.tax_class_id:
        return None
    return api_context(info).store.tax_classes.get(rate.tax_class_id)


def _type_tax_class(product_type: Any, info: Info) -> Any:
    """`ProductType.taxClass`: staff and apps only (saleor/graphql/product/types/products.py,
    a PermissionsField of AUTHENTICATED_STAFF_USER or AUTHENTICATED_APP)."""
    context = api_context(info)
    context.viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    if not product_type.tax_class_id:
        return None
    return context.store.tax_classes.get(product_type.tax_class_id)


def _class_rates(tax_class: Any, info: Info) -> list[TaxClassCountryRate]:
    """`TaxClass.countries` (`TaxClassCountryRateByTaxClassIDLoader`): its rates."""
    rates = api_context(info).store.tax_rates_listed()
    return [r for r in rates if r.tax_class_id == tax_class.id]


def _channel_tax_configuration(channel: Any, info: Info) -> Any:
    """`Channel.taxConfiguration`: staff and apps only (saleor/graphql/channel/types.py, a
    PermissionsField of AUTHENTICATED_STAFF_USER or AUTHENTICATED_APP)."""
    context = api_context(info)
    context.viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    return context.store.tax_configurations[channel.id]


def tax_resolvers() -> dict[str, dict[str, Callable[..., Any]]]:
    return {
        "Channel": {"taxConfiguration": _channel_tax_configuration},
        "Query": {
            "taxConfigurations": resolve_tax_configurations,
            "taxCountryConfigurations": resolve_tax_country_configurations,
        },
        "TaxConfiguration": {
            "channel": lambda c, info: api_context(info).store.channels.get(c.channel_id),
            "countries": lambda c, info: list(c.countries),
        },
        "TaxConfigurationPerCountry": {"country": lambda c, info: country_display(c.country)},
        "TaxClass": {"countries": _class_rates},
        "ProductType": {"taxClass": _type_tax_class},
        "TaxClassCountryRate": {
            "country": lambda r, info: country_display(r.country),
            "rate": lambda r, info: float(r.rate),
            "taxClass": _tax_class,
        },
    }
