"""Letting go of a Mailchimp account mid-sync (a reset, another account connected in its
place) releases the store's `is_syncing` with that account's credentials before they go, or,
when Mailchimp refuses or does not answer then, says plainly which store stays held and what
the owner can do: on the reset's or the switch's answer, and on the Activity page."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from addon.connection.linking import Linking
from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync import release
from addon.initial_sync.models import InitialSync
from addon.installations.models import Installation
from addon.jobs.worker import Worker
from addon.mailchimp import Account, MailchimpClient, StorePatch
from tests.ecommerce.conftest import Shop
from tests.factories import oauth
from tests.initial_sync.conftest import first_batch_held, hold_batches, is_syncing, make_due, start

LEFT_NOTE = "initial_sync.store_left_syncing"


async def _runs(shop: Shop) -> list[InitialSync]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(InitialSync)))


async def _reset(shop: Shop, *, forget: bool) -> dict[str, Any]:
    response = await shop.api("POST", "/api/connection/reset", {"forget_account_data": forget})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _switch(shop: Shop) -> dict[str, Any]:
    other = shop.mailchimp.create_account("Other shop", "other@example.com")
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _notes(shop: Shop) -> list[dict[str, Any]]:
    response = await shop.api("GET", "/api/activity")
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["kind"] == LEFT_NOTE]


async def _flagged(shop: Shop) -> Worker:
    """A sync whose first step flagged the store, nothing sent yet."""
    hold_batches(shop)
    await start(shop)
    worker = Worker(shop.services)
    while not is_syncing(shop):
        await make_due(shop)
        assert await worker.run_once()
    assert shop.mailchimp.batches(shop.account) == []
    return worker


async def test_a_reset_mid_sync_releases_the_store_with_the_credentials_it_removes(
    small: Shop,
) -> None:
    """Nothing sent yet (the first step only flagged the store): nothing can land unheld."""
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await _flagged(shop)

    answer = await _reset(shop, forget=False)
    assert not is_syncing(shop)  # the automations are no longer held
    assert "automations" in answer["message"]
    [run] = await _runs(shop)
    assert not run.store_flagged
    assert run.status is RunStatus.FAILED  # it cannot go on without the credentials
    assert await _notes(shop) == []


async def test_another_account_connected_mid_sync_releases_the_first_accounts_store(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    assert is_syncing(shop)

    answer = await _switch(shop)
    assert answer["continuity"] == "started_clean"
    assert not is_syncing(shop)  # the first account's store
    assert await _runs(shop) == []


async def test_an_oauth_log_in_to_another_account_mid_sync_releases_the_first_accounts_store(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)

    other = shop.mailchimp.create_account("Other shop", "other@example.com")
    page, _ = await oauth(shop.client, shop.headers, other)
    assert page.status_code == 200, page.text
    assert "Other shop" in page.text and "no longer marked as syncing" in page.text
    assert "stopped first" in page.text  # its batch, before it could run unheld
    assert not is_syncing(shop)  # the first account's store
    assert await _runs(shop) == []
    assert await _notes(shop) == []


async def test_an_oauth_log_in_to_another_account_with_the_first_revoked_names_the_store_held(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    shop.mailchimp.revoke(shop.account)  # refused: said on the page the callback shows

    other = shop.mailchimp.create_account("Other shop", "other@example.com")
    page, _ = await oauth(shop.client, shop.headers, other)
    assert page.status_code == 200, page.text
    assert "Other shop" in page.text and "still marked as syncing" in page.text
    assert is_syncing(shop)
    [note] = await _notes(shop)
    assert shop.store_id in note["last_error"]


@pytest.mark.parametrize("switched", ["before_the_flag_lands", "after_it_lands"])
async def test_a_store_flagged_while_the_switch_lets_go_is_released(
    small: Shop, monkeypatch: pytest.MonkeyPatch, switched: str
) -> None:
    """Another account is connected while the first step's PATCH is on its way: landing
    after the switch cleared the flags, the step finds its sync dropped and clears it itself;
    landing before, the switch clears it (its sync ended, although not recorded flagged)."""
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    hold_batches(shop)
    await start(shop)
    real = MailchimpClient.update_store
    answers: list[dict[str, Any]] = []

    async def switch_meanwhile(self: MailchimpClient, store_id: str, patch: StorePatch) -> Any:
        racing = bool(patch.is_syncing) and not answers
        if racing and switched == "before_the_flag_lands":
            answers.append(await _switch(shop))
        result = await real(self, store_id, patch)
        if racing and switched == "after_it_lands":
            answers.append(await _switch(shop))
        return result

    monkeypatch.setattr(MailchimpClient, "update_store", switch_meanwhile)
    worker = Worker(shop.services)
    for _ in range(10):
        await make_due(shop)
        await worker.run_once()
    assert answers, "the step never flagged the store"
    assert await _runs(shop) == []
    assert not is_syncing(shop)  # the first account's store


async def test_credentials_already_revoked_leave_the_store_held_and_say_so(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    shop.mailchimp.revoke(shop.account)

    answer = await _reset(shop, forget=True)
    assert is_syncing(shop)  # Mailchimp refuses the credentials: nothing could clear it
    message = answer["message"]
    assert shop.store_id in message and "still marked as syncing" in message
    assert "refused the credentials" in message
    [note] = await _notes(shop)
    assert shop.store_id in note["last_error"]
    assert "run the initial sync" in note["last_error"]  # what the owner can do


async def test_mailchimp_down_at_a_switch_leaves_the_store_held_and_says_so(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    shop.mailchimp.faults.outage(account=shop.account)

    answer = await _switch(shop)
    assert is_syncing(shop)
    assert shop.store_id in answer["message"] and "did not answer" in answer["message"]
    [note] = await _notes(shop)
    assert shop.store_id in note["last_error"]


async def test_a_store_left_held_at_a_reset_is_named_again_when_another_account_replaces_it(
    small: Shop,
) -> None:
    """A reset keeping the account's data leaves the held store to a reconnection of the same
    account; connecting another instead drops that sync: the switch says so again."""
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    kept = await _reset(shop, forget=False)  # its batch still at Mailchimp: kept held
    assert "connected here again" in kept["message"] and shop.store_id in kept["message"]

    answer = await _switch(shop)
    assert shop.store_id in answer["message"] and "still marked as syncing" in answer["message"]
    assert len(await _notes(shop)) == 2


async def test_a_mailchimp_that_never_answers_does_not_hold_the_reset(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    monkeypatch.setattr(release, "RELEASE_SECONDS", 0.01)
    never = asyncio.Event()

    async def hanging(self: MailchimpClient, store_id: str, patch: StorePatch) -> Any:
        await never.wait()

    monkeypatch.setattr(MailchimpClient, "update_store", hanging)
    response = await shop.api("POST", "/api/connection/reset", {"forget_account_data": True})
    assert response.status_code == 200, response.text
    assert "did not answer" in response.json()["message"]


async def test_a_switch_refused_for_an_uninstalled_app_lets_nothing_go(small: Shop) -> None:
    """Uninstalled while the log-in was answered (the callback's `save` refuses it): the first
    account's sync goes on as it was, nothing said on the Activity page."""
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    await first_batch_held(shop)
    [run] = await _runs(shop)
    async with shop.services.db.transaction() as session:
        installation = await session.get(Installation, run.installation_id)
        assert installation is not None
        installation.uninstalled_at = utcnow()
    other = shop.mailchimp.create_account("Other shop", "other@example.com")

    async with shop.services.db.session() as session:
        linking = Linking(session, shop.services)
        account = Account(account_id=other.id, account_name=other.name)
        let = await linking.let_go_of_previous(run.installation_id, account, drop_owed=True)
    assert let.described() == ""
    [run] = await _runs(shop)
    assert run.status is RunStatus.RUNNING
    assert is_syncing(shop)
