"""Webhook events and deliveries, as Saleor sends them.

For an event, Saleor picks every active webhook (of an active app holding the event's required
permission) subscribed to it, renders the payload by executing the webhook's subscription query
with the event as root, and POSTs the JSON of the ``event`` field with headers ``Saleor-Event``
(lower-case event name), ``Saleor-Domain``, ``Saleor-Api-Url`` and ``Saleor-Signature`` (a
detached JWS, see :mod:`sandboxes.saleor.keys`).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError
from pydantic import BaseModel, ConfigDict, Field

from .models import utcnow

EVENT_PERMISSIONS: dict[str, str] = {
    "APP_": "MANAGE_APPS",
    "CHANNEL_": "MANAGE_CHANNELS",
    "ORDER_": "MANAGE_ORDERS",
    "DRAFT_ORDER_": "MANAGE_ORDERS",
    "CUSTOMER_": "MANAGE_USERS",
    "ACCOUNT_": "MANAGE_USERS",  # saleor/webhook/event_types.py, e.g. ACCOUNT_DELETED
    "ADDRESS_": "MANAGE_USERS",  # saleor/webhook/event_types.py, e.g. ADDRESS_UPDATED
    "PRODUCT_": "MANAGE_PRODUCTS",
    "PRODUCT_TYPE_": "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES",  # saleor/webhook/event_types.py
    "CATEGORY_": "MANAGE_PRODUCTS",  # saleor/webhook/event_types.py, e.g. CATEGORY_UPDATED
    # ATTRIBUTE_* need none (saleor/webhook/event_types.py, 3.20.119 and 723cd4e).
    "CHECKOUT_": "MANAGE_CHECKOUTS",
    "FULFILLMENT_": "MANAGE_ORDERS",  # saleor/webhook/event_types.py, e.g. FULFILLMENT_CREATED
    "VOUCHER_": "MANAGE_DISCOUNTS",  # saleor/webhook/event_types.py, e.g. VOUCHER_CREATED
    "PROMOTION_": "MANAGE_DISCOUNTS",  # saleor/webhook/event_types.py, e.g. PROMOTION_CREATED
    "SALE_": "MANAGE_DISCOUNTS",
    "STAFF_": "MANAGE_STAFF",  # saleor/webhook/event_types.py, e.g. STAFF_CREATED
}
"""Permission an app needs to receive an event, by event-name prefix (Saleor's table)."""

EVENT_PAYLOAD_FIELD: dict[str, str] = {
    "APP_": "app",
    "CHANNEL_": "channel",
    "ORDER_": "order",
    "ORDER_BULK_": "orders",  # a list of Order
    "DRAFT_ORDER_": "order",
    "CUSTOMER_": "user",
    "ACCOUNT_": "user",
    "ADDRESS_": "address",  # saleor/graphql/webhook/subscription_types.py, `AddressBase`
    "PRODUCT_VARIANT_": "productVariant",
    "PRODUCT_": "product",
    "PRODUCT_TYPE_": "productType",
    "CATEGORY_": "category",
    "ATTRIBUTE_": "attribute",
    "ATTRIBUTE_VALUE_": "attributeValue",
    "CHECKOUT_": "checkout",
    "FULFILLMENT_": "fulfillment",  # and `order`: see fulfillments.FulfillmentEvent
    "VOUCHER_": "voucher",
    "VOUCHER_CODES_": "voucherCodes",  # a list of VoucherCode
    "PROMOTION_": "promotion",
    "PROMOTION_RULE_": "promotionRule",
    "SALE_": "sale",
    "STAFF_": "user",  # saleor/graphql/webhook/subscription_types.py, `StaffCreated.user`
}
"""The field of the event type that carries the object, by event-name prefix."""


def _by_prefix(table: dict[str, str], event_type: str) -> str | None:
    matches = [prefix for prefix in table if event_type.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


def required_permission(event_type: str) -> str | None:
    """The permission Saleor requires of an app to deliver ``event_type`` to it."""
    return _by_prefix(EVENT_PERMISSIONS, event_type)


def payload_field(event_type: str) -> str:
    """The name of the field holding the event's object, e.g. ``order`` for ORDER_CREATED."""
    found = _by_prefix(EVENT_PAYLOAD_FIELD, event_type)
    if found is None:
        raise ValueError(f"The sandbox does not support event {event_type}")
    return found


def event_type_name(event_type: str) -> str:
    """``ORDER_CREATED`` -> ``OrderCreated`` (the GraphQL ``Event`` implementation)."""
    return "".join(part.capitalize() for part in event_type.split("_"))


def event_enum_name(type_name: str) -> str:
    """``OrderCreated`` -> ``ORDER_CREATED`` (inverse of :func:`event_type_name`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type_name).upper()


def events_from_query(query: str) -> list[str]:
    """Async events a subscription query subscribes to (``... on OrderCreated`` fragments).

    Saleor derives a webhook's events from its query when the manifest lists none.
    """
    return list(_events_from_query(query))


@lru_cache(maxsize=256)
def _events_from_query(query: str) -> tuple[str, ...]:
    """Read once per text: an app registers the same few documents at every installation."""
    try:
        document: DocumentNode = parse(query)
    except GraphQLSyntaxError:
        return ()
    events: list[str] = []
    for definition in document.definitions:
        if not (
            isinstance(definition, OperationDefinitionNode)
            and definition.operation == OperationType.SUBSCRIPTION
        ):
            continue
        for selection in definition.selection_set.selections:
            if not (isinstance(selection, FieldNode) and selection.name.value == "event"):
                continue
            for inner in selection.selection_set.selections if selection.selection_set else ():
                if isinstance(inner, InlineFragmentNode) and inner.type_condition is not None:
                    events.append(event_enum_name(inner.type_condition.name.value))
    return tuple(events)


@lru_cache(maxsize=256)
def subscription_problem(query: str, schema: GraphQLSchema) -> tuple[str, str] | None:
    """What Saleor's `SubscriptionQuery` finds wrong with a webhook's query (its message and
    `WebhookErrorCode`), in its order (saleor/graphql/webhook/subscription_query.py
    `validate_query`, the same at 3.20.119 and main@723cd4e); None when it is valid. Both
    `webhookCreate`/`webhookUpdate` and an app's installation (manifest_validations.py
    `clean_webhooks`: "Subscription query is not valid: " and this message) refuse it. Its
    message joins the distinct messages with ";". (graphql-core's own rule already refuses a
    second top field, which Saleor checks after validating.) Kept per text and schema (each
    version's is built once): an app registers the same few documents at every installation,
    and their parse and validation were a twentieth of a test's set-up."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return exc.message, "SYNTAX"
    problems = validate(schema, document)
    if problems:
        return ";".join(dict.fromkeys(p.message for p in problems)), "GRAPHQL_ERROR"
    if not any(
        isinstance(d, OperationDefinitionNode) and d.operation is OperationType.SUBSCRIPTION
        for d in document.definitions
    ):
        return "Subscription operation can't be found.", "MISSING_SUBSCRIPTION"
    if not events_from_query(query):
        return "Can't find a single event.", "MISSING_EVENT"
    return None


class Delivery(BaseModel):
    """One webhook request the sandbox sent (or tried to send) to an app."""

    model_config = ConfigDict(frozen=True)

    event_type: str
    app_id: int
    webhook_id: int
    target_url: str
    headers: dict[str, str]
    body: bytes
    status_code: int | None = None
    """The app's HTTP status, or None if the request failed (``error`` tells why)."""
    response_body: bytes = b""
    error: str | None = None
    sent_at: datetime = Field(default_factory=utcnow)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
