"""`taxConfigurations` and `taxCountryConfigurations` (the sandbox's tax_schema.py), as Saleor
answers them (saleor/graphql/tax/schema.py): for staff and any app only, every channel's
configuration with the model's defaults, and the countries that have a flat rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.ids import to_global_id
from sandboxes.saleor.taxes import TaxCalculationStrategy

from .conftest import APP_HOST, gql

CONFIGURATIONS = """query($first: Int, $after: String, $filter: TaxConfigurationFilterInput) {
  taxConfigurations(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id channel { slug } chargeTaxes taxCalculationStrategy displayGrossPrices
      pricesEnteredWithTax taxAppId
      countries {
        country { code } chargeTaxes taxCalculationStrategy displayGrossPrices taxAppId
      }
    } }
  }
}"""

RATES = """{ taxCountryConfigurations {
  country { code country }
  taxClassCountryRates { country { code } rate taxClass { id name } }
} }"""

PERMISSION_MESSAGE = (
    "To access this path, you need one of the following permissions: "
    "AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP"
)


def _defaults(channel: str) -> dict[str, Any]:
    return {
        "channel": {"slug": channel},
        "chargeTaxes": True,
        "taxCalculationStrategy": "FLAT_RATES",
        "displayGrossPrices": True,
        "pricesEnteredWithTax": True,
        "taxAppId": None,
        "countries": [],
    }


@pytest.fixture
async def app_token(sandbox: SaleorSandbox, fake_app: Any) -> str:
    """An app with no permission at all: any app may read the tax settings."""
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest", permissions=[])
    assert app.permissions == []
    return app.auth_token


async def test_every_channel_has_a_configuration_with_saleors_defaults(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    sandbox.store.add_channel("b-channel")
    await sandbox.add_channel("a-channel")
    body = await gql(client, CONFIGURATIONS, {"first": 10}, token=app_token)
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["taxConfigurations"]["edges"]]
    # By pk: the channels' order of creation.
    assert [{k: v for k, v in n.items() if k != "id"} for n in nodes] == [
        _defaults("b-channel"),
        _defaults("a-channel"),
    ]
    configs = [sandbox.store.tax_configuration(s) for s in ("b-channel", "a-channel")]
    assert [n["id"] for n in nodes] == [to_global_id("TaxConfiguration", c.id) for c in configs]
    assert body["data"]["taxConfigurations"]["totalCount"] == 2


async def test_configurations_are_paged_and_filtered_by_ids(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    for slug in ("one", "two", "three"):
        sandbox.store.add_channel(slug)
    first = await gql(client, CONFIGURATIONS, {"first": 2}, token=app_token)
    page = first["data"]["taxConfigurations"]
    assert [e["node"]["channel"]["slug"] for e in page["edges"]] == ["one", "two"]
    assert page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    second = await gql(client, CONFIGURATIONS, {"first": 2, "after": after}, token=app_token)
    page = second["data"]["taxConfigurations"]
    assert [e["node"]["channel"]["slug"] for e in page["edges"]] == ["three"]
    assert page["pageInfo"]["hasNextPage"] is False

    three = to_global_id("TaxConfiguration", sandbox.store.tax_configuration("three").id)
    other_type = to_global_id("Channel", sandbox.store.channel_by_slug("one").id)
    variables = {"first": 10, "filter": {"ids": [three, other_type]}}
    filtered = await gql(client, CONFIGURATIONS, variables, token=app_token)
    edges = filtered["data"]["taxConfigurations"]["edges"]
    assert [e["node"]["channel"]["slug"] for e in edges] == ["three"]


async def test_a_configuration_shows_its_changes_and_country_exceptions(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    store = sandbox.store
    store.add_channel("default")
    config = store.tax_configuration("default")
    config.prices_entered_with_tax = False
    config.charge_taxes = False
    config.tax_calculation_strategy = TaxCalculationStrategy.TAX_APP
    config.tax_app_id = "app.taxes"
    store.set_tax_exception("default", "PL", display_gross_prices=False)
    store.set_tax_exception("default", "DE", tax_calculation_strategy="FLAT_RATES")
    store.set_tax_exception("default", "PL", charge_taxes=False)  # the same exception changed
    body = await gql(client, CONFIGURATIONS, {"first": 1}, token=app_token)
    node = body["data"]["taxConfigurations"]["edges"][0]["node"]
    assert {k: v for k, v in node.items() if k not in ("id", "channel", "countries")} == {
        "chargeTaxes": False,
        "taxCalculationStrategy": "TAX_APP",
        "displayGrossPrices": True,
        "pricesEnteredWithTax": False,
        "taxAppId": "app.taxes",
    }
    # By country (the model's ordering).
    assert node["countries"] == [
        {
            "country": {"code": "DE"},
            "chargeTaxes": True,
            "taxCalculationStrategy": "FLAT_RATES",
            "displayGrossPrices": True,
            "taxAppId": None,
        },
        {
            "country": {"code": "PL"},
            "chargeTaxes": False,
            "taxCalculationStrategy": None,
            "displayGrossPrices": False,
            "taxAppId": None,
        },
    ]


async def test_a_deleted_channels_configuration_goes_with_it(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    sandbox.store.add_channel("kept")
    sandbox.store.add_channel("gone")
    await sandbox.channels.delete("gone")
    body = await gql(client, CONFIGURATIONS, {"first": 10}, token=app_token)
    edges = body["data"]["taxConfigurations"]["edges"]
    assert [e["node"]["channel"]["slug"] for e in edges] == ["kept"]


async def test_country_configurations_list_the_countries_with_rates(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    store = sandbox.store
    body = await gql(client, RATES, token=app_token)
    assert body == {"data": {"taxCountryConfigurations": []}}

    books, food = store.add_tax_class("Books"), store.add_tax_class("Food")
    store.set_flat_rate("US", Decimal("5"), food.id)
    store.set_flat_rate("PL", Decimal("7"), books.id)
    store.set_flat_rate("PL", Decimal("8"), books.id)  # changed
    store.set_flat_rate("US", Decimal("0"), books.id)
    store.set_flat_rate("US", Decimal("8.8756"))  # stored to 3 places, as the column holds it
    store.set_flat_rate("DE", Decimal("19"))
    store.set_flat_rate("DE", None)  # deleted
    body = await gql(client, RATES, token=app_token)
    books_node = {"id": books.global_id, "name": "Books"}
    food_node = {"id": food.global_id, "name": "Food"}
    # By country, then the default rate first, then by tax class.
    assert body["data"]["taxCountryConfigurations"] == [
        {
            "country": {"code": "PL", "country": "Poland"},
            "taxClassCountryRates": [
                {"country": {"code": "PL"}, "rate": 8.0, "taxClass": books_node}
            ],
        },
        {
            "country": {"code": "US", "country": "United States of America"},
            "taxClassCountryRates": [
                {"country": {"code": "US"}, "rate": 8.876, "taxClass": None},
                {"country": {"code": "US"}, "rate": 0.0, "taxClass": books_node},
                {"country": {"code": "US"}, "rate": 5.0, "taxClass": food_node},
            ],
        },
    ]


def test_rates_are_checked() -> None:
    sandbox = SaleorSandbox()
    with pytest.raises(ValueError, match="negative"):
        sandbox.store.set_flat_rate("US", Decimal("-1"))
    with pytest.raises(ValueError, match="country code"):
        sandbox.store.set_flat_rate("us", Decimal("1"))
    with pytest.raises(LookupError):
        sandbox.store.set_flat_rate("US", Decimal("1"), tax_class_id=12345)
    assert sandbox.store.tax_rates == {}


@pytest.mark.parametrize("query", [CONFIGURATIONS, RATES])
async def test_anonymous_callers_and_customers_are_refused(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, query: str
) -> None:
    sandbox.store.add_channel("default")
    sandbox.store.set_flat_rate("US", Decimal("10"))
    ann = sandbox.store.create_customer("ann@example.com")
    field = "taxConfigurations" if query is CONFIGURATIONS else "taxCountryConfigurations"
    for token in (None, sandbox.mint_customer_token(ann)):
        body = await gql(client, query, {"first": 1}, token=token)
        assert body["data"] == {field: None}
        [error] = body["errors"]
        assert error["message"] == PERMISSION_MESSAGE
        assert error["extensions"]["exception"]["code"] == "PermissionDenied"
        assert error["path"] == [field]


async def test_staff_may_read_them(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    sandbox.store.add_channel("default")
    sandbox.store.set_flat_rate("US", Decimal("10"))
    token = sandbox.mint_dashboard_token(app, user_permissions=[])
    body = await gql(client, CONFIGURATIONS, {"first": 1}, token=token)
    assert body["data"]["taxConfigurations"]["totalCount"] == 1
    body = await gql(client, RATES, token=token)
    assert [c["country"]["code"] for c in body["data"]["taxCountryConfigurations"]] == ["US"]


TYPE_CLASSES = """{ productTypes(first: 10) { edges { node { name taxClass { id name } } } } }"""


async def test_a_product_types_tax_class_is_for_staff_and_apps(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    """`ProductType.taxClass` is a PermissionsField of AUTHENTICATED_STAFF_USER or
    AUTHENTICATED_APP (saleor/graphql/product/types/products.py); `productTypes` is public."""
    food = sandbox.store.add_tax_class("Food")
    herbs = sandbox.store.get_or_create_product_type("Herbs")
    sandbox.store.get_or_create_product_type("Tools")
    herbs.tax_class_id = food.id
    body = await gql(client, TYPE_CLASSES, token=app_token)
    assert "errors" not in body, body
    assert [e["node"] for e in body["data"]["productTypes"]["edges"]] == [
        {"name": "Herbs", "taxClass": {"id": food.global_id, "name": "Food"}},
        {"name": "Tools", "taxClass": None},
    ]
    anonymous = await gql(client, TYPE_CLASSES)
    # Only the field is nulled (nullable), the rest of the answer stays.
    edges = anonymous["data"]["productTypes"]["edges"]
    assert [e["node"] for e in edges] == [
        {"name": "Herbs", "taxClass": None},
        {"name": "Tools", "taxClass": None},
    ]
    assert anonymous["errors"][0]["message"] == PERMISSION_MESSAGE


CHANNEL_TAXES = """query($slug: String) {
  channel(slug: $slug) { slug taxConfiguration { pricesEnteredWithTax } } }"""


async def test_a_channels_tax_configuration_is_for_staff_and_apps(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, app_token: str
) -> None:
    """saleor/graphql/channel/types.py: `Channel.taxConfiguration` is a PermissionsField of
    AUTHENTICATED_STAFF_USER or AUTHENTICATED_APP."""
    sandbox.store.add_channel("default")
    sandbox.store.tax_configuration("default").prices_entered_with_tax = False
    body = await gql(client, CHANNEL_TAXES, {"slug": "default"}, token=app_token)
    assert body["data"]["channel"]["taxConfiguration"] == {"pricesEnteredWithTax": False}
    ann = sandbox.store.create_customer("ann@example.com")
    for token in (None, sandbox.mint_customer_token(ann)):
        body = await gql(client, CHANNEL_TAXES, {"slug": "default"}, token=token)
        [error] = body["errors"]
        assert error["message"] == PERMISSION_MESSAGE
        assert error["path"] == ["channel", "taxConfiguration"]
