"""The sandbox's executable GraphQL schema: Saleor's types, resolved from the in-memory store.

The SDL lives in ``schema.graphql`` (a strict subset of Saleor's schema); this module attaches
resolvers to it. Resolvers enforce Saleor's permission rules and error wording, e.g. an
anonymous ``{ app { id } }`` yields ``app: null`` plus an error whose message is "To access this
path, you need one of the following permissions: AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP"
and ``extensions.exception.code == "PermissionDenied"``. Relay connections follow Saleor:
cursors are ``base64(json([...]))``, ``first``/``last`` are capped at 100, and a connection
whose ``edges`` are selected needs ``first`` or ``last``.

This module builds the schema (``sandbox_schema``): it reads the SDL, configures the scalars
(``scalars``), attaches the resolver map (``resolver_map``; the resolvers themselves live in
``shop_schema``, ``account_schema``, ``catalog_schema``, ``checkout_schema``, ``order_schema``,
``metadata_schema``, ``voucher_schema``, ``tax_schema``, ``listings`` and the mutation modules)
and resolves abstract types and webhook events.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema

from .arguments import channel_named
from .checkout_schema import CheckoutLineView
from .context import EventRoot, Info, api_context
from .models import (
    Address,
    Category,
    Channel,
    Checkout,
    Customer,
    Product,
    ProductVariant,
    SandboxApp,
    WebhookConfig,
)
from .order_models import Fulfillment, Order, OrderLine, Payment, TransactionItem
from .reading import InChannel, resolve_global_id
from .resolver_map import build_resolver_map, with_voucher_resolvers
from .scalars import configure_scalars
from .taxes import TaxClass, TaxConfiguration
from .versions import (
    CURRENT_VERSION,
    has_customer_deleted_type,
    has_discounted_price_updated,
    has_order_line_discounts,
    has_order_where,
)
from .voucher_models import Voucher
from .voucher_schema import as_view

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")


# -- type resolution ------------------------------------------------------------------------------

_TYPE_NAMES: dict[type, str] = {
    SandboxApp: "App",
    Customer: "User",
    Channel: "Channel",
    Address: "Address",
    Product: "Product",
    ProductVariant: "ProductVariant",
    Checkout: "Checkout",
    Order: "Order",
    TransactionItem: "TransactionItem",
    Payment: "Payment",
    Category: "Category",
    WebhookConfig: "Webhook",
    Fulfillment: "Fulfillment",
    TaxConfiguration: "TaxConfiguration",
    TaxClass: "TaxClass",
}


def resolve_type(value: Any, info: Info, abstract_type: Any) -> str | None:
    if isinstance(value, EventRoot):
        return value.type_name
    if isinstance(value, InChannel):
        value = value.node
    if isinstance(value, CheckoutLineView):
        return "CheckoutLine"
    if isinstance(value, tuple) and value and isinstance(value[0], OrderLine):
        return "OrderLine"
    return _TYPE_NAMES.get(type(value))


def _event_resolvers(schema: GraphQLSchema) -> None:
    event_fields = {
        "issuedAt": lambda root, info: root.issued_at,
        "version": lambda root, info: root.version,
        "issuingPrincipal": lambda root, info: root.issuing_principal,
        "recipient": lambda root, info: root.recipient,
    }
    for type_name in event_type_names(schema):
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, graphql_field in graphql_type.fields.items():
            if field_name in event_fields:
                graphql_field.resolve = event_fields[field_name]
            else:
                graphql_field.resolve = _event_payload(field_name)


def _event_payload(field_name: str) -> Callable[..., Any]:
    def resolve(root: EventRoot, info: Info, channel: str | None = None) -> Any:
        value = root.payload.get(field_name)
        if isinstance(value, Product | ProductVariant | Voucher):
            store = api_context(info).store
            chan = channel_named(store, channel) if channel else None
            return (
                InChannel(value, chan) if not isinstance(value, Voucher) else as_view(value, chan)
            )
        return value

    return resolve


def event_type_names(schema: GraphQLSchema) -> list[str]:
    """The concrete ``Event`` types the sandbox schema declares."""
    event = schema.type_map["Event"]
    return [t.name for t in schema.get_possible_types(event)]  # type: ignore[arg-type]


def sandbox_schema(version: str = CURRENT_VERSION) -> GraphQLSchema:
    """The executable sandbox schema as Saleor ``version`` serves it (see ``versions``)."""
    return _sandbox_schema(
        order_where=has_order_where(version),
        customer_deleted=has_customer_deleted_type(version),
        discounted_price_updated=has_discounted_price_updated(version),
        line_discounts=has_order_line_discounts(version),
    )


@cache
def _sandbox_schema(
    *,
    order_where: bool,
    customer_deleted: bool = True,
    discounted_price_updated: bool = True,
    line_discounts: bool = True,
) -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    # Event types a subscription cannot name before their version (absent from
    # shared/contracts/saleor-schema-3.20.graphql): CustomerDeleted before 3.23.5
    # (saleor/saleor#19173), ProductVariantDiscountedPriceUpdated before 3.23.0.
    missing = {
        name
        for name, present in (
            ("CustomerDeleted", customer_deleted),
            ("ProductVariantDiscountedPriceUpdated", discounted_price_updated),
            # `OrderLine.discounts` and its type came with 3.21.0 (versions.py).
            ("OrderLineDiscount", line_discounts),
        )
        if not present
    }
    if not line_discounts:
        order_line = schema.type_map["OrderLine"]
        assert isinstance(order_line, GraphQLObjectType)
        del order_line.fields["discounts"]
    if missing:
        kept = [
            t
            for name, t in schema.type_map.items()
            if name not in missing and not name.startswith("__")
        ]
        schema = GraphQLSchema(
            query=schema.query_type,
            mutation=schema.mutation_type,
            subscription=schema.subscription_type,
            types=kept,
            directives=schema.directives,
        )
    if not order_where:
        # Before 3.22 `orders` has neither `where` nor `search`, and OrderWhereInput does not
        # exist (shared/contracts/saleor-schema-3.20.graphql).
        query = schema.type_map["Query"]
        assert isinstance(query, GraphQLObjectType)
        orders = query.fields["orders"]
        orders.args.pop("where")
        orders.args.pop("search")
        del schema.type_map["OrderWhereInput"]
        # Nor `customers(where:)` (saleor/graphql/account/schema.py at 3.22.0 adds it).
        query.fields["customers"].args.pop("where")
        del schema.type_map["CustomerWhereInput"]
    configure_scalars(schema)
    for type_name, fields in with_voucher_resolvers(build_resolver_map()).items():
        graphql_type = schema.type_map.get(type_name)
        if graphql_type is None:
            continue  # not in the version played (above)
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, resolver in fields.items():
            if field_name in graphql_type.fields:
                graphql_type.fields[field_name].resolve = resolver
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and "id" in graphql_type.fields:
            id_field = graphql_type.fields["id"]
            if id_field.resolve is None:
                id_field.resolve = resolve_global_id
        if hasattr(graphql_type, "resolve_type") and not graphql_type.name.startswith("__"):
            graphql_type.resolve_type = resolve_type
    _event_resolvers(schema)
    return schema
