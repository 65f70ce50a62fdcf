"""An erasure waiting for the Mailchimp account it was asked under, when the admin connects
another: refused unless confirmed, and then the erasure ends saying it was not done (never
"erased" with nothing erased in the new account), the address forgotten by the app all the
same. Reconnecting the same account lets it finish at once."""

from __future__ import annotations

from sqlalchemy import select, update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.connection.reconnect import NOT_DONE_SWITCHED
from addon.db.types import utcnow
from addon.erasure.jobs import ERASE_JOB, ERASED_NOTE, WAITING_FOR_CONNECTION
from addon.erasure.unavailable import WAITING_FOR_AUDIENCES
from addon.jobs.models import Job, JobStatus
from addon.mailchimp import subscriber_hash
from tests.ecommerce.conftest import Shop
from tests.erasure.scan import rows_naming
from tests.erasure.test_erasure import ANN, _assert_erased, _connection, _customer_with_history


async def _erasure_waiting(shop: Shop) -> None:
    customer, _, _ = await _customer_with_history(shop)
    await _connection(shop, ConnectionStatus.REVOKED)  # the account's key deleted
    await shop.saleor.delete_account(customer)  # the shopper asks to be forgotten
    await shop.drain()
    async with shop.services.db.session() as session:
        [job] = await session.scalars(select(Job).where(Job.kind == ERASE_JOB))
    assert job.status is JobStatus.PENDING and job.last_error == WAITING_FOR_CONNECTION


async def _erasure(shop: Shop) -> tuple[Job, list[str | None]]:
    async with shop.services.db.session() as session:
        [job] = await session.scalars(select(Job).where(Job.kind == ERASE_JOB))
        notes = [
            n.last_error for n in await session.scalars(select(Job).where(Job.kind == ERASED_NOTE))
        ]
    return job, notes


async def test_connecting_another_account_is_refused_while_an_erasure_waits(shop: Shop) -> None:
    await _erasure_waiting(shop)
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "OWED_TO_PREVIOUS_ACCOUNT"
    assert error["message"].startswith("1 erasure still waits for Green Grocer")
    assert "Reconnect Green Grocer to let it finish" in error["message"]
    async with shop.services.db.session() as session:
        connection = (await session.execute(select(MailchimpConnection))).scalar_one()
    assert connection.account_id == shop.account.id  # nothing changed
    assert connection.status is ConnectionStatus.REVOKED
    job, notes = await _erasure(shop)
    assert job.status is JobStatus.PENDING and notes == []


async def test_a_confirmed_switch_ends_the_erasure_not_done_and_forgets_the_address(
    shop: Shop,
) -> None:
    await _erasure_waiting(shop)
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    response = await shop.api(
        "POST",
        "/api/connection/api-key",
        {"api_key": other.api_key, "drop_owed_to_previous_account": True},
    )
    assert response.status_code == 200, response.text
    assert response.json()["continuity"] == "started_clean"
    assert "1 erasure owed to the previous account ends not done" in response.json()["message"]
    # Made due at once: no hourly wait for a connection that will not come back.
    await shop.drain()
    job, [note] = await _erasure(shop)
    assert job.status is JobStatus.DONE
    assert note is not None and note.startswith(NOT_DONE_SWITCHED)
    assert "erased." not in note and "permanently deleted" not in note
    # Nothing was erased in either account: she is still in the first.
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is not None
    # The app forgot her all the same.
    assert job.payload["email"] == f"erased:{subscriber_hash(ANN)}"
    assert await rows_naming(shop.services, ANN) == []
    assert not any(
        r.method == "POST" and "delete-permanent" in r.path for r in shop.mailchimp.requests
    )


async def test_reconnecting_the_same_account_erases_at_once(shop: Shop) -> None:
    customer, order, checkout = await _customer_with_history(shop)
    await _connection(shop, ConnectionStatus.REVOKED)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": shop.account.api_key})
    assert response.json()["continuity"] == "resumed", response.text
    assert "1 erasure waiting for it runs now" in response.json()["message"]
    await shop.drain()  # (its hourly retry is not made due by the test)
    await _assert_erased(shop, True, order, checkout)


async def _forgotten(shop: Shop) -> None:
    """The admin resets the connection and forgets the account's data while it waits."""
    await _erasure_waiting(shop)
    reset = await shop.api("POST", "/api/connection/reset", {"forget_account_data": True})
    assert reset.status_code == 200, reset.text
    # Its next try: still waiting for the account, though the app forgot its audiences.
    await _make_due(shop)
    await shop.drain()
    job, notes = await _erasure(shop)
    assert (job.status, job.last_error, notes) == (JobStatus.PENDING, WAITING_FOR_CONNECTION, [])


async def _make_due(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(Job).where(Job.kind == ERASE_JOB).values(run_after=utcnow()))


async def test_after_a_reset_that_forgot_the_account_another_is_still_a_switch(
    shop: Shop,
) -> None:
    """The app forgot the account's audiences and stores, not that the erasure is owed to it:
    connecting another is refused all the same, and a confirmed switch ends it not done."""
    await _forgotten(shop)
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "OWED_TO_PREVIOUS_ACCOUNT"
    response = await shop.api(
        "POST",
        "/api/connection/api-key",
        {"api_key": other.api_key, "drop_owed_to_previous_account": True},
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    job, [note] = await _erasure(shop)
    assert job.status is JobStatus.DONE
    assert note is not None and note.startswith(NOT_DONE_SWITCHED)
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is not None


async def test_after_a_reset_that_forgot_the_account_connecting_it_again_erases(
    shop: Shop,
) -> None:
    await _forgotten(shop)
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": shop.account.api_key})
    assert response.status_code == 200, response.text
    assert response.json()["continuity"] == "new"  # its data here was forgotten
    assert "1 erasure waiting for it runs now" in response.json()["message"]
    await shop.drain()
    # The app knows none of the account's audiences until it reads them again: it waits.
    job, notes = await _erasure(shop)
    assert (job.status, job.last_error, notes) == (JobStatus.PENDING, WAITING_FOR_AUDIENCES, [])
    await _make_due(shop)
    await shop.drain()
    job, [note] = await _erasure(shop)
    assert job.status is JobStatus.DONE
    assert note is not None and not note.startswith(NOT_DONE_SWITCHED)
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
