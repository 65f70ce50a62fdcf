"""The in-memory data store behind the Saleor sandbox.

:class:`SaleorStore` holds channels, customers, products, checkouts, orders and apps, and offers
plain synchronous create/read/update/delete operations. It never sends anything: the
:class:`~sandboxes.saleor.sandbox.SaleorSandbox` wraps these operations and emits the
matching webhook events. Customers, orders and products are listed in Saleor's orderings
(orderings.py: the store keeps them sorted, see ``SortedViews``), other listings by pk; the
pagination cursors are positions in the listing's ordering (cursors.py).

Its operations are in the ``store_*`` modules (``store_base``: state and channels;
``store_customers``, ``store_catalog``, ``store_checkouts``, ``store_orders``, ``store_taxes``);
this module assembles them and finds an object by its global ID.
"""

from __future__ import annotations

import uuid
from typing import Any

from .ids import InvalidGlobalId, from_global_id
from .models import WithMetadata
from .store_checkouts import StoreCheckouts
from .store_customers import StoreCustomers
from .store_taxes import StoreTaxes


class SaleorStore(StoreCustomers, StoreCheckouts, StoreTaxes):
    """All objects of one sandbox Saleor instance, keyed by integer pk."""

    # -- lookup by global ID --------------------------------------------------------------------

    def resolve_global_id(self, global_id: str) -> WithMetadata | None:
        """The object a global ID names (objects that carry metadata), or None."""
        try:
            type_name, pk = from_global_id(global_id)
        except InvalidGlobalId:
            return None
        if type_name == "Order":
            return self.order_by_id(global_id)
        if type_name == "Checkout":
            try:
                return self.checkouts.get(uuid.UUID(pk))
            except ValueError:
                return None
        if not pk.isdigit():
            return None
        tables: dict[str, dict[int, Any]] = {
            "User": self.customers,
            "Order": self.orders,
            "Product": self.products,
            "ProductVariant": self.variants,
            "Channel": self.channels,
            "App": self.apps,
            "Voucher": self.vouchers,
        }
        table = tables.get(type_name)
        found = table.get(int(pk)) if table is not None else None
        return found if isinstance(found, WithMetadata) else None
