"""Data that belongs to one Mailchimp account (audiences, stores, sync state).

A reset keeps it, so reconnecting to the same account resumes without re-creating anything;
connecting a different account drops it, so that account starts clean. Capabilities mark
their account-scoped tables with `@account_scoped`; each must have an `installation_id`. A
capability's row kept across accounts (its admin's settings) may hold how far it has gone
through the account's data (cursors): `account_progress` names those columns, set back with it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

ModelT = TypeVar("ModelT", bound=type[Any])

_ACCOUNT_SCOPED: list[type[Any]] = []
_PROGRESS: list[tuple[type[Any], dict[str, Any]]] = []


def account_scoped(model: ModelT) -> ModelT:
    if not hasattr(model, "installation_id"):
        raise TypeError(f"{model.__name__} needs an installation_id column to be account-scoped")
    _ACCOUNT_SCOPED.append(model)
    return model


def account_progress(model: type[Any], **start: Any) -> None:
    """`model`'s columns `start` names track progress through the account's data: set to
    those values when it is forgotten (a cursor left would skip what the new data needs)."""
    if not hasattr(model, "installation_id"):
        raise TypeError(f"{model.__name__} needs an installation_id column")
    _PROGRESS.append((model, start))


async def forget_account_data(session: AsyncSession, installation_id: int) -> None:
    # Children first: a later-registered table may reference an earlier one.
    for model in reversed(_ACCOUNT_SCOPED):
        await session.execute(delete(model).where(model.installation_id == installation_id))
    for model, start in _PROGRESS:
        await session.execute(
            update(model).where(model.installation_id == installation_id).values(**start)
        )
