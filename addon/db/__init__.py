"""Persistence: engine and sessions, column types, declarative base."""

from addon.db.base import Base
from addon.db.engine import Database

__all__ = ["Base", "Database"]
