"""Imports every model module so `Base.metadata` knows all tables (for Alembic and tests)."""

from addon.connection import models as connection_models
from addon.ecommerce import models as ecommerce_models
from addon.installations import models as installations_models
from addon.jobs import models as jobs_models

__all__ = ["connection_models", "ecommerce_models", "installations_models", "jobs_models"]
