"""Each Mailchimp store's `primary_locale` and `timezone`: from the channel where Saleor has them
(its metadata; the one time zone of its default country), otherwise the app's defaults."""

from __future__ import annotations

from typing import Any

from tests.ecommerce.conftest import CHANNEL, Shop


async def _settings(shop: Shop, body: dict[str, Any]) -> Any:
    return await shop.api("PATCH", "/api/ecommerce/settings", body)


def _store(shop: Shop, channel: str = CHANNEL) -> Any:
    from addon.ecommerce.stores_repository import stable_store_id

    store_id = stable_store_id(shop.saleor.api_url, channel, shop.list_id)
    return next(s for s in shop.mailchimp.stores(shop.account) if s.id == store_id)


async def test_the_defaults_apply_where_the_channel_says_nothing(shop: Shop) -> None:
    store = _store(shop)
    assert (store.primary_locale, store.timezone) == ("", "")  # nothing known, nothing sent
    response = await _settings(
        shop, {"default_locale": "EN", "default_timezone": "America/Chicago"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["default_locale"] == "en"
    await shop.drain()
    # The channel's default country (US) has several time zones: the default applies.
    store = _store(shop)
    assert (store.primary_locale, store.timezone) == ("en", "America/Chicago")


async def test_the_channel_metadata_and_country_win(shop: Shop) -> None:
    await _settings(shop, {"default_locale": "en", "default_timezone": "America/Chicago"})
    channel = await shop.saleor.add_channel("pl", "Polska", "PLN", default_country="PL")
    response = await shop.api(
        "PUT", "/api/ecommerce/channels/pl", {"tracked": True, "list_id": shop.list_id}
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    store = _store(shop, "pl")
    # Poland has one time zone; no language is guessed from a country.
    assert (store.primary_locale, store.timezone) == ("en", "Europe/Warsaw")
    channel.metadata = {"mailchimp.locale": "pl", "mailchimp.timezone": "Europe/Warsaw"}
    default = shop.saleor.store.channel_by_slug(CHANNEL)
    default.metadata = {"mailchimp.locale": "es", "mailchimp.timezone": "America/Mexico_City"}
    await _settings(shop, {"default_locale": "de"})  # the stores are pushed again
    await shop.drain()
    assert (_store(shop, "pl").primary_locale, _store(shop, "pl").timezone) == (
        "pl",
        "Europe/Warsaw",
    )
    assert (_store(shop).primary_locale, _store(shop).timezone) == ("es", "America/Mexico_City")


async def test_unusable_channel_values_fall_back_to_the_defaults(shop: Shop) -> None:
    default = shop.saleor.store.channel_by_slug(CHANNEL)
    default.metadata = {"mailchimp.locale": "xx", "mailchimp.timezone": "CET"}
    await _settings(shop, {"default_locale": "de", "default_timezone": "Europe/Berlin"})
    await shop.drain()
    store = _store(shop)
    assert (store.primary_locale, store.timezone) == ("de", "Europe/Berlin")


async def test_defaults_are_checked(shop: Shop) -> None:
    for body, said in (
        ({"default_locale": "english"}, "two-letter"),
        ({"default_locale": "xx"}, "two-letter"),  # the shape of a code, no language's
        ({"default_timezone": "EST"}, "time zone name"),
        ({"default_timezone": "Mars/Olympus"}, "time zone name"),
    ):
        response = await _settings(shop, body)
        assert response.status_code == 422, body
        assert said in response.text
    response = await _settings(shop, {"default_locale": "", "default_timezone": None})
    assert response.status_code == 200
    assert response.json()["settings"]["default_locale"] is None
