"""Writing each contact's subscription status back onto its Saleor customer: a job of its own.

The status is written after a change reached Mailchimp (`subscriptions.apply`) or came from
Mailchimp (`subscriptions.mailchimp_event`). It is its own job so that a Saleor failure retries
only the write, never the Mailchimp calls before it. Rules:

* the status of an address goes only to the Saleor user whose own e-mail is that address (or,
  after a Mailchimp e-mail change, to the customer that had the previous address and was
  given the new one in its metadata when the change came in): a checkout may carry another
  address than its signed-in user's, and that person's status is not the user's;
* after a Mailchimp e-mail change (`upemail`) the contact stays its customer's (the user linked
  to it, else the one at the old address), never goes to another user who has the new address
  (anyone can type anyone's address on Mailchimp's profile page): that user gets nothing, and
  the contact says so (`last_problem`); later, the customer linked to the contact and holding
  its address in their metadata is written before another owner of the address;
* a permission error is permanent (the app's permissions are fixed at installation; e.g. a
  staff user's metadata needs MANAGE_STAFF, which the app does not ask for): it is recorded
  once per user as an Activity entry (a done job, kept as long as done jobs are) and that
  user's write-back is skipped while the entry exists. Only while Saleor accepts the app's
  token, though: a deactivated app's is refused too, and until the lifecycle check has paused
  the installation the write-back waits (`installations.token_doubt`), to run once it resumes;
* a contact of an audience deleted in Mailchimp (its contacts went with it; the import marks it
  removed) is written as one deleted there: `archived`, in no group, never its last status;
* the public metadata holds the groups Mailchimp's profile page would show the contact (no
  hidden group: the store's segmentation, which the customer may read there); every group
  goes in the private metadata, staff's and apps' only (`metadata.status_keys`);
* a guest (no user with the address) has no customer to write on;
* a user who has not confirmed the address (`User.isConfirmed`; anyone can register anyone's)
  is written, and linked to, only the contacts linked to them already (ones they made): the
  status of another's contact would show in their metadata, and the link give them the
  contact on the account page (`storefront.StorefrontService._visible`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Set
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import visible_interests
from addon.audiences.repository import AudienceRepository
from addon.db.types import utcnow
from addon.installations.repository import InstallationRepository
from addon.installations.token_doubt import wait_if_token_in_doubt
from addon.jobs.inserts import CoalescedJob
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import subscriber_hash
from addon.saleor.client import SaleorPermissionDenied, SaleorQueryError
from addon.services import Services
from addon.subscriptions.metadata import EMAIL_PREFIX, StatusKeys, status_keys
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import address_forms
from addon.subscriptions.writeback_notes import (
    record_other_owner,
    record_refusal,
    refused_before,
)

logger = logging.getLogger(__name__)

WRITE_STATUS_JOB = "subscriptions.write_status"


def contact_lane(email: str) -> str:
    """One contact's jobs run one at a time, in order."""
    return f"contact:{subscriber_hash(email)}"


async def waiting_in_lane(
    session: AsyncSession, installation_id: int, email: str, kind: str
) -> list[dict[str, Any]]:
    """The payloads of the contact's jobs of `kind` not done yet (waiting or running)."""
    waiting = await session.scalars(
        select(Job.payload).where(
            Job.installation_id == installation_id,
            Job.lane == contact_lane(email),
            Job.kind == kind,
            Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
        )
    )
    return list(waiting)


class MetadataWriteFailed(Exception):
    """Saleor refused the metadata for a reason that may pass (retried by the worker)."""


class StatusWriteBack(BaseModel):
    """The `subscriptions.write_status` job: write `email`'s status onto its customer."""

    email: str
    # The address the customer may still have in Saleor after a Mailchimp e-mail change.
    lookup_email: str | None = None
    # Written because the member changed its address in Mailchimp (`upemail`): the customer
    # is the contact's (linked, or at `lookup_email`), never whoever owns the new address.
    moved_in_mailchimp: bool = False


class SaleorUser(BaseModel):
    id: str
    email: str
    first_name: str | None = Field(default=None, alias="firstName")
    last_name: str | None = Field(default=None, alias="lastName")
    is_confirmed: bool = Field(default=True, alias="isConfirmed")


async def enqueue_status_write(
    session: AsyncSession,
    installation_id: int,
    email: str,
    *,
    lookup_email: str | None = None,
    moved_in_mailchimp: bool = False,
) -> None:
    """Queue the write-back (in the contact's lane; a pending one absorbs later requests).
    `moved_in_mailchimp`: after an `upemail` from `lookup_email` (see `StatusWriteBack`)."""
    job = status_write_job(installation_id, email, lookup_email, moved_in_mailchimp)
    await JobRepository(session).enqueue(
        installation_id, job.kind, job.payload, coalesce_key=job.coalesce_key, lane=job.lane
    )


def status_write_job(
    installation_id: int,
    email: str,
    lookup_email: str | None = None,
    moved_in_mailchimp: bool = False,
) -> CoalescedJob:
    """The write-back job of `email` (see `enqueue_status_write`), for `enqueue_coalesced`."""
    email = email.lower()
    lookup = lookup_email.lower() if lookup_email and lookup_email.lower() != email else None
    moved = moved_in_mailchimp and lookup is not None
    key = f"{WRITE_STATUS_JOB}:{subscriber_hash(email)}"
    if lookup is not None:
        key += f":{subscriber_hash(lookup)}" + (":upemail" if moved else "")
    payload = StatusWriteBack(email=email, lookup_email=lookup, moved_in_mailchimp=moved)
    return CoalescedJob(
        installation_id,
        WRITE_STATUS_JOB,
        payload.model_dump(mode="json"),
        key,
        contact_lane(email),
        utcnow(),
    )


def may_write_to(user: SaleorUser, state: ContactState | None) -> bool:
    """Whether the contact's data may go on `user`: anyone can register anyone's address, so
    an unconfirmed account gets only the contacts linked to it already (ones it made)."""
    return user.is_confirmed or (state is not None and state.saleor_user_id == user.id)


async def _find_user(
    services: Services, api_url: str, token: SecretStr, addresses: list[str]
) -> SaleorUser | None:
    """The Saleor user whose own e-mail is one of `addresses` (in that order), if any. Each
    is asked in every form (`address_forms`): a contact is keyed by an internationalised
    domain's Unicode form, while Saleor holds the address as typed, often the ASCII one
    (xn--…), and finds a user by the address as it holds it."""
    asked = [form for a in addresses for form in [a, *sorted(address_forms(a) - {a})]]
    for address in dict.fromkeys(asked):
        data = await services.saleor.execute(
            api_url, token, "subscriptions_user_by_email", {"email": address}
        )
        found = data.get("user")
        if found:
            user = SaleorUser.model_validate(found)
            if user.email.lower() == address:
                return user
    return None


async def _linked_user(
    services: Services, api_url: str, token: SecretStr, user_id: str, states: list[ContactState]
) -> SaleorUser | None:
    """The user linked to the contact before, if it is still this contact's customer.

    After an e-mail change in Mailchimp the customer keeps its old address in Saleor; it is
    the contact's customer as long as it carries the contact's current address, which the app
    wrote on it (`mailchimp.email.<list>`) when it followed that change.
    """
    keys = [EMAIL_PREFIX + s.list_id for s in states]
    data = await services.saleor.execute(
        api_url, token, "subscriptions_user_link", {"id": user_id, "keys": keys}
    )
    found = data.get("user")
    if not found:
        return None
    written = {str(v).lower() for v in (found.get("metafields") or {}).values()}
    if not any(s.email in written for s in states):
        return None
    return SaleorUser.model_validate(found)


async def _moved_customer(
    services: Services, saleor: tuple[str, SecretStr], linked: str | None, addresses: list[str]
) -> tuple[SaleorUser | None, SaleorUser | None]:
    """After the member changed its address in Mailchimp (`upemail`) to `addresses[0]` from
    `addresses[1]`: the contact's customer (the user linked to it, else the one at the old
    address, which it keeps in Saleor), and another user owning the new address, if any. That
    one is never the contact's: anyone can type anyone's address on Mailchimp's profile page,
    and its owner consented to nothing."""
    api_url, token = saleor
    new, old = addresses[0], addresses[1:]
    user: SaleorUser | None = None
    if linked is not None:
        data = await services.saleor.execute(
            api_url, token, "subscriptions_user_link", {"id": linked, "keys": []}
        )
        found = data.get("user")
        user = SaleorUser.model_validate(found) if found else None
    if user is None and old:
        user = await _find_user(services, api_url, token, old)
    owner = await _find_user(services, api_url, token, [new])
    other = owner if owner is not None and (user is None or owner.id != user.id) else None
    return user, other


def _status_keys(
    states: list[ContactState], removed: Set[str], visible: Mapping[str, frozenset[str]]
) -> StatusKeys:
    """The customer's keys of these contacts (`metadata.status_keys`); `removed`: the audiences
    deleted in Mailchimp; `visible`: by audience, the interests a contact may be shown."""
    keys = StatusKeys()
    for s in states:
        if s.status == "none":
            continue
        gone = s.list_id in removed
        keys += status_keys(
            s.list_id,
            status="archived" if gone else s.status,
            email=s.email,
            interests=[] if gone else list(s.interests),
            visible=visible.get(s.list_id, frozenset()),
        )
    return keys


async def handle_write_status(
    job: ClaimedJob, request: StatusWriteBack, services: Services
) -> None:
    installation_id, email = job.installation_id, request.email
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        states = await ContactRepository(session).for_email(installation_id, email)
        if installation is None or not states:
            return
        audiences = AudienceRepository(session)
        removed = frozenset(
            a.list_id for a in await audiences.audiences(installation_id) if a.removed_at
        )
        groups = await audiences.groups(installation_id)
        visible = {s.list_id: visible_interests(groups, s.list_id) for s in states}
        api_url, token = installation.saleor_api_url, installation.app_token
    # A contact held at an old address is the customer's at the address Mailchimp refused
    # (`email_change`); whoever has the old one in Saleor now is someone else, whose own
    # contacts at it (other audiences) are written on them.
    held = {s.held_for: [t for t in states if t.held_for == s.held_for] for s in states}
    for held_for, group in held.items():
        addresses = (
            [held_for]
            if held_for is not None
            else [email] + ([request.lookup_email] if request.lookup_email else [])
        )
        moved = request.moved_in_mailchimp and held_for is None
        await _write(
            services,
            installation_id,
            (api_url, token),
            email,
            addresses,
            group,
            (removed, visible),
            moved,
        )


async def _write(
    services: Services,
    installation_id: int,
    saleor: tuple[str, SecretStr],
    email: str,
    addresses: list[str],
    states: list[ContactState],
    audiences: tuple[Set[str], Mapping[str, frozenset[str]]],
    moved: bool = False,
) -> None:
    """Write these contacts' statuses on the customer found at one of `addresses` (or linked
    to them before), and link them to it; `audiences`: those deleted in Mailchimp, and by
    audience the interests a contact may be shown (`_status_keys`).
    `moved`: after an `upemail` to `addresses[0]` from `addresses[1]` (`_moved_customer`)."""
    api_url, token = saleor
    keys = _status_keys(states, *audiences)
    if not keys.public:
        return
    linked = next((s.saleor_user_id for s in states if s.saleor_user_id), None)
    try:
        if moved:
            user, other = await _moved_customer(services, (api_url, token), linked, addresses)
            if other is not None:
                await record_other_owner(services, installation_id, email, states, other.id)
        else:
            user = await _find_user(services, api_url, token, addresses)
            if linked is not None and (user is None or user.id != linked):
                # The contact's customer (its address written on them: one moved in
                # Mailchimp, `_moved_customer`) over another owner of the address.
                user = await _linked_user(services, api_url, token, linked, states) or user
    except SaleorPermissionDenied as exc:
        await wait_if_token_in_doubt(services, installation_id, exc)  # deactivated?
        logger.warning("Saleor does not let the app look up customers: %s", exc)
        return  # nothing the app can do until it is reinstalled with its permissions
    if user is None:
        return  # a guest: no customer to write on
    if not user.is_confirmed:
        states = [s for s in states if may_write_to(user, s)]
        keys = _status_keys(states, *audiences)
        if not keys.public:
            return
    if await refused_before(services, installation_id, user.id):
        return
    try:
        data = await services.saleor.execute(
            api_url,
            token,
            "subscriptions_write_status",
            {
                "id": user.id,
                "input": [entry.model_dump() for entry in keys.public],
                "privateInput": [entry.model_dump() for entry in keys.private],
            },
        )
    except SaleorPermissionDenied as exc:
        await wait_if_token_in_doubt(services, installation_id, exc)  # deactivated?
        await record_refusal(services, installation_id, email, user.id, user.email, str(exc))
        return
    except SaleorQueryError as exc:
        raise MetadataWriteFailed(f"Saleor refused the customer metadata: {exc}") from exc
    errors = [
        error
        for field in ("updateMetadata", "updatePrivateMetadata")
        for error in (data.get(field) or {}).get("errors") or []
    ]
    if any(e.get("code") == "NOT_FOUND" for e in errors):
        return  # the customer was deleted meanwhile
    if errors:
        raise MetadataWriteFailed(
            "Saleor refused the customer metadata: " + "; ".join(str(e) for e in errors)
        )
    lists = {s.list_id for s in states}
    async with services.db.transaction() as session:
        for state in await ContactRepository(session).for_email(installation_id, email):
            if state.list_id in lists:
                state.saleor_user_id = user.id
