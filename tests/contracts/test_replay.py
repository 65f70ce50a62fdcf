"""A replayed delivery (addon/installations/replay.py) carries everything the document it is
stored for selects: its handler cannot tell it from Saleor's own."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode
from graphql.language import OperationDefinitionNode, SelectionSetNode, parse

from addon.installations.replay import (
    Delivery,
    Window,
    checkout_deliveries,
    customer_deliveries,
    order_deliveries,
    shipment_deliveries,
)
from addon.saleor.documents import load_document
from addon.saleor.manifest import (
    WebhookDefinition,
    event_name,
    registered_webhook_definitions,
    webhook_definitions,
)

Tree = dict[str, Any]

# Each replayed event: the query it is read with (None: built from what the app knows), the
# entity's field in the body, and whether the body has `issuedAt`.
REPLAYED: dict[str, tuple[str | None, str, bool]] = {
    "CUSTOMER_CREATED": ("missed_customers", "user", True),
    "CUSTOMER_UPDATED": ("missed_customers", "user", True),
    "ORDER_CREATED": ("missed_orders", "order", True),
    "ORDER_UPDATED": ("missed_orders", "order", True),
    "CHECKOUT_UPDATED": ("missed_checkouts", "checkout", True),
    "FULFILLMENT_TRACKING_NUMBER_UPDATED": ("missed_shipments", "order", True),
    "CUSTOMER_DELETED": (None, "user", False),
}
# The connection a query answers with, where its name does not say it.
CONNECTIONS = {"missed_shipments": "orders"}
# What `replay_deleted` puts in the body of a deleted customer.
DELETED_USER: Tree = {"id": {}, "email": {}}


def _tree(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> Tree:
    """Field name → its own selection, fragments and inline fragments merged in."""
    tree: Tree = {}
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            sub = _tree(selection.selection_set, fragments)
            tree[selection.name.value] = _merge(tree.get(selection.name.value, {}), sub)
        elif isinstance(selection, FragmentSpreadNode):
            tree = _merge(tree, _tree(fragments[selection.name.value].selection_set, fragments))
        elif isinstance(selection, InlineFragmentNode):
            tree = _merge(tree, _tree(selection.selection_set, fragments))
    return tree


def _merge(a: Tree, b: Tree) -> Tree:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = _merge(merged.get(key, {}), value)
    return merged


def _missing(wanted: Tree, given: Tree, path: str = "") -> list[str]:
    missing: list[str] = []
    for key, sub in wanted.items():
        if key not in given:
            missing.append(f"{path}{key}")
        else:
            missing += _missing(sub, given[key], f"{path}{key}.")
    return missing


def _node(query: str, connection: str) -> Tree:
    document = load_document(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    tree = _tree(operation.selection_set, fragments)
    node: Tree = tree[connection]["edges"]["node"]
    own = ("dateJoined", "updatedAt", "origin")  # `replay._OWN_FIELDS`, an order's `created` kept
    return {k: v for k, v in node.items() if k not in own}


def _event_selection(definition: WebhookDefinition, event: str) -> Tree:
    """What `definition` selects on the payload of `event`."""
    document = parse(definition.query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    [event_field] = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    assert event_field.selection_set is not None
    selected: Tree = {}
    for selection in event_field.selection_set.selections:
        if (
            isinstance(selection, InlineFragmentNode)
            and selection.type_condition is not None
            and event_name(selection.type_condition.name.value) == event
        ):
            selected = _merge(selected, _tree(selection.selection_set, fragments))
    return selected


def _subscribers(event: str) -> list[WebhookDefinition]:
    every = webhook_definitions() + registered_webhook_definitions()
    return [d for d in every if event in d.events]


@pytest.mark.parametrize("event", sorted(REPLAYED))
def test_a_replayed_body_has_what_each_document_selects(event: str) -> None:
    query, field, dated = REPLAYED[event]
    connection = CONNECTIONS.get(query or "", (query or "").removeprefix("missed_"))
    given = DELETED_USER if query is None else _node(query, connection)
    subscribers = _subscribers(event)
    assert subscribers, f"no document subscribes to {event}: nothing to replay it to"
    for definition in subscribers:
        selected = _event_selection(definition, event)
        extra = set(selected) - {field, "issuedAt", "issuingPrincipal"}
        assert not extra, f"{definition.slug} selects {extra} on {event}, which a replay lacks"
        if not dated:
            assert "issuedAt" not in selected, f"{definition.slug}: no `issuedAt` to replay"
        assert _missing(selected.get(field, {}), given) == [], definition.slug


def test_the_builders_make_only_the_events_checked_here() -> None:
    from datetime import UTC, datetime

    window = Window(
        bound=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2026, 1, 5, tzinfo=UTC),
        delivered=frozenset({("ORDER_CREATED", "g")}),
        created_from=datetime(2025, 11, 2, 12, tzinfo=UTC),
    )
    before, during, after = (
        "2025-12-31T00:00:00+00:00",
        "2026-01-02T00:00:00+00:00",
        "2026-01-06T00:00:00+00:00",
    )
    made: list[Delivery] = [
        *customer_deliveries(
            [
                {"id": "a", "dateJoined": before, "updatedAt": during},
                {"id": "b", "dateJoined": during},
                {"id": "h", "dateJoined": after},  # after the resume: delivered itself
            ],
            window,
        ),
        *order_deliveries(
            [
                {"id": "c", "created": before, "updatedAt": during},
                {"id": "d", "created": during, "origin": "CHECKOUT"},
                {"id": "g", "created": during},  # its creation was delivered
                {"id": "i", "created": during, "origin": "BULK_CREATE"},  # announced in bulk
            ],
            window,
        ),
        *checkout_deliveries(
            [{"id": "e", "updatedAt": during}, {"id": "f", "updatedAt": before}], window
        ),
        *shipment_deliveries(
            [
                {"id": "j", "created": "2025-11-20T00:00:00+00:00", "updatedAt": before},
                {"id": "k", "created": before, "updatedAt": during},  # the `updatedAt` listing's
                # Created on the horizon's first day (the query compares days), but before it.
                {"id": "l", "created": "2025-11-02T08:00:00+00:00", "updatedAt": before},
            ],
            window,
        ),
    ]
    assert [(d.event, d.entity_id) for d in made] == [
        ("CUSTOMER_UPDATED", "a"),
        ("CUSTOMER_CREATED", "b"),
        ("ORDER_UPDATED", "c"),
        ("ORDER_CREATED", "d"),
        ("ORDER_UPDATED", "g"),
        ("ORDER_UPDATED", "i"),
        ("CHECKOUT_UPDATED", "e"),  # "f" changed before the pause: not replayed
        ("FULFILLMENT_TRACKING_NUMBER_UPDATED", "j"),
    ]
    assert {d.event for d in made} <= set(REPLAYED)
    # The queries' own fields left out, but an order's `created`, which its documents select.
    orders = [d for d in made if d.event.startswith("ORDER_")]
    assert all(set(d.entity) == {"id", "created"} for d in orders)
    assert all(set(d.entity) == {"id"} for d in made if d not in orders)
