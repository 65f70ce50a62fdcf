"""The two moves of an exchange (Ann A→B, Bob B→A) run at once on PostgreSQL: they are in two
lanes (each its old address's), so two workers may take them together. Ann's exchanges the two
contacts; Bob's, which waits (`email_exchange.py`), must not then write its wait onto the row
Ann's move just renamed: its records are read locked, after Ann's move commits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.models import Installation
from addon.jobs.schemas import ClaimedJob
from addon.subscriptions import email_change
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB, EmailMove
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_email_swap import A, B, C, _contact, _rows, _two
from tests.transactions_at_once import BLOCKED_BY
from tests.worker_process import until


async def _job(shop: Shop, move: EmailMove) -> ClaimedJob:
    async with shop.services.db.session() as session:
        installation_id = await session.scalar(select(Installation.id))
    assert installation_id is not None
    payload = move.model_dump(mode="json")
    return ClaimedJob(
        id=0, installation_id=installation_id, kind=EMAIL_CHANGE_JOB, payload=payload, attempts=0
    )


async def test_the_waiting_move_writes_nothing_onto_the_exchanged_contact(
    newsletter: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = newsletter
    if shop.services.db.is_sqlite:
        pytest.skip("two transactions at once: PostgreSQL only")
    ann, bob = await _two(shop)
    for customer, email in ((ann, C), (bob, A), (ann, B)):
        shop.saleor.store.update_customer(customer, email=email)  # no deliveries: moves below

    exchanged, go = asyncio.Event(), asyncio.Event()
    pid: list[int] = []
    exchange_rows = email_change.exchange_rows

    async def held_open(session: AsyncSession, *args: Any) -> Any:
        """Ann's move, its records exchanged, stays uncommitted until Bob's runs into it."""
        rows = await exchange_rows(session, *args)
        await session.flush()
        pid.append(int(await session.scalar(text("SELECT pg_backend_pid()")) or 0))
        exchanged.set()
        await go.wait()
        return rows

    monkeypatch.setattr(email_change, "exchange_rows", held_open)
    anns = EmailMove(old_email=A, new_email=B, saleor_user_id=ann.global_id)
    bobs = EmailMove(old_email=B, new_email=A, saleor_user_id=bob.global_id)
    anns_job, bobs_job = await _job(shop, anns), await _job(shop, bobs)
    first = asyncio.create_task(email_change.handle_move(anns_job, anns, shop.services))
    second: asyncio.Task[None] | None = None
    try:
        await exchanged.wait()
        second = asyncio.create_task(email_change.handle_move(bobs_job, bobs, shop.services))

        async def blocked() -> bool:
            assert second is not None and not second.done(), "Bob's move never met Ann's"
            async with shop.services.db.session() as watching:
                return bool(await watching.scalar(BLOCKED_BY, {"pid": pid[0]}))

        await until(blocked, "Bob's move to wait for Ann's")
        go.set()
        await first
        await second
    finally:
        go.set()
        for task in (first, second):
            if task is not None and not task.done():
                task.cancel()

    assert _contact(shop, A) == ("subscribed", ["bob-tag"], "Bob")
    assert _contact(shop, B) == ("subscribed", ["ann-tag"], "Ann")
    assert await _rows(shop) == {A: (bob.global_id, None), B: (ann.global_id, None)}
