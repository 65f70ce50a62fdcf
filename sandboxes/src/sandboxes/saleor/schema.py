"""The sandbox's executable GraphQL schema: Saleor's types, resolved from the in-memory store.

The SDL lives in ``schema.graphql`` (a strict subset of Saleor's schema); this module attaches
resolvers to it. Resolvers enforce Saleor's permission rules and error wording, e.g. an
anonymous ``{ app { id } }`` yields ``app: null`` plus an error whose message is "To access this
path, you need one of the following permissions: AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP"
and ``extensions.exception.code == "PermissionDenied"``. Relay connections follow Saleor:
cursors are ``base64(json([...]))``, ``first``/``last`` are capped at 100, and a connection
whose ``edges`` are selected needs ``first`` or ``last``.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache, partial
from pathlib import Path
from typing import Any, TypeAlias

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)

from .app_webhooks import resolve_webhook_create
from .checkout_create import resolve_checkout_create
from .connections import paginate, saleor_error
from .fulfillments import resolve_order_fulfillments, resolve_product_attributes
from .ids import InvalidGlobalId, from_global_id, pk_from_global_id
from .models import (
    Address,
    Category,
    Channel,
    Checkout,
    CheckoutLine,
    Customer,
    Fulfillment,
    Node,
    Order,
    OrderLine,
    Payment,
    Product,
    ProductMedia,
    ProductVariant,
    SandboxApp,
    SandboxModel,
    TransactionItem,
    WebhookConfig,
)
from .money import Money, TaxedMoney
from .payments import (
    granted_refund_total,
    is_paid,
    payment_status,
    total_authorized,
    total_refund_pending,
    total_refunded,
)
from .store import NotFound, SaleorStore
from .versions import CURRENT_VERSION, has_customer_deleted_type, has_order_where
from .voucher_models import Voucher

Info: TypeAlias = "GraphQLResolveInfo[Any]"

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
AUTHENTICATED_APP = "AUTHENTICATED_APP"
AUTHENTICATED_STAFF_USER = "AUTHENTICATED_STAFF_USER"

PERMISSION_NAMES: dict[str, str] = {
    "MANAGE_USERS": "Manage customers.",
    "MANAGE_STAFF": "Manage staff.",
    "IMPERSONATE_USER": "Impersonate user.",
    "MANAGE_APPS": "Manage apps",
    "MANAGE_CHECKOUTS": "Manage checkouts",
    "HANDLE_CHECKOUTS": "Handle checkouts",
    "HANDLE_TAXES": "Handle taxes",
    "MANAGE_TAXES": "Manage taxes",
    "MANAGE_CHANNELS": "Manage channels.",
    "MANAGE_CUSTOMER_TYPES_AND_ATTRIBUTES": "Manage customer types and attributes.",
    "MANAGE_DISCOUNTS": "Manage sales and vouchers.",
    "MANAGE_GIFT_CARD": "Manage gift cards.",
    "MANAGE_MENUS": "Manage navigation.",
    "MANAGE_ORDERS": "Manage orders.",
    "MANAGE_ORDERS_IMPORT": "Manage orders import.",
    "MANAGE_PAGES": "Manage pages.",
    "MANAGE_PAGE_TYPES_AND_ATTRIBUTES": "Manage page types and attributes.",
    "HANDLE_PAYMENTS": "Handle payments",
    "MANAGE_PLUGINS": "Manage plugins",
    "MANAGE_PRODUCTS": "Manage products.",
    "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES": "Manage product types and attributes.",
    "MANAGE_SHIPPING": "Manage shipping.",
    "MANAGE_SETTINGS": "Manage settings.",
    "MANAGE_TRANSLATIONS": "Manage translations.",
}
"""Saleor's ``PermissionEnum`` codes with their display names."""

ALL_PERMISSIONS: tuple[str, ...] = tuple(PERMISSION_NAMES)


# -- errors ---------------------------------------------------------------------------------------


class PermissionDenied(GraphQLError):
    """Saleor's permission error (``extensions.exception.code == "PermissionDenied"``)."""

    def __init__(self, permissions: Sequence[str] | None = None) -> None:
        if permissions:
            message = (
                "To access this path, you need one of the following permissions: "
                + ", ".join(permissions)
            )
        else:
            message = "You do not have permission to perform this action"
        super().__init__(message, extensions={"exception": {"code": "PermissionDenied"}})


# -- request context ------------------------------------------------------------------------------


@dataclass
class Viewer:
    """Who is calling the API: an app, a customer, or nobody."""

    app: SandboxApp | None = None
    user: Customer | None = None
    is_staff: bool = False
    permissions: frozenset[str] = frozenset()

    @classmethod
    def for_app(cls, app: SandboxApp) -> Viewer:
        return cls(app=app, permissions=frozenset(app.permissions))

    def has_any(self, permissions: Iterable[str]) -> bool:
        # Asked for each product's stocks and listings in a page: no set built per call.
        return any(self._granted(p) for p in permissions)

    def _granted(self, permission: str) -> bool:
        # The authorization filters follow who calls (saleor/permission/auth_filters.py:
        # `is_app`, `is_staff_user`); the rest are the permissions held.
        if permission == AUTHENTICATED_APP:
            return self.app is not None or permission in self.permissions
        if permission == AUTHENTICATED_STAFF_USER:
            return self.is_staff or permission in self.permissions
        return permission in self.permissions

    def require(self, *permissions: str) -> None:
        if not self.has_any(permissions):
            raise PermissionDenied(permissions)


@dataclass
class ApiContext:
    """Per-request state: the store, the viewer, and events to emit after a mutation."""

    store: SaleorStore
    viewer: Viewer
    pending_events: list[tuple[str, Any]] = field(default_factory=list)
    saleor_version: str = CURRENT_VERSION  # what `shop { version }` reports


@dataclass(frozen=True)
class EventRoot:
    """The root value of a webhook subscription: an ``Event`` implementation and its payload."""

    type_name: str
    issued_at: datetime
    recipient: SandboxApp | None
    payload: dict[str, Any]
    issuing_principal: SandboxApp | Customer | None = None
    version: str = CURRENT_VERSION


# -- value objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InChannel:
    """A product or variant seen through a channel (Saleor's ``ChannelContext``)."""

    node: Product | ProductVariant
    channel: Channel | None


@dataclass(frozen=True)
class Warehouse:
    id: str
    name: str
    slug: str


@dataclass(frozen=True)
class Stock:
    id: str
    warehouse: Warehouse
    product_variant: ProductVariant
    quantity: int
    quantity_allocated: int


DEFAULT_WAREHOUSE = Warehouse(
    id=base64.b64encode(b"Warehouse:1").decode(), name="Main", slug="main"
)


# -- helpers ------------------------------------------------------------------------------------


def _ctx(info: Info) -> ApiContext:
    context = info.context
    assert isinstance(context, ApiContext)
    return context


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])|(?<=[a-z])(?=[0-9])")


@cache
def snake_case(name: str) -> str:
    """``streetAddress1`` -> ``street_address_1``, ``isActive`` -> ``is_active``."""
    return _CAMEL.sub("_", name).lower()


@cache
def _model_attributes(model: type[SandboxModel], name: str) -> tuple[str, ...]:
    """The attributes ``default_resolver`` reads for ``name`` on a sandbox model, those the
    model has, in order (``name``, then its snake_case form): a model's fields and class
    attributes are known (extra fields are forbidden), so a missing one is never asked for
    (pydantic answers that through a raised AttributeError, a tenth of a page's time)."""
    wanted = [name] if not name[0].isupper() else []
    wanted.append(snake_case(name))
    present = (a for a in wanted if a in model.model_fields or hasattr(model, a))
    return tuple(dict.fromkeys(present))


def default_resolver(source: Any, info: Info, **_: Any) -> Any:
    """Read ``fieldName`` (or its snake_case form) from dicts and objects."""
    return read_field(source, info.field_name)


def read_field(source: Any, name: str) -> Any:
    """What ``default_resolver`` gives for the field ``name`` of ``source``."""
    if isinstance(source, dict):
        return source.get(name)
    if isinstance(source, InChannel):
        source = source.node
    if isinstance(source, SandboxModel):
        model_value = None
        for attribute in _model_attributes(type(source), name):
            model_value = getattr(source, attribute)
            if model_value is not None:
                break
        return model_value
    value = getattr(source, name, None) if not name[0].isupper() else None
    if value is None:
        value = getattr(source, snake_case(name), None)
    return value


def reads(reader: Callable[[Any], Any]) -> Callable[..., Any]:
    """A resolver whose value comes from its source alone (neither `info` nor arguments): the
    sandbox's executor calls `reader` directly for a leaf field (see executor.py)."""

    def resolve(source: Any, info: Info, **_: Any) -> Any:
        return reader(source)

    resolve.plain_reader = reader  # type: ignore[attr-defined]
    return resolve


def channel_of(source: Any) -> Channel | None:
    return source.channel if isinstance(source, InChannel) else None


def unwrap(source: Any) -> Any:
    return source.node if isinstance(source, InChannel) else source


def _global_id(source: Any) -> str:
    node = unwrap(source)
    if isinstance(node, Node):
        return node.global_id
    return str(node.id)


resolve_global_id = reads(_global_id)


def _pk(global_id: str, type_name: str) -> int | None:
    try:
        return pk_from_global_id(global_id, type_name)
    except InvalidGlobalId:
        return None


# -- metadata -----------------------------------------------------------------------------------


def private_metadata_permissions(obj: Any) -> tuple[str, ...]:
    """Permissions Saleor requires to read/write the private metadata of ``obj``."""
    if isinstance(obj, Customer):
        # saleor/graphql/meta/permissions.py (public_/private_user_permissions): a staff
        # user's metadata needs MANAGE_STAFF, even for an app holding MANAGE_USERS.
        return ("MANAGE_STAFF",) if obj.is_staff else ("MANAGE_USERS",)
    if isinstance(obj, Order | OrderLine):
        return ("MANAGE_ORDERS",)
    if isinstance(obj, Checkout | CheckoutLine):
        return ("MANAGE_CHECKOUTS",)
    if isinstance(obj, Product | ProductVariant):
        return ("MANAGE_PRODUCTS",)
    if isinstance(obj, Channel):
        return ("MANAGE_CHANNELS",)
    if isinstance(obj, SandboxApp):
        return ("MANAGE_APPS",)
    if isinstance(obj, Voucher):
        return ("MANAGE_DISCOUNTS",)
    return ("MANAGE_SETTINGS",)


def public_metadata_write_permissions(obj: Any) -> tuple[str, ...]:
    """Permissions Saleor requires to write public metadata (checkouts: anyone with the id)."""
    if isinstance(obj, Checkout):
        return ()
    return private_metadata_permissions(obj)


def _owns(viewer: Viewer, obj: Any, *, private: bool) -> bool:
    """Whether ``obj`` is the viewer's own app or user, which needs no permission.

    saleor/graphql/meta/permissions.py: an app may touch its own public and private metadata
    (``app_permissions``, ``private_app_permssions``); a user only their own *public* metadata
    (``public_user_permissions``; ``private_user_permissions`` has no such exemption).
    """
    if isinstance(obj, SandboxApp):
        return viewer.app is not None and viewer.app.id == obj.id
    if isinstance(obj, Customer) and not private:
        return viewer.user is not None and viewer.user.id == obj.id
    return False


def _check_private(info: Info, obj: Any) -> None:
    viewer = _ctx(info).viewer
    if not _owns(viewer, obj, private=True):
        viewer.require(*private_metadata_permissions(obj))


def _items(data: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in data.items()]


def _metadata_resolvers() -> dict[str, Callable[..., Any]]:
    def metadata(source: Any, info: Info) -> list[dict[str, str]]:
        return _items(unwrap(source).metadata)

    def metafield(source: Any, info: Info, key: str) -> str | None:
        return unwrap(source).metadata.get(key)  # type: ignore[no-any-return]

    def metafields(source: Any, info: Info, keys: list[str] | None = None) -> dict[str, str]:
        data: dict[str, str] = unwrap(source).metadata
        return {k: v for k, v in data.items() if keys is None or k in keys}

    def private_metadata(source: Any, info: Info) -> list[dict[str, str]]:
        _check_private(info, unwrap(source))
        return _items(unwrap(source).private_metadata)

    def private_metafield(source: Any, info: Info, key: str) -> str | None:
        _check_private(info, unwrap(source))
        return unwrap(source).private_metadata.get(key)  # type: ignore[no-any-return]

    def private_metafields(
        source: Any, info: Info, keys: list[str] | None = None
    ) -> dict[str, str]:
        _check_private(info, unwrap(source))
        data: dict[str, str] = unwrap(source).private_metadata
        return {k: v for k, v in data.items() if keys is None or k in keys}

    return {
        "metadata": metadata,
        "metafield": metafield,
        "metafields": metafields,
        "privateMetadata": private_metadata,
        "privateMetafield": private_metafield,
        "privateMetafields": private_metafields,
    }


METADATA_EVENTS: dict[type, str] = {
    Customer: "CUSTOMER_METADATA_UPDATED",
    Order: "ORDER_METADATA_UPDATED",
    Checkout: "CHECKOUT_METADATA_UPDATED",
    Product: "PRODUCT_METADATA_UPDATED",
    ProductVariant: "PRODUCT_VARIANT_METADATA_UPDATED",
    Channel: "CHANNEL_METADATA_UPDATED",
    Voucher: "VOUCHER_METADATA_UPDATED",
}


def _metadata_mutation(private: bool, delete: bool) -> Callable[..., Any]:
    def resolve(
        root: Any,
        info: Info,
        id: str,
        input: list[dict[str, str]] | None = None,
        keys: list[str] | None = None,
    ) -> dict[str, Any]:
        context = _ctx(info)
        item = context.store.resolve_global_id(id)
        if item is None:
            return {
                "errors": [
                    {
                        "field": "id",
                        "message": f"Couldn't resolve to a node: {id}",
                        "code": "NOT_FOUND",
                    }
                ],
                "item": None,
            }
        if not _owns(context.viewer, item, private=private):
            needed = (
                private_metadata_permissions(item)
                if private
                else public_metadata_write_permissions(item)
            )
            if needed:
                context.viewer.require(*needed)
        if not delete and any(not entry["key"].strip() for entry in input or []):
            return {
                "errors": [
                    {"field": "input", "message": "Key cannot be empty.", "code": "REQUIRED"}
                ],
                "item": None,
            }
        target = dict(item.private_metadata if private else item.metadata)
        if delete:
            for key in keys or []:
                target.pop(key, None)
        else:
            target.update({entry["key"]: entry["value"] for entry in input or []})
        if private:
            item.private_metadata = target
        else:
            item.metadata = target
        event = METADATA_EVENTS.get(type(item))
        if event is not None:
            context.pending_events.append((event, item))
        return {"errors": [], "item": item}

    return resolve


# -- resolvers ----------------------------------------------------------------------------------


def _app_type(app: SandboxApp, info: Info) -> str:
    return "THIRDPARTY"


def resolve_query_app(root: Any, info: Info, id: str | None = None) -> Any:
    viewer = _ctx(info).viewer
    viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    if id is None:
        return viewer.app
    pk = _pk(id, "App")
    if viewer.app is not None and pk == viewer.app.id:
        return viewer.app
    if viewer.app is not None:
        # Only an app needs MANAGE_APPS to see another app; a staff user sees any installed one
        # (saleor/graphql/app/schema.py, `resolve_app`; resolvers.py filters removed apps).
        viewer.require("MANAGE_APPS")
    return _ctx(info).store.apps.get(pk) if pk is not None else None


def resolve_query_apps(root: Any, info: Info, **args: Any) -> Any:
    context = _ctx(info)
    context.viewer.require("MANAGE_APPS")
    return paginate(info, list(context.store.apps.values()), lambda a: a.id, **_page(args))


def _page(args: dict[str, Any]) -> dict[str, Any]:
    return {k: args.get(k) for k in ("first", "last", "after", "before")}


def resolve_channels(root: Any, info: Info) -> list[Channel]:
    context = _ctx(info)
    context.viewer.require(AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER)
    return list(context.store.channels.values())


def resolve_channel(
    root: Any, info: Info, id: str | None = None, slug: str | None = None
) -> Channel | None:
    store = _ctx(info).store
    if id is not None:
        pk = _pk(id, "Channel")
        return store.channels.get(pk) if pk is not None else None
    if slug is not None:
        try:
            return store.channel_by_slug(slug)
        except NotFound:
            return None
    raise saleor_error("At least one of arguments is required: 'id', 'slug'.")


def resolve_me(root: Any, info: Info) -> Customer | None:
    return _ctx(info).viewer.user


def is_customer(store: SaleorStore, user: Customer) -> bool:
    """Saleor's ``User.objects.customers()``: non-staff users, and staff users who placed an
    order (saleor/account/models.py, ``UserManager.customers``)."""
    return not user.is_staff or store.has_orders(user.id)


def resolve_user(
    root: Any, info: Info, id: str | None = None, email: str | None = None
) -> Customer | None:
    """Which users a requester may look up, as saleor/graphql/account/resolvers.py
    ``resolve_user`` decides: MANAGE_STAFF and MANAGE_USERS see everyone, MANAGE_STAFF alone
    only staff, MANAGE_USERS or MANAGE_ORDERS only customers (staff users with an order
    count as customers); anything else is PermissionDenied."""
    context = _ctx(info)
    viewer, store = context.viewer, context.store
    context.viewer.require("MANAGE_STAFF", "MANAGE_USERS", "MANAGE_ORDERS")
    if id is not None:
        # Saleor's from_global_id_or_error(id, User) (saleor/graphql/core/utils): a malformed
        # id is an error ("Couldn't resolve id"), another type's id finds nobody.
        try:
            type_name, _ = from_global_id(id)
        except InvalidGlobalId as exc:
            raise saleor_error(str(exc)) from exc
        pk = _pk(id, "User") if type_name == "User" else None
        user = store.customers.get(pk) if pk is not None else None
    elif email is not None:
        user = store.find_customer_by_email(email)
    else:
        raise saleor_error(
            "At least one of arguments is required: 'id', 'email', 'externalReference'."
        )
    if user is None:
        return None
    staff, users = viewer.has_any(["MANAGE_STAFF"]), viewer.has_any(["MANAGE_USERS"])
    if staff and users:
        return user
    if staff:
        return user if user.is_staff else None
    return user if is_customer(store, user) else None


def _matches(search: str | None, *values: str | None) -> bool:
    if not search:
        return True
    needle = search.lower()
    return any(needle in (v or "").lower() for v in values)


def _ids_filter(filter: dict[str, Any] | None, type_name: str | None) -> set[int] | None:
    """The pks a deprecated `filter: {ids: [...]}` keeps; None: no filtering.

    As Saleor 3.20+ does: an absent or empty list filters nothing (`filter_by_id`,
    saleor/graphql/utils/filters.py; `filter_order_by_id`, saleor/graphql/order/filters.py;
    django-filter's MultipleChoiceFilter for customers); a malformed id is an error
    ("Couldn't resolve id", `resolve_global_ids_to_primary_keys`, saleor/graphql/utils/
    __init__.py); an id of another type is skipped for products and orders, while customers'
    `GlobalIDMultipleChoiceFilter(field_name="id")` (saleor/graphql/account/filters.py) takes
    the pk of any type (`type_name` None).
    """
    ids = (filter or {}).get("ids")
    if not ids:
        return None
    pks: set[int] = set()
    for global_id in ids:
        try:
            found_type, pk = from_global_id(global_id)
        except InvalidGlobalId as exc:
            raise saleor_error(f"Couldn't resolve id: {global_id}.") from exc
        if type_name is not None and found_type != type_name:
            continue
        if pk.isdigit():  # the sandbox's pks are integers: another pk matches nothing
            pks.add(int(pk))
    return pks


def _channel_arg(info: Info, channel: str | None) -> Channel | None:
    context = _ctx(info)
    if channel is not None:
        try:
            return context.store.channel_by_slug(channel)
        except NotFound as exc:
            raise saleor_error(str(exc)) from exc
    if context.viewer.has_any(["MANAGE_PRODUCTS", "MANAGE_ORDERS", "MANAGE_DISCOUNTS"]):
        return None
    return context.store.default_channel() if context.store.channels else None


def _visible(product: Product, channel: Channel | None) -> bool:
    return channel is None or channel.id in product.channel_ids


def resolve_product(
    root: Any,
    info: Info,
    id: str | None = None,
    slug: str | None = None,
    channel: str | None = None,
) -> InChannel | None:
    store = _ctx(info).store
    chan = _channel_arg(info, channel)
    product: Product | None = None
    if id is not None:
        pk = _pk(id, "Product")
        product = store.products.get(pk) if pk is not None else None
    elif slug is not None:
        product = next((p for p in store.products.values() if p.slug == slug), None)
    if product is None or not _visible(product, chan):
        return None
    return InChannel(product, chan)


def resolve_products(
    root: Any,
    info: Info,
    search: str | None = None,
    channel: str | None = None,
    filter: dict[str, Any] | None = None,
    **args: Any,
) -> Any:
    store = _ctx(info).store
    chan = _channel_arg(info, channel)
    pks = _ids_filter(filter, "Product")
    # By ids: only those products (ascending, as `paginate` wants), not a scan of the catalogue.
    candidates = (
        store.products.values()
        if pks is None
        else [store.products[pk] for pk in sorted(pks) if pk in store.products]
    )
    products = [p for p in candidates if _visible(p, chan)]
    if search:  # (the variants' SKUs gathered only then: a catalogue page read them all)
        products = [
            p for p in products if _matches(search, p.name, p.slug, *(v.sku for v in p.variants))
        ]
    return paginate(
        info, products, lambda p: p.id, wrap=lambda p: InChannel(p, chan), **_page(args)
    )


def resolve_product_variant(
    root: Any,
    info: Info,
    id: str | None = None,
    sku: str | None = None,
    channel: str | None = None,
) -> InChannel | None:
    store = _ctx(info).store
    chan = _channel_arg(info, channel)
    variant: ProductVariant | None = None
    if id is not None:
        pk = _pk(id, "ProductVariant")
        variant = store.variants.get(pk) if pk is not None else None
    elif sku is not None:
        variant = next((v for v in store.variants.values() if v.sku == sku), None)
    if variant is None or (chan is not None and variant.listing_for(chan.id) is None):
        return None
    return InChannel(variant, chan)


def resolve_order(root: Any, info: Info, id: str | None = None) -> Order | None:
    context = _ctx(info)
    pk = _pk(id, "Order") if id else None
    order = context.store.orders.get(pk) if pk is not None else None
    viewer = context.viewer
    if order is not None and viewer.user is not None and order.user_id == viewer.user.id:
        return order
    viewer.require("MANAGE_ORDERS")
    return order


def resolve_checkout(
    root: Any, info: Info, id: str | None = None, token: Any = None
) -> Checkout | None:
    """``checkout(id:|token:)`` (saleor/graphql/checkout/resolvers.py ``resolve_checkout``, the
    same at tag 3.20.119 and commit 723cd4e): a checkout of an active channel is returned to
    anyone who knows its token, signed in or not, its owner or not (the owner rule of earlier
    Saleors was dropped by saleor/saleor#16010, commit 1d4a088, in tag 3.20.0 and every later
    one); one of an inactive channel
    only to a caller with MANAGE_CHECKOUTS, IMPERSONATE_USER or HANDLE_PAYMENTS, anyone else
    gets PermissionDenied. Who owns it is guarded field by field (``Checkout.user``)."""
    context = _ctx(info)
    store = context.store
    if id is not None:
        try:
            type_name, pk = from_global_id(id)
        except InvalidGlobalId:
            return None
        if type_name != "Checkout":
            return None
        token = pk
    if token is None:
        raise saleor_error("At least one of arguments is required: 'id', 'token'.")
    try:
        checkout = store.get_checkout(str(token))
    except NotFound:
        return None
    if not store.channels[checkout.channel_id].is_active:
        context.viewer.require("MANAGE_CHECKOUTS", "IMPERSONATE_USER", "HANDLE_PAYMENTS")
    return checkout


# Channel ----------------------------------------------------------------------------------------


def _country(code: str) -> dict[str, str]:
    return {"code": code, "country": COUNTRY_NAMES.get(code, code)}


COUNTRY_NAMES = {
    "US": "United States of America",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "PL": "Poland",
    "CA": "Canada",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
}


# Customer ---------------------------------------------------------------------------------------


def _address_by_id(customer: Customer, pk: int | None) -> Address | None:
    return next((a for a in customer.addresses if a.id == pk), None)


def resolve_user_orders(source: Customer, info: Info, **args: Any) -> Any:
    context = _ctx(info)
    if not (context.viewer.user is not None and context.viewer.user.id == source.id):
        context.viewer.require("MANAGE_ORDERS", "MANAGE_USERS")
    orders = context.store.orders_of(source.id)
    return paginate(info, orders, lambda o: o.id, **_page(args))


# Product and variants ---------------------------------------------------------------------------


def _variant_price(variant: ProductVariant, channel: Channel | None) -> TaxedMoney | None:
    if channel is None:
        return None
    listing = variant.listing_for(channel.id)
    if listing is None:
        return None
    return TaxedMoney.untaxed(listing.price, listing.currency)


def resolve_product_pricing(source: Any, info: Info) -> dict[str, Any] | None:
    product, channel = unwrap(source), channel_of(source)
    if channel is None:
        return None
    prices = [p for v in product.variants if (p := _variant_price(v, channel)) is not None]
    if not prices:
        return None
    prices.sort(key=lambda p: p.gross.amount)
    price_range = {"start": prices[0], "stop": prices[-1]}
    return {
        "onSale": False,
        "displayGrossPrices": True,
        "priceRange": price_range,
        "priceRangeUndiscounted": price_range,
    }


def resolve_variant_pricing(source: Any, info: Info) -> dict[str, Any] | None:
    price = _variant_price(unwrap(source), channel_of(source))
    if price is None:
        return None
    return {"onSale": False, "price": price, "priceUndiscounted": price}


def resolve_thumbnail(source: Any, info: Info, size: int | None = None) -> Any:
    node = unwrap(source)
    if isinstance(node, OrderLine):
        product = _ctx(info).store.products.get(node.product_id or -1)
        if product is None:
            return None
        node = product
    media: list[ProductMedia] = node.media
    if not media:
        return None
    return {"url": media[0].url, "alt": media[0].alt or node.name}


def _product_of(info: Info, variant: ProductVariant) -> Product:
    return _ctx(info).store.products[variant.product_id]


def resolve_variant_channel_listings(source: Any, info: Info) -> list[dict[str, Any]]:
    context = _ctx(info)
    context.viewer.require("MANAGE_PRODUCTS")
    variant: ProductVariant = unwrap(source)
    return [
        {
            "id": listing.global_id,
            "channel": context.store.channels[listing.channel_id],
            "price": Money.of(listing.price, listing.currency),
            "costPrice": (
                Money.of(listing.cost_price, listing.currency)
                if listing.cost_price is not None
                else None
            ),
        }
        for listing in variant.channel_listings
        if listing.channel_id in context.store.channels
    ]


def resolve_variant_stocks(source: Any, info: Info) -> list[Stock]:
    _ctx(info).viewer.require("MANAGE_PRODUCTS", "MANAGE_ORDERS")
    variant: ProductVariant = unwrap(source)
    stock_id = base64.b64encode(f"Stock:{variant.id}".encode()).decode()
    return [
        Stock(stock_id, DEFAULT_WAREHOUSE, variant, variant.quantity, variant.quantity_allocated)
    ]


def resolve_quantity_available(source: Any, info: Info) -> int:
    variant: ProductVariant = unwrap(source)
    return variant.quantity_available


# Checkout ---------------------------------------------------------------------------------------


def _checkout_currency(info: Info, checkout: Checkout) -> str:
    return _ctx(info).store.channels[checkout.channel_id].currency_code


@dataclass(frozen=True)
class _CheckoutLineView:
    """A checkout line with the checkout it belongs to (needed for pricing)."""

    line: CheckoutLine
    checkout: Checkout


def resolve_checkout_lines(source: Checkout, info: Info) -> list[_CheckoutLineView]:
    return [_CheckoutLineView(line, source) for line in source.lines]


def _line_price(info: Info, view: _CheckoutLineView) -> Decimal:
    return _ctx(info).store.checkout_line_price(view.checkout, view.line)


def _checkout_line_resolvers() -> dict[str, Callable[..., Any]]:
    def variant(view: _CheckoutLineView, info: Info) -> InChannel:
        store = _ctx(info).store
        return InChannel(
            store.get_variant(view.line.variant_id), store.channels[view.checkout.channel_id]
        )

    def unit_price(view: _CheckoutLineView, info: Info) -> TaxedMoney:
        return TaxedMoney.untaxed(_line_price(info, view), _checkout_currency(info, view.checkout))

    def total_price(view: _CheckoutLineView, info: Info) -> TaxedMoney:
        amount = _line_price(info, view) * view.line.quantity
        return TaxedMoney.untaxed(amount, _checkout_currency(info, view.checkout))

    def undiscounted_unit(view: _CheckoutLineView, info: Info) -> Money:
        return Money.of(_line_price(info, view), _checkout_currency(info, view.checkout))

    def undiscounted_total(view: _CheckoutLineView, info: Info) -> Money:
        amount = _line_price(info, view) * view.line.quantity
        return Money.of(amount, _checkout_currency(info, view.checkout))

    meta = {name: _through_line(fn) for name, fn in _metadata_resolvers().items()}
    return {
        "id": lambda view, info: view.line.global_id,
        "variant": variant,
        "quantity": lambda view, info: view.line.quantity,
        "unitPrice": unit_price,
        "totalPrice": total_price,
        "undiscountedUnitPrice": undiscounted_unit,
        "undiscountedTotalPrice": undiscounted_total,
        "requiresShipping": lambda view, info: True,
        **meta,
    }


def _through_line(fn: Callable[..., Any]) -> Callable[..., Any]:
    def resolve(view: _CheckoutLineView, info: Info, **kwargs: Any) -> Any:
        return fn(view.line, info, **kwargs)

    return resolve


def _checkout_resolvers() -> dict[str, Callable[..., Any]]:
    def money(fn: Callable[[SaleorStore, Checkout], Decimal]) -> Callable[..., TaxedMoney]:
        def resolve(source: Checkout, info: Info) -> TaxedMoney:
            amount = fn(_ctx(info).store, source)
            return TaxedMoney.untaxed(amount, _checkout_currency(info, source))

        return resolve

    def user(source: Checkout, info: Info) -> Customer | None:
        context = _ctx(info)
        if source.user_id is None:
            return None
        viewer = context.viewer
        if not (viewer.user is not None and viewer.user.id == source.user_id):
            # The owner, or one of these: MANAGE_CHECKOUTS alone does not show the buyer
            # (saleor/graphql/checkout/types.py, `Checkout.resolve_user`, 3.20.119 and 3.24).
            viewer.require("MANAGE_USERS", "HANDLE_PAYMENTS", "HANDLE_TAXES")
        return context.store.customers.get(source.user_id)

    return {
        "id": lambda source, info: source.global_id,
        "token": lambda source, info: str(source.token),
        "channel": lambda source, info: _ctx(info).store.channels[source.channel_id],
        "user": user,
        "lines": resolve_checkout_lines,
        "quantity": lambda source, info: sum(line.quantity for line in source.lines),
        "isShippingRequired": lambda source, info: True,
        "subtotalPrice": money(lambda store, c: store.checkout_subtotal(c)),
        "totalPrice": money(lambda store, c: store.checkout_total(c)),
        "shippingPrice": money(lambda store, c: c.shipping_price),
    }


# Order ------------------------------------------------------------------------------------------


def _order_resolvers() -> dict[str, Callable[..., Any]]:
    def user(source: Order, info: Info) -> Customer | None:
        context = _ctx(info)
        if source.user_id is None:
            return None
        viewer = context.viewer
        if not (viewer.user is not None and viewer.user.id == source.user_id):
            viewer.require("MANAGE_USERS", "MANAGE_ORDERS")
        return context.store.customers.get(source.user_id)

    def manage_orders(resolve: Callable[[Order], Any]) -> Callable[..., Any]:
        def resolver(source: Order, info: Info) -> Any:
            _ctx(info).viewer.require("MANAGE_ORDERS")
            return resolve(source)

        return resolver

    def transactions(source: Order, info: Info) -> list[TransactionItem]:
        # Saleor: `transactions` requires MANAGE_ORDERS or HANDLE_PAYMENTS.
        _ctx(info).viewer.require("MANAGE_ORDERS", "HANDLE_PAYMENTS")
        return list(source.transactions)

    def taxed(
        net: Callable[[Order], Decimal], gross: Callable[[Order], Decimal]
    ) -> Callable[..., Any]:
        return reads(lambda source: TaxedMoney.of(net(source), gross(source), source.currency))

    def undiscounted_total(source: Order) -> TaxedMoney:
        gross = source.undiscounted_subtotal_gross + source.shipping_price_gross
        # A shipping voucher lowered the shipping price (models.OrderDiscount.in_prices).
        gross += sum((d.amount for d in source.discounts if d.in_prices and d.shipping), Decimal(0))
        return TaxedMoney.of(
            gross - (source.total_gross - source.total_net), gross, source.currency
        )

    return {
        "number": reads(lambda source: str(source.number)),
        "token": lambda source, info: str(source.token),
        "user": user,
        "channel": lambda source, info: _ctx(info).store.channels[source.channel_id],
        "lines": lambda source, info: [(line, source) for line in source.lines],
        # Derived when read, as Saleor's resolvers do (see payments).
        "isPaid": lambda source, info: is_paid(source),
        "paymentStatus": reads(payment_status),
        "totalRefunded": reads(lambda source: Money.of(total_refunded(source), source.currency)),
        "totalAuthorized": reads(
            lambda source: Money.of(total_authorized(source), source.currency)
        ),
        # These three require MANAGE_ORDERS in Saleor (PermissionsField).
        "totalRefundPending": manage_orders(
            lambda source: Money.of(total_refund_pending(source), source.currency)
        ),
        "totalGrantedRefund": manage_orders(
            lambda source: Money.of(granted_refund_total(source), source.currency)
        ),
        "grantedRefunds": manage_orders(
            lambda source: [(g, source.currency) for g in source.granted_refunds]
        ),
        "transactions": transactions,
        "payments": lambda source, info: list(source.payments),
        "total": taxed(lambda o: o.total_net, lambda o: o.total_gross),
        "subtotal": taxed(lambda o: o.subtotal_net, lambda o: o.subtotal_gross),
        "shippingPrice": taxed(lambda o: o.shipping_price_net, lambda o: o.shipping_price_gross),
        "undiscountedTotal": reads(undiscounted_total),
        "totalCharged": reads(lambda source: Money.of(source.total_charged, source.currency)),
        "discounts": lambda source, info: [(d, source.currency) for d in source.discounts],
        "fulfillments": resolve_order_fulfillments,
        "checkoutId": reads(
            lambda source: (
                base64.b64encode(f"Checkout:{source.checkout_token}".encode()).decode()
                if source.checkout_token
                else None
            )
        ),
    }


def _order_line_resolvers() -> dict[str, Callable[..., Any]]:
    def line_money(
        net: Callable[[OrderLine], Decimal], gross: Callable[[OrderLine], Decimal]
    ) -> Callable[..., TaxedMoney]:
        def resolve(source: tuple[OrderLine, Order]) -> TaxedMoney:
            line, order = source
            return TaxedMoney.of(net(line), gross(line), order.currency)

        return reads(resolve)

    def undiscounted_net(line: OrderLine) -> Decimal:
        return (line.undiscounted_unit_price_gross / (1 + line.tax_rate)).quantize(Decimal("0.01"))

    def variant(source: tuple[OrderLine, Order], info: Info) -> InChannel | None:
        line, order = source
        store = _ctx(info).store
        found = store.variants.get(line.variant_id or -1)
        return InChannel(found, store.channels.get(order.channel_id)) if found else None

    meta = {name: _first_of_pair(fn) for name, fn in _metadata_resolvers().items()}
    simple = {
        name: reads(partial(_read_first_of_pair, name=name))
        for name in (
            "productName",
            "variantName",
            "productSku",
            "quantity",
            "quantityFulfilled",
        )
    }
    return {
        **simple,
        **meta,
        "id": reads(lambda source: source[0].global_id),
        "productVariantId": reads(lambda source: source[0].product_variant_id),
        "isShippingRequired": lambda source, info: True,
        "taxRate": lambda source, info: float(source[0].tax_rate),
        "thumbnail": lambda source, info, size=None: resolve_thumbnail(source[0], info, size),
        "unitPrice": line_money(lambda ln: ln.unit_price_net, lambda ln: ln.unit_price_gross),
        "undiscountedUnitPrice": line_money(
            undiscounted_net, lambda ln: ln.undiscounted_unit_price_gross
        ),
        "unitDiscount": reads(lambda source: Money.of(source[0].unit_discount, source[1].currency)),
        "totalPrice": line_money(
            lambda ln: ln.unit_price_net * ln.quantity, lambda ln: ln.unit_price_gross * ln.quantity
        ),
        "undiscountedTotalPrice": line_money(
            lambda ln: undiscounted_net(ln) * ln.quantity,
            lambda ln: ln.undiscounted_unit_price_gross * ln.quantity,
        ),
        "variant": variant,
    }


def _payment_resolvers() -> dict[str, dict[str, Callable[..., Any]]]:
    """TransactionItem, TransactionEvent, Payment, Transaction and OrderGrantedRefund; objects
    without a currency of their own come paired with their owner's."""

    def money(field: str) -> Callable[..., Money]:
        return lambda source, info: Money.of(getattr(source, field), source.currency)

    def paired(field: str) -> Callable[..., Any]:
        return lambda pair, info: getattr(pair[0], field)

    def paired_money(field: str) -> Callable[..., Money]:
        return lambda pair, info: Money.of(getattr(pair[0], field), pair[1])

    amounts = {
        "authorizedAmount": "authorized_value",
        "authorizePendingAmount": "authorize_pending_value",
        "refundedAmount": "refunded_value",
        "refundPendingAmount": "refund_pending_value",
        "canceledAmount": "canceled_value",
        "cancelPendingAmount": "cancel_pending_value",
        "chargedAmount": "charged_value",
        "chargePendingAmount": "charge_pending_value",
    }
    metadata = _metadata_resolvers()
    return {
        "TransactionItem": {
            **metadata,
            **{name: money(field) for name, field in amounts.items()},
            "message": lambda item, info: "",
            "events": lambda item, info: [(e, item.currency) for e in item.events],
        },
        "TransactionEvent": {
            "id": lambda pair, info: pair[0].global_id,
            "createdAt": paired("created_at"),
            "pspReference": paired("psp_reference"),
            "message": paired("message"),
            "type": paired("type"),
            "amount": paired_money("amount"),
        },
        "Payment": {
            **metadata,
            "total": money("total"),
            "capturedAmount": money("captured_amount"),
            "transactions": lambda payment, info: [
                (t, payment.currency) for t in payment.transactions
            ],
        },
        "Transaction": {
            "id": lambda pair, info: pair[0].global_id,
            "created": paired("created"),
            "token": lambda pair, info: str(pair[0].id),
            "kind": paired("kind"),
            "isSuccess": paired("is_success"),
            "error": lambda pair, info: None,
            "amount": paired_money("amount"),
        },
        "OrderGrantedRefund": {
            "id": lambda pair, info: pair[0].global_id,
            "createdAt": paired("created_at"),
            "updatedAt": paired("created_at"),
            "reason": paired("reason"),
            "shippingCostsIncluded": lambda pair, info: False,
            "amount": paired_money("amount"),
        },
    }


def _read_first_of_pair(source: tuple[Any, Any], name: str) -> Any:
    return read_field(source[0], name)


def _first_of_pair(fn: Callable[..., Any]) -> Callable[..., Any]:
    def resolve(source: tuple[Any, Any], info: Info, **kwargs: Any) -> Any:
        return fn(source[0], info, **kwargs)

    return resolve


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
}


def resolve_type(value: Any, info: Info, abstract_type: Any) -> str | None:
    if isinstance(value, EventRoot):
        return value.type_name
    if isinstance(value, InChannel):
        value = value.node
    if isinstance(value, _CheckoutLineView):
        return "CheckoutLine"
    if isinstance(value, tuple) and value and isinstance(value[0], OrderLine):
        return "OrderLine"
    return _TYPE_NAMES.get(type(value))


# -- scalars ------------------------------------------------------------------------------------


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _serialize_json_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _serialize_plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value) if isinstance(value, uuid.UUID) else float(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _parse_datetime(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise GraphQLError("Enter a valid date/time.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _time_range(bounds: dict[str, Any] | None) -> Callable[[Any], bool]:
    """A `DateTimeRangeInput` or `DateRangeInput` as a predicate (an absent or null bound does
    not limit)."""
    low, high = (bounds or {}).get("gte"), (bounds or {}).get("lte")
    return lambda moment: (low is None or moment >= low) and (high is None or moment <= high)


def _parse_date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise GraphQLError("Enter a valid date.") from exc


@dataclass(frozen=True)
class ShopView:
    version: str


def resolve_shop(root: Any, info: Info) -> ShopView:
    return ShopView(_ctx(info).saleor_version)


def resolve_shop_version(source: ShopView, info: Info) -> str:
    # saleor/graphql/shop/types.py: `Shop.version` needs AUTHENTICATED_STAFF_USER or
    # AUTHENTICATED_APP.
    _ctx(info).viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    return source.version


def _parse_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise GraphQLError(f"Invalid UUID: {value}") from exc


def _configure_scalars(schema: GraphQLSchema) -> None:
    scalars: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any] | None]] = {
        "Date": (_serialize_datetime, _parse_date),
        "DateTime": (_serialize_datetime, _parse_datetime),
        "JSONString": (_serialize_json_string, None),
        "UUID": (_serialize_plain, _parse_uuid),
        "Metadata": (_serialize_plain, None),
        "PositiveDecimal": (_serialize_plain, None),
    }
    for name, (serialize, parse_value) in scalars.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        # graphql-core 3.2 calls ``serialize``/``parse_value``; 3.3 their ``coerce_*`` successors.
        setattr(scalar, "serialize", serialize)  # noqa: B010
        if hasattr(scalar, "coerce_output_value"):
            setattr(scalar, "coerce_output_value", serialize)  # noqa: B010
        if parse_value is not None:
            setattr(scalar, "parse_value", parse_value)  # noqa: B010
            if hasattr(scalar, "coerce_input_value"):
                setattr(scalar, "coerce_input_value", parse_value)  # noqa: B010


def language_enum(code: str) -> str:
    """Saleor's `LanguageCodeEnum[str_to_enum(language_code)]` (account/types.py)."""
    return code.replace("-", "_").upper()


def resolve_customer_update(
    root: Any, info: Info, input: dict[str, Any], id: str | None = None
) -> dict[str, Any]:
    """customerUpdate (saleor/graphql/account/mutations/staff/customer_update.py): MANAGE_USERS;
    an unknown id is an AccountError NOT_FOUND; a change emits CUSTOMER_UPDATED."""
    context = _ctx(info)
    context.viewer.require("MANAGE_USERS")
    pk = _pk(id, "User") if id else None
    customer = context.store.customers.get(pk) if pk is not None else None
    if customer is None:
        return {
            "errors": [
                {"field": "id", "message": f"Couldn't resolve to a node: {id}", "code": "NOT_FOUND"}
            ],
            "user": None,
        }
    changes = {
        name: str(input[key]).strip()
        for key, name in (("firstName", "first_name"), ("lastName", "last_name"))
        if input.get(key) is not None
    }
    if changes:
        context.store.update_customer(customer, **changes)
        context.pending_events.append(("CUSTOMER_UPDATED", customer))
    return {"errors": [], "user": customer}


# -- assembly -----------------------------------------------------------------------------------


def _resolver_map() -> dict[str, dict[str, Callable[..., Any]]]:
    from .listings import resolve_customers, resolve_orders  # it imports this module

    metadata = _metadata_resolvers()
    product_like = {
        **metadata,
        "id": resolve_global_id,
    }
    return {
        "Query": {
            "app": resolve_query_app,
            "apps": resolve_query_apps,
            "channels": resolve_channels,
            "channel": resolve_channel,
            "me": resolve_me,
            "user": resolve_user,
            "customers": resolve_customers,
            "product": resolve_product,
            "products": resolve_products,
            "productVariant": resolve_product_variant,
            "order": resolve_order,
            "orders": resolve_orders,
            "checkout": resolve_checkout,
            "shop": resolve_shop,
        },
        "Shop": {
            "version": resolve_shop_version,
        },
        "Mutation": {
            "updateMetadata": _metadata_mutation(private=False, delete=False),
            "deleteMetadata": _metadata_mutation(private=False, delete=True),
            "updatePrivateMetadata": _metadata_mutation(private=True, delete=False),
            "customerUpdate": resolve_customer_update,
            "checkoutCreate": resolve_checkout_create,
            "webhookCreate": resolve_webhook_create,
            "deletePrivateMetadata": _metadata_mutation(private=True, delete=True),
        },
        "Subscription": {"event": lambda root, info: root},
        "App": {
            **metadata,
            "type": _app_type,
            "permissions": lambda app, info: [
                {"code": p, "name": PERMISSION_NAMES.get(p, p)} for p in app.permissions
            ],
            "webhooks": _app_webhooks,
        },
        "Webhook": {
            "app": lambda hook, info: _ctx(info).store.apps.get(hook.app_id),
            "subscriptionQuery": lambda hook, info: hook.query,
            "asyncEvents": lambda hook, info: [
                {"name": e.replace("_", " ").title(), "eventType": e} for e in hook.async_events
            ],
        },
        "Channel": {**metadata, "defaultCountry": lambda c, info: _country(c.default_country)},
        "Address": {
            **metadata,
            "country": reads(lambda a: _country(a.country)),
            "streetAddress1": reads(lambda a: a.street_address_1),
            "streetAddress2": reads(lambda a: a.street_address_2),
        },
        "User": {
            **metadata,
            "orders": resolve_user_orders,
            "languageCode": lambda c, info: language_enum(c.language_code),
            "defaultShippingAddress": lambda c, info: _address_by_id(
                c, c.default_shipping_address_id
            ),
            "defaultBillingAddress": lambda c, info: _address_by_id(
                c, c.default_billing_address_id
            ),
        },
        "Category": {
            "parent": lambda c, info: _ctx(info).store.categories.get(c.parent_id or -1),
            "level": lambda c, info: 0 if c.parent_id is None else 1,
        },
        "ProductMedia": {"url": lambda m, info, size=None: m.url},
        "Product": {
            **product_like,
            "productType": lambda p, info: _ctx(info).store.product_types[
                unwrap(p).product_type_id
            ],
            "category": lambda p, info: _ctx(info).store.categories.get(
                unwrap(p).category_id or -1
            ),
            "channel": lambda p, info: c.slug if (c := channel_of(p)) else None,
            "description": lambda p, info: unwrap(p).description,
            "thumbnail": resolve_thumbnail,
            "pricing": resolve_product_pricing,
            "isAvailable": lambda p, info: (
                channel_of(p) is not None
                and any(v.quantity_available > 0 for v in unwrap(p).variants)
            ),
            "isAvailableForPurchase": lambda p, info: channel_of(p) is not None,
            "defaultVariant": lambda p, info: (
                InChannel(unwrap(p).variants[0], channel_of(p)) if unwrap(p).variants else None
            ),
            "variants": lambda p, info: [
                InChannel(v, channel_of(p))
                for v in unwrap(p).variants
                if (c := channel_of(p)) is None or v.listing_for(c.id) is not None
            ],
            "media": lambda p, info: list(unwrap(p).media),
            "attributes": resolve_product_attributes,
        },
        "ProductVariant": {
            **product_like,
            "product": lambda v, info: InChannel(_product_of(info, unwrap(v)), channel_of(v)),
            "channel": lambda v, info: c.slug if (c := channel_of(v)) else None,
            "channelListings": resolve_variant_channel_listings,
            "pricing": resolve_variant_pricing,
            # Only the media assigned to the variant (saleor/graphql/product/types/products.py
            # `ProductVariant.resolve_media`, `MediaByProductVariantIdLoader`).
            "media": lambda v, info: [
                m for m in _product_of(info, unwrap(v)).media if m.id in unwrap(v).media_ids
            ],
            "stocks": resolve_variant_stocks,
            "quantityAvailable": resolve_quantity_available,
        },
        "Stock": {"productVariant": lambda s, info: InChannel(s.product_variant, None)},
        "CheckoutLine": _checkout_line_resolvers(),
        "Checkout": {**metadata, **_checkout_resolvers()},
        "Order": {
            **metadata,
            **_order_resolvers(),
            "languageCodeEnum": lambda o, info: language_enum(unwrap(o).language_code),
        },
        "OrderLine": _order_line_resolvers(),
        "Fulfillment": {**metadata, "id": resolve_global_id},
        **_payment_resolvers(),
        "OrderDiscount": {
            "id": lambda pair, info: pair[0].global_id,
            "type": lambda pair, info: pair[0].type,
            "name": lambda pair, info: pair[0].name,
            "valueType": lambda pair, info: pair[0].value_type,
            "value": lambda pair, info: pair[0].value,
            "reason": lambda pair, info: pair[0].reason,
            "amount": lambda pair, info: Money.of(pair[0].amount, pair[1]),
        },
    }


def _app_webhooks(app: SandboxApp, info: Info) -> list[WebhookConfig]:
    viewer = _ctx(info).viewer
    if not (viewer.app is not None and viewer.app.id == app.id):
        viewer.require("MANAGE_APPS")
    return list(app.webhooks)


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
            store = _ctx(info).store
            chan = store.channel_by_slug(channel) if channel else None
            return InChannel(value, chan) if not isinstance(value, Voucher) else _view(value, chan)
        return value

    return resolve


def _view(voucher: Voucher, channel: Channel | None) -> Any:
    from .voucher_schema import as_view  # it imports this module

    return as_view(voucher, channel)


def _with_vouchers(
    resolvers: dict[str, dict[str, Callable[..., Any]]],
) -> dict[str, dict[str, Callable[..., Any]]]:
    from .voucher_schema import voucher_resolvers  # it imports this module

    for type_name, fields in voucher_resolvers().items():
        resolvers.setdefault(type_name, {}).update(fields)
    return resolvers


def event_type_names(schema: GraphQLSchema) -> list[str]:
    """The concrete ``Event`` types the sandbox schema declares."""
    event = schema.type_map["Event"]
    return [t.name for t in schema.get_possible_types(event)]  # type: ignore[arg-type]


def sandbox_schema(version: str = CURRENT_VERSION) -> GraphQLSchema:
    """The executable sandbox schema as Saleor ``version`` serves it (see ``versions``)."""
    return _sandbox_schema(
        order_where=has_order_where(version),
        customer_deleted=has_customer_deleted_type(version),
    )


@cache
def _sandbox_schema(*, order_where: bool, customer_deleted: bool = True) -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    if not customer_deleted:
        # Before 3.23.5 no subscription can name it (saleor/saleor#19173; absent from
        # shared/contracts/saleor-schema-3.20.graphql): rebuilt without the type.
        kept = [
            t
            for name, t in schema.type_map.items()
            if name != "CustomerDeleted" and not name.startswith("__")
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
    _configure_scalars(schema)
    for type_name, fields in _with_vouchers(_resolver_map()).items():
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, resolver in fields.items():
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
