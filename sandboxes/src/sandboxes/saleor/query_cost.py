"""Saleor's query cost limit: a document whose cost is above `MAXIMUM_COST` is refused before it
runs (saleor/graphql/views.py: `validate_query` with `COST_MAP`, then an invalid result, HTTP
400, the cost in the answer's `extensions`; GRAPHQL_QUERY_MAX_COMPLEXITY, 50,000 unless the
operator sets it, saleor/settings.py). Read at commit 723cd4e; the same rules at 3.20.119.

The cost, as saleor/graphql/core/validators/query_cost.py computes it (`CostValidator`):
* every field of the cost map costs its complexity (1 for all here) times the multipliers of
  the fields above it and its own: a field with multiplier arguments (`first`, `last`) adds
  their sum as a multiplier for itself and what it selects (a list counts its length; an
  argument not given, none); a field outside the map costs nothing, its selections still do;
* a fragment (named or inline) counts towards its type condition; of the fragments of one
  selection, the costliest type's total is added (an object type's with its interfaces'), not
  the sum of all;
* every operation of the document counts, the one run or not.

`COSTS` holds the entries of Saleor's map (saleor/graphql/query_cost_map.py `COST_MAP`) for the
fields the app's documents and webhook subscriptions select, each of complexity 1, with its
multiplier arguments. A field left out costs nothing here, so a document can cost less than in
Saleor only through a field not listed: one the app starts selecting is looked up in Saleor's
map and added. (Compared when this was written with Saleor's own validator on Saleor's map: the
same costs for the app's costliest documents.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from math import prod
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)

MAXIMUM_COST = 50_000

_PAGED = ("first", "last")
COSTS: dict[str, dict[str, tuple[str, ...]]] = {
    "Query": {
        "app": (),
        "channel": (),
        "channels": (),
        "checkout": (),
        "checkouts": _PAGED,
        "customers": _PAGED,
        "me": (),
        "order": (),
        "orders": _PAGED,
        "product": (),
        "products": _PAGED,
        "productTypes": _PAGED,
        "productVariant": (),
        "productVariants": _PAGED,
        "taxConfigurations": _PAGED,
        "taxCountryConfigurations": (),
        "user": (),
        "voucher": (),
        "vouchers": _PAGED,
    },
    "App": {"webhooks": ()},
    "Checkout": {
        "billingAddress": (),
        "channel": (),
        "lines": (),
        "shippingAddress": (),
        "user": (),
    },
    "Order": {
        "billingAddress": (),
        "channel": (),
        "discounts": (),
        "events": (),
        "fulfillments": (),
        "lines": (),
        "payments": (),
        "shippingAddress": (),
        "transactions": (),
        "user": (),
        "voucher": (),
    },
    "OrderLine": {"variant": ()},
    "Product": {
        "attributes": (),
        "category": (),
        "channelListings": (),
        "description": (),
        "pricing": (),
        "productType": (),
        "thumbnail": (),
        "variants": (),
    },
    "ProductChannelListing": {"channel": ()},
    "ProductMedia": {"url": ()},
    "ProductVariant": {"channelListings": (), "media": (), "pricing": (), "product": ()},
    "ProductVariantChannelListing": {"channel": ()},
    "SelectedAttribute": {"attribute": (), "values": ()},
    "TaxClassCountryRate": {"taxClass": ()},
    "TaxConfiguration": {"channel": (), "countries": ()},
    "TaxCountryConfiguration": {"taxClassCountryRates": ()},
    "User": {"orders": _PAGED},
    "Voucher": {"channelListings": ()},
    "VoucherChannelListing": {"channel": ()},
}


def query_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
) -> int:
    """The document's cost, every operation's summed."""
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    counter = _Counter(schema, fragments, dict(variables or {}))
    return sum(
        counter.selections(node.selection_set, root, [])
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode)
        and (root := roots.get(node.operation)) is not None
    )


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(
        self, selection_set: SelectionSetNode, type_: GraphQLNamedType, multipliers: list[int]
    ) -> int:
        fields = type_.fields if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) else {}
        total = 0
        by_type: dict[str, int] = defaultdict(int)
        interfaces: dict[str, set[str]] = defaultdict(set)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, type_, fields, multipliers)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                condition = self.schema.get_type(fragment.type_condition.name.value)
                selected = fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                named = selection.type_condition
                condition = self.schema.get_type(named.name.value) if named else type_
                selected = selection.selection_set
            if condition is None:
                continue
            by_type[condition.name] += self.selections(selected, condition, multipliers)
            if isinstance(condition, GraphQLObjectType):
                interfaces[condition.name].update(i.name for i in condition.interfaces)
        if by_type:
            for name, names in interfaces.items():
                by_type[name] += sum(by_type.get(i, 0) for i in names)
            total += max(by_type.values())
        return total

    def _field(
        self,
        node: FieldNode,
        type_: GraphQLNamedType,
        fields: Mapping[str, Any],
        multipliers: list[int],
    ) -> int:
        field = fields.get(node.name.value)
        if field is None:
            return 0
        cost = 0
        priced = COSTS.get(type_.name, {}).get(node.name.value)
        if priced is not None:
            factors = self._multipliers(node, field, priced)
            if factors:
                multipliers = [*multipliers, sum(factors)]
            cost = prod(multipliers)
        if node.selection_set is not None:
            cost += self.selections(node.selection_set, get_named_type(field.type), multipliers)
        return cost

    def _multipliers(self, node: FieldNode, field: Any, names: tuple[str, ...]) -> list[int]:
        given = {
            arg.name.value: value_from_ast_untyped(arg.value, self.variables)
            for arg in node.arguments or ()
        }
        factors = []
        for name in names:
            value: Any = given.get(name)
            if value is None and name in field.args:
                value = field.args[name].default_value
            if isinstance(value, list | tuple):
                value = len(value)
            try:
                factor = int(value)
            except (TypeError, ValueError):
                continue
            if factor > 0:
                factors.append(factor)
        return factors
