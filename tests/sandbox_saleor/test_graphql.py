"""The GraphQL endpoint: authentication, permissions, pagination, metadata."""

from __future__ import annotations

import base64
import json

import httpx

from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import API_URL, APP_HOST, FakeApp, gql

PERMISSION_MESSAGE = (
    "To access this path, you need one of the following permissions: "
    "AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP"
)


async def install(
    sandbox: SaleorSandbox, permissions: list[str] | None = None, variant: str | None = None
) -> SandboxApp:
    """The fake app installed; with ``variant``, its manifest under another ``id`` (another app:
    Saleor refuses a second app of an installed identifier)."""
    manifest = f"http://{APP_HOST}/api/manifest" + (f"/{variant}" if variant else "")
    return await sandbox.install_app(manifest, permissions)


async def test_app_query_returns_the_calling_app(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox)
    body = await gql(
        client, "{ app { id name isActive permissions { code } } }", token=app.auth_token
    )
    assert body == {
        "data": {
            "app": {
                "id": app.global_id,
                "name": "Test App",
                "isActive": True,
                "permissions": [{"code": p} for p in app.permissions],
            }
        }
    }


async def test_app_query_without_valid_token_is_denied(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    await install(sandbox)
    for token in (None, "not-a-token", "a.b.c"):
        body = await gql(client, "{ app { id } }", token=token)
        assert body["data"] == {"app": None}
        [error] = body["errors"]
        assert error["message"] == PERMISSION_MESSAGE
        assert error["extensions"]["exception"]["code"] == "PermissionDenied"
        assert error["path"] == ["app"]


async def test_deactivated_app_token_is_anonymous(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox)
    await sandbox.set_app_active(app, False)
    body = await gql(client, "{ app { id } }", token=app.auth_token)
    assert body["data"] == {"app": None}


async def test_invalid_documents_get_http_400(sandbox: SaleorSandbox, client: httpx.AsyncClient):
    response = await client.post(API_URL, json={"query": "{ nope }"})
    assert response.status_code == 400
    assert "nope" in response.json()["errors"][0]["message"]
    response = await client.post(API_URL, json={"query": "{"})
    assert response.status_code == 400


async def test_customers_pagination_and_limits(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox)
    sandbox.generate_store(products=0, customers=250, orders=0, seed=3)
    query = """
      query($first: Int, $after: String) {
        customers(first: $first, after: $after) {
          totalCount
          edges { cursor node { id email } }
          pageInfo { hasNextPage endCursor }
        }
      }
    """
    seen: list[str] = []
    after = None
    while True:
        body = await gql(client, query, {"first": 100, "after": after}, token=app.auth_token)
        page = body["data"]["customers"]
        assert page["totalCount"] == 250
        seen += [edge["node"]["email"] for edge in page["edges"]]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 250
    cursor = json.loads(base64.b64decode(page["edges"][0]["cursor"]))
    assert isinstance(cursor, list)

    too_many = await gql(client, query, {"first": 101}, token=app.auth_token)
    assert too_many["data"]["customers"] is None
    assert too_many["errors"][0]["message"] == (
        "Requesting 101 records on the `customers` connection exceeds the `first` limit of "
        "100 records."
    )
    missing = await gql(client, query, {}, token=app.auth_token)
    assert missing["errors"][0]["message"] == (
        "You must provide a `first` or `last` value to properly paginate the `customers` "
        "connection."
    )
    bad_cursor = await gql(client, query, {"first": 1, "after": "zzz"}, token=app.auth_token)
    assert bad_cursor["errors"][0]["message"] == "Received cursor is invalid."


async def test_connection_arguments_are_refused_as_saleor_refuses_them(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """Saleor checks the page size (`_validate_slice_args`: `first` or `last` where `edges`
    are selected, each at most GRAPHQL_PAGINATION_LIMIT) before the arguments' combinations
    (`_validate_connection_args`): saleor/graphql/core/connection.py, the same at 3.20.119."""
    app = await install(sandbox)
    query = """
      query($first: Int, $last: Int) {
        productTypes(first: $first, last: $last) { edges { node { id } } }
      }
    """
    refused = await gql(client, query, {"first": -1, "last": 101}, token=app.auth_token)
    assert [e["message"] for e in refused["errors"]] == [
        "Requesting 101 records on the `productTypes` connection exceeds the `last` limit of "
        "100 records."
    ]
    both = await gql(client, query, {"first": 2, "last": 2}, token=app.auth_token)
    assert [e["message"] for e in both["errors"]] == [
        "Argument `last` cannot be combined with `first`."
    ]
    # `edges` selected in an inline fragment need a page size too (`_edges_in_selections`
    # looks into inline fragments).
    inline = await gql(
        client,
        "{ productTypes { ... on ProductTypeCountableConnection { edges { node { id } } } } }",
        {},
        token=app.auth_token,
    )
    assert [e["message"] for e in inline["errors"]] == [
        "You must provide a `first` or `last` value to properly paginate the `productTypes` "
        "connection."
    ]


async def test_customers_need_manage_users_or_orders(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox, permissions=["MANAGE_PRODUCTS"])
    body = await gql(client, "{ customers(first: 1) { totalCount } }", token=app.auth_token)
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    assert "MANAGE_ORDERS, MANAGE_USERS" in body["errors"][0]["message"]


async def test_products_with_channel_pricing(sandbox: SaleorSandbox, client: httpx.AsyncClient):
    sandbox.store.add_channel("default-channel", currency_code="USD")
    sandbox.store.add_channel("eu", currency_code="EUR")
    product = sandbox.store.create_product(
        "Mug",
        [VariantSpec(sku="MUG-1", name="Blue", prices={"default-channel": 10, "eu": 9})],
        image_urls=["https://img.test/mug.png"],
    )
    query = """
      query($channel: String) {
        products(first: 10, channel: $channel) {
          edges { node {
            id name slug thumbnail { url }
            pricing { priceRange { start { gross { amount currency } } } }
            variants { sku quantityAvailable pricing { price { gross { amount currency } } } }
          } }
        }
      }
    """
    body = await gql(client, query, {"channel": "eu"})
    node = body["data"]["products"]["edges"][0]["node"]
    assert node["id"] == product.global_id and node["slug"] == "mug"
    assert node["thumbnail"] == {"url": "https://img.test/mug.png"}
    assert node["pricing"]["priceRange"]["start"]["gross"] == {"amount": 9.0, "currency": "EUR"}
    assert node["variants"] == [
        {
            "sku": "MUG-1",
            # 100 in stock, capped by the site's limit per checkout (Saleor's default 50).
            "quantityAvailable": 50,
            "pricing": {"price": {"gross": {"amount": 9.0, "currency": "EUR"}}},
        }
    ]


async def test_checkout_by_id(sandbox: SaleorSandbox, client: httpx.AsyncClient):
    product = sandbox.store.create_product("Cap", [VariantSpec(sku="CAP", price=12)])
    checkout = sandbox.store.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], email="ann@example.com"
    )
    body = await gql(
        client,
        """query($id: ID) { checkout(id: $id) {
            id token email quantity totalPrice { gross { amount currency } }
            lines { quantity variant { sku } totalPrice { gross { amount } } } } }""",
        {"id": checkout.global_id},
    )
    assert body["data"]["checkout"] == {
        "id": checkout.global_id,
        "token": str(checkout.token),
        "email": "ann@example.com",
        "quantity": 2,
        "totalPrice": {"gross": {"amount": 24.0, "currency": "USD"}},
        "lines": [
            {"quantity": 2, "variant": {"sku": "CAP"}, "totalPrice": {"gross": {"amount": 24.0}}}
        ],
    }


async def test_user_by_email_and_orders(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox)
    sandbox.generate_store(products=3, customers=2, orders=10, seed=7)
    customer = next(iter(sandbox.store.customers.values()))
    body = await gql(
        client,
        """query($email: String) { user(email: $email) {
            id email firstName defaultBillingAddress { city country { code } }
            orders(first: 100) { totalCount } } }""",
        {"email": customer.email.upper()},
        token=app.auth_token,
    )
    user = body["data"]["user"]
    assert user["id"] == customer.global_id
    assert user["defaultBillingAddress"]["country"] == {"code": "US"}
    expected = sum(1 for o in sandbox.store.orders.values() if o.user_id == customer.id)
    assert user["orders"]["totalCount"] == expected


UPDATE_METADATA = """
mutation($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) {
    errors { field code message }
    item { metadata { key value } ... on User { email } }
  }
}
"""


async def test_update_customer_metadata(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox)
    customer = sandbox.store.create_customer("ann@example.com", "Ann")
    body = await gql(
        client,
        UPDATE_METADATA,
        {"id": customer.global_id, "input": [{"key": "mailchimp", "value": "subscribed"}]},
        token=app.auth_token,
    )
    assert body["data"]["updateMetadata"] == {
        "errors": [],
        "item": {
            "metadata": [{"key": "mailchimp", "value": "subscribed"}],
            "email": "ann@example.com",
        },
    }
    assert customer.metadata == {"mailchimp": "subscribed"}

    missing = await gql(
        client,
        UPDATE_METADATA,
        {"id": "VXNlcjo5OTk=", "input": [{"key": "a", "value": "b"}]},
        token=app.auth_token,
    )
    assert missing["data"]["updateMetadata"]["errors"][0]["code"] == "NOT_FOUND"


async def test_metadata_needs_permission(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await install(sandbox, permissions=["MANAGE_PRODUCTS"])
    customer = sandbox.store.create_customer("ann@example.com")
    body = await gql(
        client,
        UPDATE_METADATA,
        {"id": customer.global_id, "input": [{"key": "a", "value": "b"}]},
        token=app.auth_token,
    )
    assert body["data"] == {"updateMetadata": None}
    assert body["errors"][0]["message"].endswith("permissions: MANAGE_USERS")
    assert customer.metadata == {}


async def test_private_metadata_needs_permission_to_read(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    customer = sandbox.store.create_customer("ann@example.com", private_metadata={"k": "v"})
    app = await install(sandbox)
    query = 'query($id: ID) { user(id: $id) { privateMetafield(key: "k") } }'
    body = await gql(client, query, {"id": customer.global_id}, token=app.auth_token)
    assert body["data"]["user"] == {"privateMetafield": "v"}


async def test_checkouts_by_the_day_of_their_last_change(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    """saleor/graphql/checkout/schema.py `checkouts`: MANAGE_CHECKOUTS or HANDLE_PAYMENTS;
    `updatedAt` compares `last_change`'s UTC day (filters.py `filter_updated_at_range`); an
    unknown channel slug lists nothing (resolvers.py `resolve_checkouts`)."""
    from datetime import timedelta

    product = sandbox.store.create_product("Cap", [VariantSpec(sku="CAP", price=12)])
    fresh, old = (
        sandbox.store.create_checkout(lines=[LineSpec(product.variants[0].id, 1)], email=e)
        for e in ("new@example.com", "old@example.com")
    )
    old.last_change -= timedelta(days=3)
    query = """query($since: Date, $channel: String) {
        checkouts(first: 10, channel: $channel, filter: {updatedAt: {gte: $since}}) {
            edges { node { id updatedAt } } } }"""
    today = fresh.last_change.date().isoformat()
    denied = await gql(client, query, {"since": today})
    assert denied["data"]["checkouts"] is None and denied["errors"]
    token = (await install(sandbox, ["MANAGE_CHECKOUTS"])).auth_token
    body = await gql(client, query, {"since": today}, token=token)
    assert [e["node"]["id"] for e in body["data"]["checkouts"]["edges"]] == [fresh.global_id]
    every = await gql(client, query, {"since": None}, token=token)
    assert [e["node"]["id"] for e in every["data"]["checkouts"]["edges"]] == [
        fresh.global_id,
        old.global_id,
    ]  # newest change first
    nowhere = await gql(client, query, {"since": None, "channel": "nowhere"}, token=token)
    assert nowhere["data"]["checkouts"]["edges"] == []


async def test_checkouts_of_one_moment_across_pages_are_paged_as_saleor_pages_them(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    """Saleor's default `checkouts` ordering is ("-last_change", "pk") but its cursor compares
    both fields with `lt` (listings.py `default_checkouts_page`): checkouts changed at one
    moment (Saleor bulk-updates `last_change`) across a page boundary are partly skipped and
    partly listed again. Sorted by CREATION_DATE (["created_at", "pk"], one direction) every
    one is listed once."""
    from datetime import timedelta

    product = sandbox.store.create_product("Cap", [VariantSpec(sku="CAP", price=12)])
    checkouts = [
        sandbox.store.create_checkout(
            lines=[LineSpec(product.variants[0].id, 1)], email=f"c{i}@example.com"
        )
        for i in range(5)
    ]
    moment = checkouts[0].last_change
    for index, checkout in enumerate(checkouts):
        checkout.last_change = moment  # one bulk update
        checkout.created = moment - timedelta(minutes=5 - index)
    token = (await install(sandbox, ["MANAGE_CHECKOUTS"])).auth_token

    async def walk(sort: str) -> list[str]:
        query = f"""query($after: String) {{ checkouts(first: 2, after: $after{sort}) {{
            edges {{ node {{ id }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
        seen: list[str] = []
        after = None
        for _ in range(10):
            body = await gql(client, query, {"after": after}, token=token)
            page = body["data"]["checkouts"]
            seen += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return seen

    by_pk = [c.global_id for c in sorted(checkouts, key=lambda c: c.token)]
    default = await walk("")
    # The first page is the two lowest pks; after it, only pks below the second: the first.
    assert default == [by_pk[0], by_pk[1], by_pk[0]]
    by_creation = await walk(", sortBy: {field: CREATION_DATE, direction: ASC}")
    assert by_creation == [c.global_id for c in checkouts]


async def test_a_malformed_checkout_or_order_id_is_an_error_not_nothing(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    """saleor/graphql/checkout/resolvers.py `resolve_checkout` (`from_global_id_or_error(...,
    only_type="Checkout", raise_error=True)`, then `UUID(token)`) and order/schema.py
    `resolve_order` (`from_global_id_or_error(id, Order)`): a malformed id is an error, so a
    caller cannot take it for a deleted one; another type's id is an error for a checkout,
    nothing for an order."""
    token = (await install(sandbox, ["MANAGE_CHECKOUTS", "MANAGE_ORDERS"])).auth_token
    checkout = "query($id: ID) { checkout(id: $id) { id } }"
    order = "query($id: ID) { order(id: $id) { id } }"
    user_id = base64.b64encode(b"User:1").decode()
    bad_pk = base64.b64encode(b"Checkout:abc").decode()  # neither an integer nor a UUID
    int_pk = base64.b64encode(b"Checkout:12").decode()  # an integer, then `UUID(token)`
    for query, id_, message in (
        (checkout, "garbage", "Invalid ID: garbage. Expected: Checkout."),
        (checkout, user_id, f"Invalid ID: {user_id}. Expected: Checkout, received: User."),
        (checkout, bad_pk, f"Invalid ID: {bad_pk}. Expected: Checkout."),
        (checkout, int_pk, "badly formed hexadecimal UUID string"),
        (order, "garbage", "Invalid ID: garbage. Expected: Order."),
    ):
        body = await gql(client, query, {"id": id_}, token=token)
        assert body["errors"][0]["message"] == message, (query, id_)
    other = await gql(client, order, {"id": user_id}, token=token)
    assert other == {"data": {"order": None}}
