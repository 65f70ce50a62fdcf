"""Who calls the sandbox's API and what they may do: Saleor's permission codes, the
authorization filters (``AUTHENTICATED_APP``, ``AUTHENTICATED_STAFF_USER``), the ``Viewer`` of a
request and Saleor's ``PermissionDenied`` error."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graphql import GraphQLError

from .models import Customer, SandboxApp

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

DEFAULT_MANAGE_PERMISSIONS: tuple[str, ...] = tuple(
    p for p in ALL_PERMISSIONS if p.startswith("MANAGE_")
)
"""Every ``MANAGE_*`` permission (the default ``user_permissions`` of dashboard tokens)."""


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
