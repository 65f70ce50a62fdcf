"""A Saleor customer's new e-mail address: their audience contacts move to it.

Saleor sends CUSTOMER_UPDATED for any change of a customer (a staff `customerUpdate` included)
and, when the customer confirms a new address themselves, ACCOUNT_EMAIL_CHANGED too
(saleor/graphql/account/mutations/account/confirm_email_change.py). Neither carries the old
address (ACCOUNT_EMAIL_CHANGED's `newEmail` is even left null), so the app keeps the address it
last saw for each customer (`customer_addresses.py`) and moves what was under the previous one.
The e-commerce push queues the move too when Mailchimp refuses the customer's new address
(`addon.ecommerce.email_change`), naming the address Mailchimp held.

The move, in every audience the old address is a member of:

* the new address is not a member: `PATCH /lists/{id}/members/{old hash}` with the new
  `email_address` (Mailchimp keeps status, groups, tags and marketing permissions), which
  Mailchimp allows for a subscribed member only; any other joins at the new address as it
  stood (`_carry`);
* it is one already: the stronger consent is kept and the old member's groups, tags and
  permissions are added to it; an unsubscribed or cleaned new address is never subscribed
  again, and the old address's unsubscribe follows the customer to a new address that only
  the e-commerce API added (`transactional`). The old member is archived unless Mailchimp
  keeps it as unsubscribed or cleaned. Activity says what was kept.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.jobs.completion import complete_in
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.mailchimp import (
    AddressRefused,
    MailchimpClient,
    Member,
    MemberExists,
    MemberPatch,
    MemberUpsert,
    NotFound,
    TagUpdate,
    ValidationFailed,
)
from addon.mailchimp.models import MarketingPermissionInput
from addon.saleor.schemas import UserEventBody
from addon.services import Services
from addon.subscriptions.customer_addresses import CustomerAddress
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB, EmailMove, enqueue_email_move
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import Source
from addon.subscriptions.service import refused_address
from addon.subscriptions.writeback import enqueue_status_write

logger = logging.getLogger(__name__)

WEBHOOK_SLUG = "subscriptions-email-changed"
# Done on arrival: an Activity entry saying what a move kept when the new address was a
# contact already (its text in `last_error`, as the Activity page shows a row's text).
MERGED_NOTE = "subscriptions.email_change_merged"
REFUSED_NOTE = "subscriptions.email_change_refused"  # Mailchimp refused the new address

COMPLIANCE = ("unsubscribed", "cleaned")
NO_CONSENT_OF_ITS_OWN = ("transactional", "archived")  # e.g. added by the e-commerce API


EmailChangedEvent = WebhookJob[UserEventBody]


# --- the webhook: which addresses did this user have ----------------------------------------


async def moved_from(
    session: AsyncSession, installation_id: int, user_id: str, new: str
) -> set[str]:
    """The addresses to move to `new`, and the customer's address recorded as `new`.

    The address the app last saw for the customer in Saleor, when it changed. Before the app
    has seen the customer (no record yet), the contacts linked to them under another address,
    except those Mailchimp gave that address (its own e-mail change, followed by two-way sync:
    the customer keeps their Saleor address on purpose)."""
    seen = (
        await session.execute(
            select(CustomerAddress).where(
                CustomerAddress.installation_id == installation_id,
                CustomerAddress.saleor_user_id == user_id,
            )
        )
    ).scalar_one_or_none()
    if seen is not None:
        previous, seen.email = seen.email, new
        return {previous} if previous != new else set()
    session.add(CustomerAddress(installation_id=installation_id, saleor_user_id=user_id, email=new))
    contacts = await session.execute(
        select(ContactState.email, ContactState.last_change_source).where(
            ContactState.installation_id == installation_id,
            ContactState.saleor_user_id == user_id,
        )
    )
    return {
        email.lower()
        for email, source in contacts.all()
        if email.lower() != new and source != Source.MAILCHIMP.value
    }


async def on_customer_changed(
    job: ClaimedJob, event: EmailChangedEvent, services: Services
) -> None:
    user = event.body.user
    async with services.db.transaction() as session:
        await complete_in(session)
        if user is None or not user.email:
            return
        new = user.email.strip().lower()
        for old in sorted(await moved_from(session, job.installation_id, user.id, new)):
            await enqueue_email_move(
                session,
                job.installation_id,
                EmailMove(old_email=old, new_email=new, saleor_user_id=user.id),
            )


# --- the move, in one audience ----------------------------------------------------------------


@dataclass
class Moved:
    """What the move did in one audience."""

    member: Member | None = None  # the new address's member afterwards (None: nothing moved)
    note: str | None = None  # for Activity, when the new address was a contact already
    refused: bool = False  # Mailchimp refused the new address: the contact stays (`note`)


def _kept_status(old: str, new: str) -> str | None:
    """The status the new address's member takes (None: it keeps its own)."""
    if new in COMPLIANCE:
        return None  # an e-mail change never subscribes an unsubscribed or cleaned address
    if old == "unsubscribed" and new in NO_CONSENT_OF_ITS_OWN:
        return "unsubscribed"  # the customer's unsubscribe follows them
    if old == "subscribed" and new != "subscribed":
        return "subscribed"
    if old == "pending" and new in NO_CONSENT_OF_ITS_OWN:
        return "pending"
    return None


async def _merge(
    client: MailchimpClient, list_id: str, name: str, old: Member, new: Member
) -> Moved:
    status = _kept_status(old.status, new.status)
    interests = {i: True for i, on in old.interests.items() if on and not new.interests.get(i)}
    enabled = {p.marketing_permission_id for p in new.marketing_permissions if p.enabled}
    permissions = [
        MarketingPermissionInput(marketing_permission_id=p.marketing_permission_id, enabled=True)
        for p in old.marketing_permissions
        if p.enabled and p.marketing_permission_id not in enabled
    ]
    member = new
    if status is not None or interests or permissions:
        fields = {
            "interests": interests or None,
            "marketing_permissions": permissions or None,
        }
        if new.status == "archived":
            target = status or old.status
            member = await client.upsert_member(
                list_id,
                MemberUpsert(
                    email_address=new.email_address, status_if_new=target, status=target, **fields
                ),
            )
        else:
            member = await client.update_member(
                list_id, new.email_address, MemberPatch(status=status, **fields)
            )
    missing_tags = {t.name for t in old.tags} - {t.name for t in new.tags}
    if missing_tags:
        await client.update_member_tags(
            list_id, new.email_address, [TagUpdate(name=t) for t in sorted(missing_tags)]
        )
    if old.status not in COMPLIANCE:
        with contextlib.suppress(NotFound):
            await client.archive_member(list_id, old.email_address)
    note = None
    if new.status not in NO_CONSENT_OF_ITS_OWN:
        kept = member.status
        why = (
            "an e-mail change never subscribes an unsubscribed or cleaned address again"
            if new.status in COMPLIANCE and old.status in ("subscribed", "pending")
            else "the stronger consent of the two was kept"
        )
        note = (
            f"A customer's e-mail address changed from {old.email_address} to "
            f"{new.email_address}, which was already a contact of {name} ({new.status}; the "
            f"old address was {old.status}). The contact stays {kept}: {why}. Its groups, "
            "tags and marketing permissions now include the old address's."
        )
    return Moved(member, note)


async def move_member(
    client: MailchimpClient, list_id: str, name: str, old_email: str, new_email: str
) -> Moved:
    try:
        old = await client.get_member(list_id, old_email)
    except NotFound:
        return Moved()
    if old.status == "archived":
        return Moved()
    try:
        new: Member | None = await client.get_member(list_id, new_email)
    except NotFound:
        new = None
    if new is None:
        if old.status != "subscribed":
            return await _carry(client, list_id, name, old, new_email)
        try:
            patch = MemberPatch(email_address=new_email)
            return Moved(await client.update_member(list_id, old_email, patch))
        except (MemberExists, ValidationFailed) as exc:
            # Added meanwhile (e.g. by the e-commerce customer's re-creation): Mailchimp says
            # '"x" is already in this list with a status of "y".' (brandonseydel/MailChimp.Net#201)
            if not isinstance(exc, MemberExists) and not _taken(exc):
                raise
            new = await client.get_member(list_id, new_email)
    return await _merge(client, list_id, name, old, new)


def _taken(exc: ValidationFailed) -> bool:
    return any("is already in this list" in message for message in exc.field_errors.values())


# What a contact that is not subscribed becomes at the new address: Mailchimp changes the
# address of a subscribed member only ('This member's status is "cleaned." You can only update
# email addresses for members with a status of "subscribed."', ibericode/mailchimp-user-sync#96).
CARRIED = {"unsubscribed": "unsubscribed", "pending": "pending", "transactional": "transactional"}


async def _carry(
    client: MailchimpClient, list_id: str, name: str, old: Member, new_email: str
) -> Moved:
    """The new address joins as the old one stood (an unsubscribe follows the customer, a
    pending contact confirms at the new address), with its groups, tags and permissions; the
    old member is archived unless Mailchimp keeps it (unsubscribed). A cleaned address bounced:
    nothing of it goes to another. `status_if_new` only: a contact added meanwhile keeps its
    own status, and the two are merged as any two contacts."""
    status = CARRIED.get(old.status)
    if status is None:
        return Moved()
    interests = {i: True for i, on in old.interests.items() if on}
    permissions = [
        MarketingPermissionInput(marketing_permission_id=p.marketing_permission_id, enabled=True)
        for p in old.marketing_permissions
        if p.enabled
    ]
    member = await client.upsert_member(
        list_id,
        MemberUpsert(
            email_address=new_email,
            status_if_new=status,
            interests=interests or None,
            marketing_permissions=permissions or None,
        ),
    )
    if member.status != status:  # added meanwhile (the e-commerce customer, say)
        return await _merge(client, list_id, name, old, member)
    if old.tags:
        await client.update_member_tags(
            list_id, new_email, [TagUpdate(name=t) for t in sorted({t.name for t in old.tags})]
        )
    if old.status not in COMPLIANCE:
        with contextlib.suppress(NotFound):
            await client.archive_member(list_id, old.email_address)
    return Moved(member)


# --- the job --------------------------------------------------------------------------------


def _state_of(member: Member, texts: dict[str, str]) -> dict[str, object]:
    return {
        "status": member.status,
        "interests": sorted(k for k, v in member.interests.items() if v),
        "tags": sorted(t.name for t in member.tags),
        "marketing_permissions": [
            {
                "id": p.marketing_permission_id,
                "text": p.text or texts.get(p.marketing_permission_id, ""),
                "enabled": p.enabled,
            }
            for p in member.marketing_permissions
        ],
    }


async def handle_move(job: ClaimedJob, move: EmailMove, services: Services) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        audiences = [
            a
            for a in await AudienceRepository(session).audiences(installation_id)
            if a.removed_at is None
        ]
    results: dict[str, Moved] = {}
    try:
        async with mailchimp_for(services, installation_id) as client:
            for audience in audiences:
                try:
                    results[audience.list_id] = await move_member(
                        client, audience.list_id, audience.name, move.old_email, move.new_email
                    )
                except AddressRefused as exc:
                    # Mailchimp refuses the new address (as fake, or "for now"): the contact
                    # stays at the old address in this audience, the others still move, and
                    # Activity says so (not retried: see `service.refused_address`).
                    note = (
                        f"Not moved in “{audience.name}”: "
                        f"{refused_address(exc)} The contact keeps {move.old_email} there."
                    )
                    results[audience.list_id] = Moved(note=note, refused=True)
    except NotConnected:
        results = {}  # Mailchimp is not connected: the app's own records still follow
    texts = {
        a.list_id: {str(p["id"]): str(p["text"]) for p in a.marketing_permissions}
        for a in audiences
    }
    now = utcnow()
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(ContactState).where(
                ContactState.installation_id == installation_id,
                ContactState.email.in_([move.old_email, move.new_email]),
            )
        )
        by_list: dict[str, dict[str, ContactState]] = {}
        for found in rows:
            by_list.setdefault(found.list_id, {})[found.email] = found
        for list_id in set(by_list) | {k for k, v in results.items() if v.member}:
            pair = by_list.get(list_id, {})
            old_row, new_row = pair.get(move.old_email), pair.get(move.new_email)
            if list_id in results and results[list_id].refused:
                if old_row is not None:
                    old_row.last_problem = results[list_id].note
                continue
            row = new_row or old_row
            if row is None:
                row = ContactState(
                    installation_id=installation_id, list_id=list_id, email=move.new_email
                )
                session.add(row)
            if old_row is not None and new_row is not None:
                row.saleor_user_id = new_row.saleor_user_id or old_row.saleor_user_id
                await session.delete(old_row)
                await session.flush()
            row.email = move.new_email
            if move.saleor_user_id:
                row.saleor_user_id = move.saleor_user_id
            moved = results.get(list_id)
            if moved is not None and moved.member is not None:
                for key, value in _state_of(moved.member, texts.get(list_id, {})).items():
                    setattr(row, key, value)
                row.synced_at = now
                row.last_problem = None
        for moved in results.values():
            if moved.note:
                kind = REFUSED_NOTE if moved.refused else MERGED_NOTE
                await _record_note(session, installation_id, move, moved.note, kind)
        await enqueue_status_write(
            session, installation_id, move.new_email, lookup_email=move.old_email
        )


async def _record_note(
    session: AsyncSession, installation_id: int, move: EmailMove, note: str, kind: str
) -> None:
    logger.info("E-mail change noted (%s)", kind)
    job_id = await JobRepository(session).enqueue(
        installation_id,
        kind,
        {"email": move.new_email, "old_email": move.old_email},
        status=JobStatus.DONE,
    )
    if job_id is not None:
        await session.execute(update(Job).where(Job.id == job_id).values(last_error=note))


def register(registry: HandlerRegistry[Services]) -> None:
    from addon.installations.webhooks import webhook_job_kind

    registry.register(
        webhook_job_kind(WEBHOOK_SLUG), on_customer_changed, payload=EmailChangedEvent
    )
    registry.register(EMAIL_CHANGE_JOB, handle_move, payload=EmailMove)


__all__ = ["EMAIL_CHANGE_JOB", "MERGED_NOTE", "register"]
