"""Metadata: who may read and write an object's public and private metadata (after
saleor/graphql/meta/permissions.py), the ``metadata``/``privateMetadata`` fields of every object
carrying it, and the ``updateMetadata``/``deleteMetadata`` (and private) mutations with the
``*_METADATA_UPDATED`` events they emit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Info, api_context
from .ids import InvalidGlobalId, from_global_id
from .models import (
    Channel,
    Checkout,
    CheckoutLine,
    Customer,
    Product,
    ProductVariant,
    SandboxApp,
    utcnow,
)
from .order_models import Order, OrderLine
from .permissions import PermissionDenied, Viewer
from .reading import unwrap
from .versions import metadata_bumps_updated, version_tuple
from .voucher_models import Voucher

# -- metadata -----------------------------------------------------------------------------------


# Saleor's PRIVATE_META_PERMISSION_MAP (saleor/graphql/meta/permissions.py) by GraphQL type name,
# for every type whose permission does not depend on the object: the sandbox's own types (their
# objects) and the others (an id of one names no object here, but is refused first all the
# same). Where Saleor takes either of two (HANDLE_TAXES beside MANAGE_ORDERS, MANAGE_CHECKOUTS
# or MANAGE_TAXES) the sandbox takes the first only: the stricter side. Users are apart (their
# staff flag decides), and so is an app's own metadata (`_owns`); Address, Attribute and Payment
# depend on the object and are not listed.
TYPE_PERMISSIONS: dict[str, str] = {
    "Order": "MANAGE_ORDERS",
    "OrderLine": "MANAGE_ORDERS",
    "Fulfillment": "MANAGE_ORDERS",
    "Invoice": "MANAGE_ORDERS",
    "Checkout": "MANAGE_CHECKOUTS",
    "CheckoutLine": "MANAGE_CHECKOUTS",
    "Product": "MANAGE_PRODUCTS",
    "ProductVariant": "MANAGE_PRODUCTS",
    "ProductMedia": "MANAGE_PRODUCTS",
    "Category": "MANAGE_PRODUCTS",
    "Collection": "MANAGE_PRODUCTS",
    "Warehouse": "MANAGE_PRODUCTS",
    "ProductType": "MANAGE_PRODUCT_TYPES_AND_ATTRIBUTES",
    "PageType": "MANAGE_PAGE_TYPES_AND_ATTRIBUTES",
    "CustomerType": "MANAGE_CUSTOMER_TYPES_AND_ATTRIBUTES",
    "Page": "MANAGE_PAGES",
    "Menu": "MANAGE_MENUS",
    "MenuItem": "MANAGE_MENUS",
    "Channel": "MANAGE_CHANNELS",
    "App": "MANAGE_APPS",
    "Voucher": "MANAGE_DISCOUNTS",
    "Promotion": "MANAGE_DISCOUNTS",
    "Sale": "MANAGE_DISCOUNTS",
    "GiftCard": "MANAGE_GIFT_CARD",
    "ShippingMethod": "MANAGE_SHIPPING",
    "ShippingMethodType": "MANAGE_SHIPPING",
    "ShippingZone": "MANAGE_SHIPPING",
    "Shop": "MANAGE_SETTINGS",
    "TaxConfiguration": "HANDLE_TAXES",
    "TaxClass": "HANDLE_TAXES",
    # private_payment_permissions: HANDLE_PAYMENTS for an app or staff, refused to others.
    "TransactionItem": "HANDLE_PAYMENTS",
}
# Public metadata needs the same, but a checkout's (PUBLIC_META_PERMISSION_MAP: `no_permissions`).
PUBLIC_FREE_TYPES = frozenset({"Checkout", "CheckoutLine"})
_TYPE_NAMES: dict[type, str] = {
    Order: "Order",
    OrderLine: "OrderLine",
    Checkout: "Checkout",
    CheckoutLine: "CheckoutLine",
    Product: "Product",
    ProductVariant: "ProductVariant",
    Channel: "Channel",
    SandboxApp: "App",
    Voucher: "Voucher",
}


def private_metadata_permissions(obj: Any) -> tuple[str, ...]:
    """Permissions Saleor requires to read/write the private metadata of ``obj``."""
    if isinstance(obj, Customer):
        # saleor/graphql/meta/permissions.py (public_/private_user_permissions): a staff
        # user's metadata needs MANAGE_STAFF, even for an app holding MANAGE_USERS.
        return ("MANAGE_STAFF",) if obj.is_staff else ("MANAGE_USERS",)
    return (TYPE_PERMISSIONS.get(_TYPE_NAMES.get(type(obj), ""), "MANAGE_SETTINGS"),)


def public_metadata_write_permissions(obj: Any) -> tuple[str, ...]:
    """Permissions Saleor requires to write public metadata (checkouts: anyone with the id)."""
    if _TYPE_NAMES.get(type(obj)) in PUBLIC_FREE_TYPES:
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
    viewer = api_context(info).viewer
    if not _owns(viewer, obj, private=True):
        viewer.require(*private_metadata_permissions(obj))


def _items(data: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in data.items()]


def metadata_resolvers() -> dict[str, Callable[..., Any]]:
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


# The object's own update event a metadata change also sends (saleor/graphql/meta/
# extra_methods.py): always on 3.20 and 3.21, since 3.22 while the site's
# `use_legacy_update_webhook_emission` is on (its default). Orders send their metadata event only.
LEGACY_UPDATE_EVENTS: dict[type, str] = {
    Customer: "CUSTOMER_UPDATED",
    Checkout: "CHECKOUT_UPDATED",
    Product: "PRODUCT_UPDATED",
    ProductVariant: "PRODUCT_VARIANT_UPDATED",
}
LEGACY_UPDATE_FLAG_SINCE = (3, 22, 0)


def metadata_events(item: Any, store: Any, version: str) -> list[str]:
    """The events of a metadata change of `item` (call it only when the metadata changed:
    Saleor sends none for a write that changes nothing, meta/mutations/base.py `has_changed`)."""
    events = []
    legacy = LEGACY_UPDATE_EVENTS.get(type(item))
    flag = store.legacy_update_webhook_emission
    if legacy is not None and (flag or version_tuple(version) < LEGACY_UPDATE_FLAG_SINCE):
        events.append(legacy)
    if (event := METADATA_EVENTS.get(type(item))) is not None:
        events.append(event)
    return events


# The field a metadata mutation sets to now, by the sandbox's model (Saleor's
# `TYPE_UPDATED_FIELD`, `versions.metadata_bumps_updated`; its User is `Customer` here).
UPDATED_FIELD = {
    "Customer": "updated_at",
    "Order": "updated_at",
    "Product": "updated_at",
    "ProductVariant": "updated_at",
    "Category": "updated_at",
    "Checkout": "last_change",
    "TransactionItem": "modified_at",
}


def _bumped_field(type_name: str, version: str, delete: bool) -> str | None:
    """The modification time a metadata write sets. Since #18601 every write, `UPDATED_FIELD`.
    Before it (3.20.119 ... 3.22.18) only a delete, keys or none: `save_instance` adds
    `updated_at` where the saved instance has one (saleor/graphql/meta/mutations/
    delete_metadata.py:43, utils.py:23-30 at 3.20.119; a checkout's is its `CheckoutMetadata`,
    which has none), while an update is a queryset `update` that leaves it (`update_metadata`)."""
    field_name = UPDATED_FIELD.get(type_name)
    if metadata_bumps_updated(version_tuple(version)):
        return field_name
    return field_name if delete and field_name == "updated_at" else None


def _not_found(message: str) -> dict[str, Any]:
    return {"errors": [{"field": "id", "message": message, "code": "NOT_FOUND"}], "item": None}


def _unresolved(viewer: Viewer, global_id: str, *, private: bool) -> dict[str, Any]:
    """The answer to an id that names no object: Saleor picks and compares the permission of
    the id's type before it looks for the object (saleor/graphql/meta/mutations/base.py
    `mutate`: `get_permissions`, then `check_permissions`, then `get_instance`; the same at
    3.20.119, 3.23.28 and main 723cd4e), so a caller without it is refused whether or not the
    object exists.

    A user's permission depends on the user, whom `private_user_permissions` looks up first:
    a missing one raises a bare `PermissionDenied()`, which nothing in `mutate` catches (a
    top-level error at the field's path, its alias; the field null, the request's other fields
    still run); `public_user_permissions` raises a ValidationError, which `mutate` turns into
    the mutation's own error. Any other type: its permission (`TYPE_PERMISSIONS`) compared,
    then `get_node_or_error`'s NOT_FOUND ("Couldn't resolve to a node"). A type not in that
    table (its permission depends on the object, or Saleor has no such type) answers NOT_FOUND.
    """
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidGlobalId:
        type_name, pk = "", ""
    if type_name == "User" and pk.isdigit():
        if private:
            raise PermissionDenied()
        return _not_found("Couldn't resolve user.")
    needed = TYPE_PERMISSIONS.get(type_name)
    if needed is not None and (private or type_name not in PUBLIC_FREE_TYPES):
        viewer.require(needed)
    return _not_found(f"Couldn't resolve to a node: {global_id}")


def metadata_mutation(private: bool, delete: bool) -> Callable[..., Any]:
    def resolve(
        root: Any,
        info: Info,
        id: str,
        input: list[dict[str, str]] | None = None,
        keys: list[str] | None = None,
    ) -> dict[str, Any]:
        context = api_context(info)
        item = context.store.resolve_global_id(id)
        if item is None:
            return _unresolved(context.viewer, id, private=private)
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
        before = dict(item.private_metadata if private else item.metadata)
        target = dict(before)
        if delete:
            for key in keys or []:
                target.pop(key, None)
        else:
            target.update({entry["key"]: entry["value"] for entry in input or []})
        if private:
            item.private_metadata = target
        else:
            item.metadata = target
        field_name = _bumped_field(type(item).__name__, context.saleor_version, delete)
        if field_name == "last_change" and target == before:
            # A checkout's is saved by the mutation only when its metadata changed
            # (saleor/graphql/meta/mutations/base.py:187-206 at 723cd4e, `has_changed`;
            # `get_updated_field_name` gives a CheckoutMetadata none, utils.py:61-64).
            field_name = None
        if field_name is not None:
            setattr(item, field_name, utcnow())
        if target != before:
            for event in metadata_events(item, context.store, context.saleor_version):
                context.pending_events.append((event, item))
        return {"errors": [], "item": item}

    return resolve
