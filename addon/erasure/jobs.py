"""The erasure job: a customer's addresses erased in Mailchimp, then forgotten by the app.

Queued when Saleor deletes a customer (CUSTOMER_DELETED, ACCOUNT_DELETED: `deletions.py`) or a
staff user erases one from the customer panel. In Mailchimp, for every audience the app knows,
each address is deleted permanently (`POST /lists/{id}/members/{hash}/actions/delete-permanent`:
Mailchimp then refuses to add it again through the API); in every store, the customer's carts
are deleted, its orders too if the admin chose so (they stay by default: the store's revenue
history), then the customer (`in_mailchimp.py`). The app's tables then keep only hashes
(`forget.py`), and Activity records what was done without the address (`outcome.py`). It first
waits while a batch sent before, or a push running, may still write the customer into Mailchimp
(`in_flight.py`). An erasure asked under a Mailchimp account another was connected in place of
never runs against that one (`addon.connection.reconnect`): it ends saying it was not done, the
address forgotten by the app all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.connection.reconnect import OwedKind, asked_of_another_account
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.erasure.forget import drop_pushes, erased, forget, ledger_records
from addon.erasure.in_flight import RETRY_SECONDS, in_flight, written_since
from addon.erasure.in_mailchimp import StoreWork, erase_in_mailchimp, store_work
from addon.erasure.known import addresses_of
from addon.erasure.models import ErasureSettings
from addon.erasure.outcome import Erased, summary
from addon.erasure.saleor_metadata import enqueue_metadata_erasure
from addon.erasure.schemas import EraseRequest, ErasureSource
from addon.erasure.unavailable import (
    AUDIENCES_RETRY_SECONDS,
    RECONNECT_RETRY_SECONDS,
    WAITING_FOR_AUDIENCES,
    WAITING_FOR_CONNECTION,
    audiences_unread,
    carried_over,
    gave_up_reconnecting,
    switched_note,
    wait_for_mailchimp,
)
from addon.jobs.completion import complete_in
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import (
    InvalidCredentials,
    NotFound,
    RateLimited,
    TransientError,
    subscriber_hash,
)
from addon.privacy.erased import remember_erased
from addon.services import Services

logger = logging.getLogger(__name__)

ERASE_JOB = "erasure.erase"
# Done on arrival: the Activity entry saying what an erasure did (text in `last_error`, as the
# Activity page shows a row's text), without the address.
ERASED_NOTE = "erasure.erased"
# Every erasure not finished is owed to the connected account (`Linking.save` asks).
OWED_ERASURES = OwedKind(
    ERASE_JOB,
    "erasure",
    "erasures",
    dropped="whoever asked to be erased stays in the previous account until someone deletes "
    "them there, and the app forgets the addresses all the same",
)


def _key(email: str) -> str:
    return f"{ERASE_JOB}:{subscriber_hash(email)}"


def _lane(email: str) -> str:
    """The contact's lane (`subscriptions.writeback.contact_lane`): one at a time, in order."""
    return f"contact:{subscriber_hash(email)}"


async def _waiting(
    session: AsyncSession, installation_id: int, email: str, running: int | None = None
) -> tuple[Job, EraseRequest] | None:
    """The same erasure asked again and waiting (a pending job of its key, not `running`),
    locked: what one run erased is carried into it (the newest payload is the one kept)."""
    found = await session.scalar(
        select(Job)
        .where(
            Job.installation_id == installation_id,
            Job.coalesce_key == _key(email),
            Job.status == JobStatus.PENDING,
            Job.id != (running or 0),
        )
        .with_for_update()
    )
    request = _request_or_none(found.payload) if found is not None else None
    return (found, request) if found is not None and request is not None else None


def _carried(newer: EraseRequest, earlier: EraseRequest) -> EraseRequest:
    """`newer` with what `earlier` erased and the Saleor user it knew."""
    return newer.model_copy(
        update={
            "erased": earlier.erased,
            "saleor_user_id": newer.saleor_user_id or earlier.saleor_user_id,
        }
    )


async def enqueue_erasure(
    session: AsyncSession, installation_id: int, request: EraseRequest
) -> None:
    """One erasure per address at a time (its lane), the same one asked twice runs once. Asked
    again while it waits (`RetryLater`), the newest payload replaces the waiting one: what the
    waiting one erased already, and the Saleor user it knew, are carried into it (and, asked
    while it runs, `_again` carries them into the new one)."""
    waiting = await _waiting(session, installation_id, request.email)
    if waiting is not None:
        request = _carried(request, waiting[1])
    # Its first step at once, ahead of its lane, where a contact's job may wait for the account
    # (`subscriptions.upemail_waits`): nothing queued may send the customer, and the address
    # counts as erased from now. The job does it again when it runs (`handle_erase`).
    addresses = await addresses_of(session, installation_id, request.email, request.saleor_user_id)
    await _first_step(session, installation_id, request, addresses)
    await JobRepository(session).enqueue(
        installation_id,
        ERASE_JOB,
        request.model_dump(mode="json"),
        coalesce_key=_key(request.email),
        lane=_lane(request.email),
    )


async def _first_step(
    session: AsyncSession,
    installation_id: int,
    request: EraseRequest,
    addresses: set[str],
    running_job_id: int | None = None,
) -> None:
    """The customer's queued pushes dropped (but the erasure's own running job) and the
    addresses counted as erased from now."""
    records = await ledger_records(session, installation_id, addresses, request.saleor_user_id)
    await drop_pushes(session, installation_id, records, running_job_id)
    await remember_erased(session, installation_id, addresses, utcnow())


def _request_or_none(payload: object) -> EraseRequest | None:
    try:
        return EraseRequest.model_validate(payload) if payload is not None else None
    except ValidationError:
        return None  # not this version's payload: the newest replaces it as it is


async def _must_wait(
    job: ClaimedJob,
    addresses: set[str],
    request: EraseRequest,
    services: Services,
    since: datetime | None = None,
) -> bool:
    """Whether to look again later: a batch sent before, or a push running now (or ended
    `since`), may still write the customer into Mailchimp (`in_flight.py`); not once the
    erasure has waited as long as a batch may wait there."""
    wait = timedelta(seconds=services.settings.initial_sync_batch_wait_seconds)
    async with services.db.session() as session:
        found = await in_flight(
            session, job.installation_id, addresses, request.saleor_user_id, wait, since
        )
        if (not found.waiting and not found.ask) or await _overdue(session, job, services):
            return False
    return found.waiting or await _any_unfinished(services, job.installation_id, found.ask)


async def _overdue(session: AsyncSession, job: ClaimedJob, services: Services) -> bool:
    """Whether the erasure has waited as long as a batch may wait at Mailchimp: it waits no
    more (a batch that never finishes must not keep the customer there for ever)."""
    wait = timedelta(seconds=services.settings.initial_sync_batch_wait_seconds)
    asked = await session.scalar(select(Job.created_at).where(Job.id == job.id))
    waited = utcnow() - asked if asked is not None else timedelta()
    if waited < wait:
        return False
    logger.warning(
        "Erasing a customer still on its way to Mailchimp after %.0f s", waited.total_seconds()
    )
    return True


async def _any_unfinished(
    services: Services, installation_id: int, batch_ids: Sequence[str]
) -> bool:
    """Whether Mailchimp may still run one of these batches (one it no longer knows: no)."""
    try:
        async with mailchimp_for(services, installation_id) as client:
            for batch_id in batch_ids:
                try:
                    if (await client.get_batch(batch_id)).unfinished:
                        return True
                except NotFound:
                    continue
                except (RateLimited, TransientError):
                    return True  # unknown: looked at again, until the erasure is overdue
    except NotConnected:
        return False  # nothing can be erased there either
    return False


WAITING = "Waits for what was on its way to Mailchimp about the customer"


async def _again(
    services: Services, job: ClaimedJob, request: EraseRequest, result: Erased
) -> NoReturn:
    """A push was sent while Mailchimp was being erased: once it is done, erase again (what
    this run deleted kept for the summary)."""
    kept = request.model_copy(update={"erased": result.counts()})
    async with services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.id == job.id).values(payload=kept.model_dump(mode="json"))
        )
        # Asked again while this run went on: the worker merges this job into that one,
        # whose payload is kept; it carries what this run erased.
        newer = await _waiting(session, job.installation_id, request.email, running=job.id)
        if newer is not None:
            newer[0].payload = _carried(newer[1], kept).model_dump(mode="json")
    raise RetryLater(WAITING, RETRY_SECONDS)


async def _note(session: AsyncSession, job: ClaimedJob, request: EraseRequest, note: str) -> None:
    """The job keeps the address's hash only, Activity the note (without the address)."""
    hashed = request.model_copy(update={"email": erased(request.email)})
    await session.execute(
        update(Job).where(Job.id == job.id).values(payload=hashed.model_dump(mode="json"))
    )
    await JobRepository(session).record_note(
        job.installation_id,
        ERASED_NOTE,
        {"erased": erased(request.email)},
        note,
    )
    await complete_in(session)


async def handle_erase(job: ClaimedJob, request: EraseRequest, services: Services) -> None:
    installation_id = job.installation_id
    async with services.db.transaction() as session:
        addresses = await addresses_of(
            session, installation_id, request.email, request.saleor_user_id
        )
        settings = await session.get(ErasureSettings, installation_id)
        delete_orders = bool(settings and settings.delete_orders)
        lists = [
            a.list_id
            for a in await AudienceRepository(session).audiences(installation_id)
            if a.removed_at is None
        ]
        stores = await store_work(
            session, installation_id, addresses, request.saleor_user_id, delete_orders
        )
        # First (kept even if it waits): nothing queued may send the customer once erased, and
        # their orders are held back already while it waits (`forget` sets the final time).
        await _first_step(session, installation_id, request, addresses, job.id)
        # Asked of the account connected before: the one connected now holds none of its
        # audiences and stores, and "erased" there would be untrue.
        switched = await asked_of_another_account(session, job)
    if not switched and await _must_wait(job, addresses, request, services):
        raise RetryLater(WAITING, RETRY_SECONDS)
    started = utcnow()
    result = Erased(connected=False)
    if not switched:
        result = await _erase_now(job, request, services, lists, addresses, stores)
        if await _must_wait(job, addresses, request, services, since=started):
            await _again(services, job, request, result)
    async with services.db.transaction() as session:
        # The records locked (a push's outcome waits for the forgetting), then one last look.
        mine = await ledger_records(
            session, installation_id, addresses, request.saleor_user_id, locked=True
        )
        # A push claimed since the last look is let finish; none waiting is claimed any more.
        dropped = await drop_pushes(session, installation_id, mine, job.id)
        written = await written_since(session, installation_id, mine, started, dropped)
        # (Switched while this run erased: with the credentials read before, or the new ones.)
        switched = switched or await asked_of_another_account(session, job)
        again = written and not switched and not await _overdue(session, job, services)
        if not again:
            forgotten = await forget(
                session,
                installation_id,
                addresses,
                request.saleor_user_id,
                orders_deleted=delete_orders and result.connected,
                running_job_id=job.id,
            )
            done = forgotten.contacts + forgotten.ledger
            note = (
                switched_note(done)
                if switched
                else summary(result, request.source, delete_orders, done)
            )
            await _note(session, job, request, note)
            if request.source is ErasureSource.PANEL and request.saleor_user_id is not None:
                # The customer stays in Saleor: what the app wrote on them goes, after any
                # write-back queued before (the contact's lane).
                await enqueue_metadata_erasure(
                    session, installation_id, request.saleor_user_id, _lane(request.email)
                )
    if again:
        await _again(services, job, request, result)
    what = "forgotten, not erased (the Mailchimp account was switched)" if switched else "erased"
    logger.info("Customer %s (%d addresses)", what, len(addresses))


async def _erase_now(
    job: ClaimedJob,
    request: EraseRequest,
    services: Services,
    lists: list[str],
    addresses: set[str],
    stores: list[StoreWork],
) -> Erased:
    """Erase in the connected account, or wait for it (`RetryLater`); with this erasure's
    earlier runs' deletions."""
    installation_id = job.installation_id
    carried = await carried_over(services, job)
    try:
        async with mailchimp_for(services, installation_id) as client:
            if carried and await audiences_unread(services, installation_id):
                raise RetryLater(WAITING_FOR_AUDIENCES, AUDIENCES_RETRY_SECONDS)
            result = await erase_in_mailchimp(client, lists, addresses, stores)
    except (NotConnected, InvalidCredentials):
        # Audiences or stores the app filled are still in the account: the customer must go
        # from them too ("from every audience in your account, as well as any connected
        # integrations", mailchimp.com/help/delete-contacts). So the erasure waits for the
        # account to be connected again (`unavailable.py`); then it is given up.
        if (lists or stores or carried) and not await gave_up_reconnecting(services, job):
            raise RetryLater(WAITING_FOR_CONNECTION, RECONNECT_RETRY_SECONDS) from None
        result = Erased(connected=False)
    except (RateLimited, TransientError) as exc:
        await wait_for_mailchimp(services, job, exc)
    return result.plus(request.erased)


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(ERASE_JOB, handle_erase, payload=EraseRequest)


__all__ = [
    "ERASED_NOTE",
    "ERASE_JOB",
    "OWED_ERASURES",
    "WAITING_FOR_CONNECTION",
    "enqueue_erasure",
    "register",
]
