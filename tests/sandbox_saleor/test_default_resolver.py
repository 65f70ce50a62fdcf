"""The sandbox's default resolver reads a sandbox model's `fieldName`, else its snake_case
attribute, deciding once per model and field which attributes exist: it answers what reading
them one after the other (`getattr` with a default) answers, for every field of every type."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import GraphQLObjectType

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.reading import default_resolver, snake_case
from sandboxes.saleor.schema import sandbox_schema


def _read_one_after_the_other(source: Any, name: str) -> Any:
    value = getattr(source, name, None) if not name[0].isupper() else None
    if value is None:
        value = getattr(source, snake_case(name), None)
    return value


def test_reads_what_reading_each_attribute_in_turn_reads() -> None:
    saleor = SaleorSandbox()
    saleor.generate_store(products=3, customers=3, orders=4, seed=2)
    store = saleor.store
    sources: list[Any] = [
        *store.orders.values(),
        *(line for order in store.orders.values() for line in order.lines),
        *store.customers.values(),
        *store.products.values(),
        *store.variants.values(),
        *store.channels.values(),
    ]
    names = {
        name
        for graphql_type in sandbox_schema().type_map.values()
        if isinstance(graphql_type, GraphQLObjectType)
        for name in graphql_type.fields
    } | {"noSuchField", "NoSuchField"}
    compared = 0
    for source in sources:
        for name in sorted(names):
            info = SimpleNamespace(field_name=name)
            expected = _read_one_after_the_other(source, name)
            assert default_resolver(source, info) == expected, (type(source).__name__, name)
            compared += expected is not None
    assert compared > 100
