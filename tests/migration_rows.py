"""What a running store had before a migration, for the migration tests: a database brought to an
old revision, with an installation (id 1) written as SQL (the models describe the newest
schema, not that one)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, text

from addon.db.migrations import alembic_config

NOW = "2026-01-01 00:00:00+00:00"

_INSTALLATION = text(
    "INSERT INTO installations (id, saleor_api_url, saleor_domain, app_id, app_token,"
    " jwks, jwks_fetched_at, is_active, installed_at, updated_at) VALUES (1,"
    " 'https://shop.example/graphql/', 'shop.example', 'QXBwOjE=', 'x', '{}',"
    " :now, 1, :now, :now)"
)


def installed_at(connection: Connection, revision: str) -> None:
    """The database at `revision`, with installation 1 in it."""
    command.upgrade(alembic_config(connection), revision)
    connection.execute(_INSTALLATION, {"now": NOW})
