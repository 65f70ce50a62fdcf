"""Mailchimp → store: audience webhooks (registered by `webhook_registration`) received, then
applied by the worker.

The webhook URL carries a per-installation secret (stored encrypted). Only `user` and `admin`
sources are subscribed: changes the app itself makes through the API would only echo back. What
a webhook never brought, the engagement collection's member reads do (`statuses_seen.py`); an
address change received while no account is connected waits for one (`upemail_waits.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import Priority
from addon.audiences.repository import AudienceRepository
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.errors import BadRequest, ErrorCode, Gone, NotFound
from addon.installations.repository import InstallationRepository
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import InvalidCredentials, Member
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.mailchimp.errors import MailchimpError
from addon.privacy.erased import erased_among
from addon.services import Services
from addon.subscriptions.models import WITHDRAWN_STATUSES
from addon.subscriptions.profile_sync import release_held_back
from addon.subscriptions.profile_writeback import enqueue_profile_write
from addon.subscriptions.redelivery import changes_nothing, enqueue_seen_before
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import MailchimpEvent, Source, normalize_email
from addon.subscriptions.upemail_chain import (
    known_nothing,
    member_moved_on,
    moved_in,
    moved_on_to,
    moved_state,
    still_member,
    wait_for_move,
)
from addon.subscriptions.upemail_waits import not_connected
from addon.subscriptions.writeback import contact_lane, enqueue_status_write
from addon.subscriptions.writeback_notes import is_other_owner_note

logger = logging.getLogger(__name__)

EVENT_JOB = "subscriptions.mailchimp_event"
EVENTS = frozenset({"subscribe", "unsubscribe", "profile", "cleaned", "upemail"})
# A contact leaving the audience: applied whatever the priority, even for an audience no
# longer active (in the app's state only), so that activating it again subscribes no one.
LEAVING = frozenset({"unsubscribe", "cleaned"})
# Mailchimp retries a failed delivery only a few times ("we retried three times for the given
# change", its release note of 2021-04-05 on 410 answers), within 75 minutes (`handle_event`):
# an event about an address received later than this after its erasure was fired after it.
LATE_DELIVERY = timedelta(hours=2)
NOT_HELD = "Mailchimp holds no contact at the address in the audience, nor does the app"


def _field(form: dict[str, str], name: str) -> str | None:
    value = form.get(f"data[{name}]")
    return value.strip() if value else None


async def receive_event(
    session: AsyncSession, installation_id: int, secret: str, body: bytes
) -> None:
    """Check the secret, then store the event durably (a job) before Mailchimp gets its 200.

    A delivery to a webhook the app no longer has (an uninstalled app, a secret replaced) is
    answered 410, on which Mailchimp disables the webhook for good ("Returning a 410 from an
    audience webhook will disable it", Mailchimp's release notes, 2021-04-05); any other error
    would be retried, then sent again for every change of the audience."""
    try:
        await check_secret(session, installation_id, secret)
    except NotFound as exc:
        raise Gone(exc.message, code=ErrorCode.UNKNOWN_WEBHOOK) from None
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if any("\x00" in key or "\x00" in value for key, value in form.items()):
        # A `%00` the input guard let through (it reads a body as a form only when it is no JSON).
        raise BadRequest("The webhook's form holds a NUL character.", code=ErrorCode.INVALID_BODY)
    kind = form.get("type", "")
    if kind not in EVENTS:
        return  # e.g. campaign events: not subscribed, nothing to do
    email = _field(form, "old_email") if kind == "upemail" else _field(form, "email")
    list_id = _field(form, "list_id")
    if not email or not list_id:
        raise BadRequest(
            "The webhook has no e-mail address or audience.", code=ErrorCode.INVALID_BODY
        )
    new_email = _field(form, "new_email")
    try:
        email = normalize_email(email)
        new_email = normalize_email(new_email) if new_email else None
    except ValueError:
        # Not from Mailchimp, which sends the addresses its members have: nothing stored, and
        # a 200, as a 4xx would have Mailchimp retry it.
        logger.warning("Mailchimp %s event with an address that is none, ignored", kind)
        return
    audience = await AudienceRepository(session).audience(installation_id, list_id)
    if audience is None or audience.removed_at is not None:
        # Not an audience of this store's account (one of an account connected before, whose
        # webhook the app could not remove): its contacts are not the store's.
        logger.info("Mailchimp %s event of an audience the store does not have, ignored", kind)
        return
    if not audience.active and kind not in LEAVING:
        # Deactivated: its webhook is deleted, but Mailchimp retries an earlier delivery for
        # 75 minutes. A leaving is still recorded (`handle_event`), nothing else.
        logger.info("Mailchimp %s event of an audience no longer active, ignored", kind)
        return
    now = utcnow()
    # The address the event is about (an address change's old one): a new address the person
    # gives is theirs to give, even one erased before.
    erased = await erased_among(session, installation_id, [email])
    if erased and now - max(erased.values()) <= LATE_DELIVERY:
        # Likely a change made before the address was erased, delivered late: applied, it would
        # bring the address back into the app's tables (and its status into Saleor); Mailchimp
        # has deleted the member already. Told apart by when it arrives, not by its `fired_at`,
        # whose time zone Mailchimp does not document: a re-subscription through the audience's
        # form in those two hours is not recorded by the app (Mailchimp has it). One arriving
        # later applies as any other.
        logger.info("Mailchimp %s event about an address erased just before, ignored", kind)
        return
    state = await ContactRepository(session).get_or_create(installation_id, list_id, email)
    event = MailchimpEvent(
        type=kind,
        fired_at=form.get("fired_at", ""),
        list_id=list_id,
        email=email,
        new_email=new_email,
        reason=_field(form, "reason"),
        action=_field(form, "action"),
        received_at=now,
        base_synced_at=state.synced_at,
    )
    taken = await JobRepository(session).enqueue(
        installation_id,
        EVENT_JOB,
        event.model_dump(mode="json"),
        dedupe_key=hashlib.sha256(body).hexdigest(),
        lane=contact_lane(email),
    )
    if taken is not None:
        # Recorded at receipt, so the priority rules see it whatever order the jobs run in.
        state.mailchimp_changed_at = now
    else:
        # A retry, or the same change again within the second of `fired_at` (`redelivery`).
        await enqueue_seen_before(session, installation_id, EVENT_JOB, event)


async def check_secret(session: AsyncSession, installation_id: int, secret: str) -> None:
    settings = await AudienceRepository(session).find_settings(installation_id)
    stored = settings.webhook_secret if settings is not None else None
    installation = await InstallationRepository(session).get(installation_id)
    if installation is None or installation.uninstalled_at is not None:
        stored = None  # uninstalled, erased once its Mailchimp cleanup is done
    # As bytes: compare_digest refuses str with non-ASCII characters (a made-up secret in the
    # URL would otherwise be a 500).
    if stored is None or not hmac.compare_digest(
        stored.get_secret_value().encode(), secret.encode()
    ):
        raise NotFound("Unknown webhook.", code=ErrorCode.UNKNOWN_WEBHOOK)


async def handle_event(job: ClaimedJob, event: MailchimpEvent, services: Services) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        audiences = AudienceRepository(session)
        settings = await audiences.find_settings(installation_id)
        audience = await audiences.audience(installation_id, event.list_id)
        state = await ContactRepository(session).get(installation_id, event.list_id, event.email)
        store_changed_at = state.store_changed_at if state else None
        unknown = known_nothing(state)
        if event.seen_before and changes_nothing(event, state):
            logger.info("Mailchimp %s delivered again, the contact has it already", event.type)
            return
        await wait_for_move(session, installation_id, event, state, EVENT_JOB)
    compliance = event.type in LEAVING
    # Checked again here: the audience may have been deactivated (or removed) since receipt.
    active = audience is not None and audience.removed_at is None and audience.active
    gone = audience is None or audience.removed_at is not None
    if gone or (not active and not compliance):
        logger.info("Mailchimp %s event of an audience no longer active, ignored", event.type)
        async with services.db.transaction() as session:
            await drop_event(session, installation_id, event, "its audience is not active")
        return
    store_wins = settings is not None and settings.priority is Priority.STORE_WINS
    store_pending = store_changed_at is not None and (
        event.base_synced_at is None or store_changed_at > event.base_synced_at
    )
    moving = event.type == "upemail" and event.new_email is not None
    if store_wins and store_pending and not compliance and not moving:
        # The store's own change of this contact is pushed (or was) and wins. Not over an
        # address change: where the member now is, is no competing edit, and a store change
        # that found no member at the old address follows it there (`apply`, `follow`).
        async with services.db.transaction() as session:
            state = await ContactRepository(session).get_or_create(
                installation_id, event.list_id, event.email
            )
            state.last_problem = (
                f"Mailchimp's {event.type} change was overridden by the store's "
                "(priority: store wins)."
            )
        return

    email = event.new_email if moving and event.new_email else event.email
    member: Member | None = None
    stale = no_member = False
    try:
        async with mailchimp_for(services, installation_id) as client:
            try:
                member = await client.get_member(event.list_id, email)
            except MailchimpNotFound:
                # Moved on since (B→C delivered before A→B): to where the member is now.
                found = (
                    await member_moved_on(
                        services, client, installation_id, event.list_id, email, EVENT_JOB
                    )
                    if moving
                    else None
                )
                if found is None:
                    raise
                email, member = found
            stale = (
                moving
                and event.new_email != event.email
                and await still_member(client, event.list_id, event.email)
            )
    except (NotConnected, InvalidCredentials):
        why = await not_connected(services, job, event)  # an address change waits for it
        if not compliance or event.seen_before:
            async with services.db.transaction() as session:
                await drop_event(session, installation_id, event, why)
            return
    except MailchimpNotFound:
        member, no_member = None, True
    except MailchimpError as exc:
        if event.type != "unsubscribe" or event.seen_before:
            # Retried by the worker (an outage: `jobs.retry.in_outage`). A bounce is no one's
            # wish, and may be of an address the member has left (`upemail_chain`): written
            # unread, it would mark a customer Mailchimp still mails as cleaned.
            raise
        # An unsubscribe's word stands: the person's refusal is never held up by a failed read.
        logger.info("Mailchimp %s applied without a member read: %s", event.type, exc)
        member = None
    if moving and (member is None or stale):
        # Forged, or stale (changed again since): Mailchimp's member wins, as for the other
        # events. None at the new address, or still one at the old: it did not move, nor
        # does the contact (a read that failed otherwise was raised, to be retried).
        why = "its old address is still a member" if stale else "its new address is no member"
        logger.info("Mailchimp upemail not applied: %s", why)
        async with services.db.transaction() as session:
            await drop_event(session, installation_id, event, why)
        return
    # A bounced member read archived is cleaned no longer (Mailchimp archives no cleaned one:
    # `member_move.NOT_ARCHIVED`).
    archived = member is not None and member.status == "archived" and event.type == "cleaned"
    absent = no_member or archived
    if compliance and absent and unknown:
        # No member at the address, nor a contact the app knows there: one that moved away
        # (`upemail`) was cleaned or left before; written, it would mark its customer as left.
        # A bounce of an address its customer left in the store (`member_move`), fired before
        # the move: nothing there bounced in Mailchimp now, and a `cleaned` row of no one's
        # would answer a later sign-up there (anyone's) as bounced.
        async with services.db.transaction() as session:
            moved_to = await moved_on_to(session, installation_id, event, EVENT_JOB)
            if moved_to is not None or event.type == "cleaned":
                why = f"its member had moved to {moved_to} before" if moved_to else NOT_HELD
                await drop_event(session, installation_id, event, why)
                return
    # Mailchimp retries a failed delivery for 75 minutes, so an unsubscribe or a bounce may
    # arrive after the contact subscribed again (beabee's webhook handler re-reads the member
    # "in case it has changed since the webhook was sent"): the member as Mailchimp holds it
    # now wins over the event's word; a member gone (404), or unreadable for an unsubscribe,
    # leaves the event's. A body seen before is the member's word alone (`redelivery`).
    back = (
        member is not None
        and compliance
        and (event.seen_before or member.status in ("subscribed", "pending"))
    )
    now = utcnow()
    async with services.db.transaction() as session:
        contacts = ContactRepository(session)
        state = await contacts.get_or_create(installation_id, event.list_id, event.email)
        if event.type == "upemail" and event.new_email:
            # The contact keeps its customer: move its state to the new address (where the
            # member is now: a later change may have moved it on).
            state = await moved_state(session, state, email)
            state.held_for = None  # an address given in Mailchimp ends a hold (`email_change`)
        before = state.status
        if back and member is not None:
            state.status = member.status
        elif event.type == "unsubscribe":
            # `data[action]` says whether the contact unsubscribed ("unsub") or was deleted
            # (Mailchimp's guide "Synchronize Audience Data with Webhooks", the unsubscribe
            # payload; a logged delivery at https://pastebin.com/XcnR3qYd shows "delete" with
            # reason "manual" when an admin removed a contact): deleted, the contact left the
            # audience without refusing it, so staff may add them again; but one who had
            # unsubscribed or bounced keeps that (an admin's clean-up is not their consent).
            if event.action != "delete":
                state.status = "unsubscribed"
            elif state.status not in ("unsubscribed", "cleaned"):
                state.status = "archived"
        elif event.type == "cleaned":
            state.status = "cleaned"
        elif member is not None:
            state.status = member.status
            state.interests = sorted(k for k, v in member.interests.items() if v)
            state.tags = sorted(t.name for t in member.tags)
            state.marketing_permissions = [
                {"id": p.marketing_permission_id, "text": p.text, "enabled": p.enabled}
                for p in member.marketing_permissions
            ]
        if state.status != before and state.status in WITHDRAWN_STATUSES:
            # Dated when it happened (received), not when applied: a consent given meanwhile
            # is newer (`consent.py`, `conflicts.left_since`).
            state.withdrawn_at = event.received_at
        state.synced_at = now
        state.last_change_source = Source.MAILCHIMP.value
        state.last_change_at = now
        if not moving or is_other_owner_note(state.last_problem):
            # A move keeps the note: a store change that found no member at the old address
            # says so (or follows the contact, `follow`), and a new address another customer
            # owns is noted by the status write-back (its note of the address left is dropped).
            state.last_problem = None
        if moving:  # what waited for the member where it moved
            await moved_in(session, event, state, EVENT_JOB)
        if active and (settings is None or settings.two_way):
            # Its own job: a Saleor failure must not repeat the Mailchimp call above. Not for
            # an audience no longer active: its leaving is recorded only here.
            await enqueue_status_write(
                session,
                installation_id,
                email,
                lookup_email=event.email,
                moved_in_mailchimp=event.type == "upemail",
            )
        if (
            # An address changed in Mailchimp may come with a profile change, whose event can
            # arrive first and find no customer at the new address: the move brings it too.
            event.type in ("profile", "upemail")
            and active
            and member is not None
            and settings is not None
            and settings.two_way
            and settings.priority is Priority.MAILCHIMP_WINS
        ):
            # Mailchimp wins: the mapped fields (only those) go back to the customer.
            await enqueue_profile_write(
                session,
                installation_id,
                email=email,
                list_id=event.list_id,
                merge_fields=member.merge_fields,
                # As they stood when the member was read: what Mailchimp holds of them is no
                # change of Mailchimp's (a profile event carries every field).
                sent=dict(state.sent_merge_digests or {}),
                # The customer keeps its old address in Saleor (as the status write-back).
                lookup_email=event.email if event.type == "upemail" else None,
            )
        # A customer update held back while this change waited (`profile_sync`) goes now,
        # after the write-backs queued above (not on Saleor's echo of them: none is handed on).
        await release_held_back(session, state)


async def drop_event(
    session: AsyncSession, installation_id: int, event: MailchimpEvent, why: str
) -> None:
    """A Mailchimp change that will not be applied (its job gave up, or no account is
    connected) no longer counts as pending, unless a later one is: else every customer update
    of the contact would be held back, and its store changes lost to the priority rules, for
    good. A customer update held back meanwhile goes now."""
    # Locked: an event received meanwhile (its mark set in a request, outside the contact's
    # lane) is seen, never overwritten.
    contacts = ContactRepository(session)
    state = await contacts.get(installation_id, event.list_id, event.email, for_update=True)
    changed = state.mailchimp_changed_at if state is not None else None
    if state is None or changed is None or changed > event.received_at:
        return
    state.mailchimp_changed_at = None
    state.last_problem = f"Mailchimp's {event.type} change was not applied: {why.rstrip('.')}."
    await release_held_back(session, state)


async def event_failed(
    session: AsyncSession, job: ClaimedJob, event: MailchimpEvent, failure: Failure
) -> None:
    """`on_failure` of the event job: given up, the change is dropped (`drop_event`)."""
    if failure.gave_up:
        await drop_event(session, job.installation_id, event, failure.reason)
