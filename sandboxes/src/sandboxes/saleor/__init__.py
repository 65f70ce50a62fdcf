"""A faithful, in-process stand-in for a Saleor instance.

:class:`SaleorSandbox` installs apps like Saleor (manifest, token handshake, webhooks), serves
``/.well-known/jwks.json`` and ``/graphql/`` through an ASGI app, keeps an in-memory store
(channels, customers, products, checkouts, orders) and sends webhooks signed like Saleor's.
"""

from .ids import from_global_id, to_global_id
from .keys import SigningKey
from .models import (
    Address,
    Channel,
    Checkout,
    Customer,
    Product,
    ProductVariant,
    SandboxApp,
    WebhookConfig,
)
from .order_models import Order, OrderLine, OrderStatus
from .permissions import DEFAULT_MANAGE_PERMISSIONS
from .sandbox import SaleorSandbox
from .sandbox_apps import InstallationFailed
from .store import SaleorStore
from .store_base import NotFound
from .store_catalog import VariantSpec
from .store_checkouts import LineSpec
from .webhooks import Delivery

__all__ = [
    "DEFAULT_MANAGE_PERMISSIONS",
    "Address",
    "Channel",
    "Checkout",
    "Customer",
    "Delivery",
    "InstallationFailed",
    "LineSpec",
    "NotFound",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Product",
    "ProductVariant",
    "SaleorSandbox",
    "SaleorStore",
    "SandboxApp",
    "SigningKey",
    "VariantSpec",
    "WebhookConfig",
    "from_global_id",
    "to_global_id",
]
