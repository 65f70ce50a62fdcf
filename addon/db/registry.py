"""Imports every model module so `Base.metadata` knows all tables (for Alembic and tests)."""

from addon.installations import models as installations_models
from addon.jobs import models as jobs_models

__all__ = ["installations_models", "jobs_models"]
