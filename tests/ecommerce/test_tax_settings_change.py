"""A product's price in Mailchimp is the one Saleor's storefront shows, taxed by the flat rate of
the channel's default country. Changing a rate or the channel's tax configuration changes those
prices and sends no product event: Mailchimp kept the old prices until each product's next edit.
Now the daily product sweep reads the tax settings and re-prices a channel whose settings
changed (`ecommerce/tax_settings.py`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from addon.clock import ManualClock
from addon.ecommerce.daily_sweep import SWEEP_EVERY
from addon.ecommerce.reprice import REPRICE_JOB
from addon.jobs.models import Job
from addon.saleor.client import SaleorQueryError
from sandboxes.saleor.taxes import TaxCalculationStrategy
from tests.ecommerce.conftest import CHANNEL, Shop


def _price(shop: Shop, product_id: int) -> float:
    [variant] = shop.products()[str(product_id)].variants
    return float(variant.price)


async def _next_day(shop: Shop, clock: ManualClock) -> None:
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()


async def _reprices_after_a_day(shop: Shop, clock: ManualClock) -> int:
    """The re-prices once what was made is sent and a day's sweep has read the settings."""
    await shop.drain()
    await _next_day(shop, clock)
    return await _reprices(shop)


async def _reprices(shop: Shop) -> int:
    """The channel's re-prices queued so far (done or not)."""
    async with shop.services.db.session() as session:
        return int(await session.scalar(select(func.count()).where(Job.kind == REPRICE_JOB)) or 0)


async def test_a_rate_changed_in_saleor_reaches_the_prices_the_next_day(
    shop: Shop, clock: ManualClock
) -> None:
    store = shop.saleor.store
    store.tax_configuration(CHANNEL).prices_entered_with_tax = False  # taxed on top
    basil = await shop.product("Basil", "10.00")
    await shop.drain()
    assert _price(shop, basil.id) == 10.0  # no rate yet
    await _next_day(shop, clock)  # the first read: once re-priced (nothing changed)
    assert await _reprices(shop) == 1
    before = len(shop.writes())

    deliveries = len(shop.saleor.deliveries)
    store.set_flat_rate("US", Decimal("20"))
    assert shop.saleor.deliveries[deliveries:] == []  # nothing tells the app
    await shop.drain()
    assert _price(shop, basil.id) == 10.0

    await _next_day(shop, clock)
    assert _price(shop, basil.id) == 12.0
    [variant] = shop.products()[str(basil.id)].variants
    assert shop.writes()[before:] == [f"PUT /products/{basil.id}/variants/{variant.id}"]

    assert await _reprices(shop) == 2

    # The next day: the settings read match, nothing is re-priced.
    await _next_day(shop, clock)
    assert await _reprices(shop) == 2


async def test_net_prices_shown_after_a_change_of_display(shop: Shop, clock: ManualClock) -> None:
    """A channel now showing prices without tax: its products go at the net price."""
    store = shop.saleor.store
    store.set_flat_rate("US", Decimal("25"))
    tea = await shop.product("Tea", "5.00")
    await shop.drain()
    assert _price(shop, tea.id) == 5.0  # entered with tax, shown with it
    await _next_day(shop, clock)

    store.tax_configuration(CHANNEL).display_gross_prices = False
    await _next_day(shop, clock)

    assert _price(shop, tea.id) == 4.0


async def test_a_change_of_another_country_s_rate_re_prices_nothing(
    shop: Shop, clock: ManualClock
) -> None:
    store = shop.saleor.store
    kale = await shop.product("Kale", "2.00")
    reprices = await _reprices_after_a_day(shop, clock)

    store.set_flat_rate("DE", Decimal("19"))
    await _next_day(shop, clock)

    assert await _reprices(shop) == reprices
    assert _price(shop, kale.id) == 2.0


async def test_rates_under_a_tax_app_re_price_nothing(shop: Shop, clock: ManualClock) -> None:
    """A tax app's strategy leaves product prices untaxed (saleor/product/utils/availability.py
    `_calculate_product_price_with_taxes`): its rates change none."""
    store = shop.saleor.store
    store.tax_configuration(CHANNEL).tax_calculation_strategy = TaxCalculationStrategy.TAX_APP
    await shop.product("Kale", "2.00")
    reprices = await _reprices_after_a_day(shop, clock)

    store.set_flat_rate("US", Decimal("19"))
    await _next_day(shop, clock)

    assert await _reprices(shop) == reprices


async def test_tax_settings_saleor_refuses_leave_the_rest_of_the_sweep(
    shop: Shop, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal of the tax read is no outage to wait out: the sweep still hides a product
    Saleor deleted without a word."""
    basil = await shop.product("Basil", "5.00", product_type="Herbs")
    await shop.drain()
    execute = shop.services.saleor.execute

    async def refusing(api_url: str, token: Any, document: str, *a: Any, **kw: Any) -> Any:
        if document == "ecommerce_tax_rates":
            raise SaleorQueryError("Cannot query field 'taxCountryConfigurations'", [], None)
        return await execute(api_url, token, document, *a, **kw)

    monkeypatch.setattr(shop.services.saleor, "execute", refusing)
    await shop.saleor.delete_product_type(basil)
    await _next_day(shop, clock)

    [variant] = shop.products()[str(basil.id)].variants
    assert (variant.visibility, variant.inventory_quantity) == ("hidden", 0)


async def test_a_type_given_another_tax_class_re_prices_its_products(
    shop: Shop, clock: ManualClock
) -> None:
    """`productTypeUpdate(input: {taxClass})` changes the prices of the type's products that
    have no tax class of their own, and sends them no event."""
    store = shop.saleor.store
    reduced = store.add_tax_class("Reduced")
    store.set_flat_rate("US", Decimal("20"))
    store.set_flat_rate("US", Decimal("5"), tax_class_id=reduced.id)
    store.tax_configuration(CHANNEL).prices_entered_with_tax = False
    basil = await shop.product("Basil", "10.00", product_type="Herbs")
    spade = await shop.product("Spade", "10.00", product_type="Tools")
    await shop.drain()
    await _next_day(shop, clock)  # the first read records the types' tax classes
    assert (_price(shop, basil.id), _price(shop, spade.id)) == (12.0, 12.0)
    writes = len(shop.writes())

    store.get_or_create_product_type("Herbs").tax_class_id = reduced.id
    await _next_day(shop, clock)

    assert (_price(shop, basil.id), _price(shop, spade.id)) == (10.5, 12.0)
    [variant] = shop.products()[str(basil.id)].variants
    assert shop.writes()[writes:] == [f"PUT /products/{basil.id}/variants/{variant.id}"]
