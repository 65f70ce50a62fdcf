"""Mailchimp wins: a customer update that runs while a change from Mailchimp is pending is held
back until that change is applied; a change that is never applied (its job gives up, the
account is revoked, or it was a redelivery) holds back nothing for good."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.mailchimp import MailchimpClient, MailchimpError
from addon.subscriptions.models import ContactState
from addon.subscriptions.profile_sync import enqueue_profile_update
from tests.audiences.conftest import _customer, _fire, _map
from tests.subscriptions.conftest import Shop


async def _update_queued(shop: Shop, email: str) -> None:
    """News maps BIRTHDAY, and the customer at `email` subscribed with one; their birthday
    changes in Saleor, and their update is queued (as its webhook does), not run yet."""
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}])
    customer = await _customer(shop, email, birthday="1990-12-03")
    await shop.work()
    shop.saleor.store.get_customer(customer.id).metadata["birthday"] = "1991-01-30"
    async with shop.services.db.transaction() as session:
        state = await session.scalar(select(ContactState).where(ContactState.email == email))
        assert state is not None
        await enqueue_profile_update(session, state, customer.global_id)


async def test_a_customer_change_held_back_by_a_pending_mailchimp_change_goes_after_it(
    newsletter: Shop,
) -> None:
    """Mailchimp wins: a customer update that runs while a change from Mailchimp waits is held
    back (`profile_sync`); it goes once that change is applied. Before, it waited for Saleor's
    echo of the status write-back, which a write changing nothing never sends (and which the
    receiver no longer hands on: the app's own write)."""
    shop = newsletter
    news = shop.ids["news"]
    # The customer changed in Saleor, and its update is queued (as its webhook does) ...
    await _update_queued(shop, "gil@example.com")
    # ... and a change from Mailchimp arrives before it runs.
    await _fire(shop, "subscribe", {"email": "gil@example.com"})
    await shop.work()

    assert shop.member(news, "gil@example.com").merge_fields["BIRTHDAY"] == "01/30"


async def test_a_mailchimp_change_that_is_never_applied_holds_back_nothing_for_good(
    newsletter: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change's job gives up (Mailchimp failing through every attempt): it is no longer
    pending, so the customer update it held back goes, and later ones are not held back
    either. Before, the contact looked changed in Mailchimp, unapplied, for good."""
    shop = newsletter
    news = shop.ids["news"]
    await _update_queued(shop, "joy@example.com")
    shop.services.settings = shop.services.settings.model_copy(update={"worker_max_attempts": 1})
    get_member = MailchimpClient.get_member

    async def failing(self: MailchimpClient, list_id: str, email: str) -> Any:
        if email == "joy@example.com":
            raise MailchimpError("Mailchimp answered 503 Service Unavailable")
        return await get_member(self, list_id, email)

    monkeypatch.setattr(MailchimpClient, "get_member", failing)
    await _fire(shop, "subscribe", {"email": "joy@example.com"})
    await shop.work()

    assert shop.member(news, "joy@example.com").merge_fields["BIRTHDAY"] == "01/30"
    contact = ContactState.email == "joy@example.com"
    async with shop.services.db.session() as session:
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None and state.mailchimp_changed_at is None
        assert not state.profile_held_back
        problem = state.last_problem or ""
        assert problem.startswith("Mailchimp's subscribe change was not applied: ")
        assert problem.endswith("Mailchimp answered 503 Service Unavailable.")


async def test_a_mailchimp_change_arriving_as_the_account_is_revoked_is_dropped(
    newsletter: Shop,
) -> None:
    """Its job finds no connected account: the change is not pending any more (the store's
    later changes are not lost to it once the admin reconnects)."""
    shop = newsletter
    await _customer(shop, "kim@example.com")
    await shop.work()
    await _fire(shop, "subscribe", {"email": "kim@example.com"})
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=ConnectionStatus.REVOKED))
    await shop.work()
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.email == "kim@example.com")
        )
    assert state is not None and state.mailchimp_changed_at is None
    assert state.last_problem == (
        "Mailchimp's subscribe change was not applied: Mailchimp is not connected."
    )


async def test_a_redelivered_mailchimp_event_holds_back_no_customer_update(
    newsletter: Shop,
) -> None:
    """Mailchimp sends a webhook again when it did not get the answer: the same body. The app
    takes it once. Before, the redelivery also marked the contact changed in Mailchimp, with
    no job left to apply that: every later customer update was held back, for good."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}])
    customer = await _customer(shop, "ida@example.com", birthday="1990-12-03")
    await shop.work()
    for _ in range(2):  # delivered, applied, then delivered again
        responses = await shop.mailchimp.fire_list_webhook(
            shop.account,
            news,
            "subscribe",
            {"email": "ida@example.com"},
            source="user",
            fired_at="2026-12-03 12:00:00",
        )
        assert responses and all(r.status_code == 200 for r in responses)
        await shop.work()

    await shop.saleor.update_customer_metadata(customer, {"birthday": "1991-01-30"})
    await shop.work()

    assert shop.member(news, "ida@example.com").merge_fields["BIRTHDAY"] == "01/30"
