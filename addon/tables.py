"""Every table of every capability, imported so `Base.metadata` knows them all (for Alembic and
tests). Above the capabilities: addon.db (below them) imports none of this."""

from addon.audiences import models as audiences_models
from addon.connection import models as connection_models
from addon.ecommerce import cart_models as cart_models
from addon.ecommerce import models as ecommerce_models
from addon.ecommerce import promo_models as promo_models
from addon.engagement import models as engagement_models
from addon.erasure import models as erasure_models
from addon.initial_sync import models as initial_sync_models
from addon.installations import models as installations_models
from addon.jobs import models as jobs_models
from addon.privacy import erased as erased_models
from addon.subscriptions import customer_addresses as customer_addresses_models
from addon.subscriptions import models as subscriptions_models
from addon.subscriptions import ratelimit as ratelimit_models

__all__ = [
    "audiences_models",
    "cart_models",
    "connection_models",
    "customer_addresses_models",
    "ecommerce_models",
    "engagement_models",
    "erased_models",
    "erasure_models",
    "initial_sync_models",
    "installations_models",
    "jobs_models",
    "promo_models",
    "ratelimit_models",
    "subscriptions_models",
]
