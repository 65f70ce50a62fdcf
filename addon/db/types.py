"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import SecretStr
from sqlalchemy import DateTime, Dialect, String, Text
from sqlalchemy.types import TypeDecorator

from addon.clock import current_clock
from addon.crypto import SecretBox

_secret_box: SecretBox | None = None


def use_secret_box(box: SecretBox) -> None:
    """Install the process's SecretBox; encrypted columns use it to read and write."""
    global _secret_box
    _secret_box = box


def _box() -> SecretBox:
    if _secret_box is None:
        raise RuntimeError("No SecretBox configured: call addon.db.types.use_secret_box() first")
    return _secret_box


def utcnow() -> datetime:
    """Now, from the process's clock (see `addon.clock`: tests can move it)."""
    return current_clock().now()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; naive UTC in SQLite (which has no time zones).

    Binding and reading through one type keeps comparisons in SQL correct on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedSecret(TypeDecorator[SecretStr]):
    """A secret stored as Fernet ciphertext and handled as `SecretStr` in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: SecretStr | None, dialect: Dialect) -> str | None:
        return None if value is None else _box().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> SecretStr | None:
        return None if value is None else _box().decrypt(value)


class StrEnumType(TypeDecorator[Any]):
    """A `StrEnum` stored as its value in a VARCHAR, loaded back as the enum member."""

    impl = String(20)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else self.enum(value)
