"""Data that belongs to one Mailchimp account (audiences, stores, sync state).

A reset keeps it, so reconnecting to the same account resumes without re-creating anything;
connecting a different account drops it, so that account starts clean. Capabilities mark
their account-scoped tables with `@account_scoped`; each must have an `installation_id`. A
capability's row kept across accounts (its admin's settings) may hold how far it has gone
through the account's data (cursors): `account_progress` names those columns, set back with it.
A capability's work that read the account while it was dropped (begun before) holds what that
account had: `account_stamps` tells it, `forget_account_data(..., only=)` drops what it wrote.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.models import MailchimpConnection

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


def account_models(module: str) -> tuple[type[Any], ...]:
    """The models of `module` (a capability's) that hold or track the account's data: what
    `forget_account_data(..., only=)` drops of that capability alone."""
    found = [*_ACCOUNT_SCOPED, *(model for model, _ in _PROGRESS)]
    return tuple(dict.fromkeys(m for m in found if m.__module__ == module))


async def forget_account_data(
    session: AsyncSession, installation_id: int, *, only: Collection[type[Any]] | None = None
) -> None:
    """Drop the account's data; `only`: of these models alone (one capability's)."""
    # Children first: a later-registered table may reference an earlier one.
    for model in reversed(_ACCOUNT_SCOPED):
        if only is None or model in only:
            await session.execute(delete(model).where(model.installation_id == installation_id))
    for model, start in _PROGRESS:
        if only is not None and model not in only:
            continue
        await session.execute(
            update(model).where(model.installation_id == installation_id).values(**start)
        )


AccountStamps = tuple[datetime | None, datetime | None]


async def account_stamps(
    session: AsyncSession, installation_id: int, *, lock: bool = False
) -> AccountStamps:
    """When the account's data was last dropped: another account connected, a reset that
    forgot it. Work that read the account compares them at its start and its end: a change
    means what it read and wrote is the account's before. `lock`: held until the caller's
    transaction ends, so that a switch under way is waited for (it locks the row first)."""
    query = select(
        MailchimpConnection.account_switched_at, MailchimpConnection.account_forgotten_at
    ).where(MailchimpConnection.installation_id == installation_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return (row[0], row[1]) if row is not None else (None, None)
