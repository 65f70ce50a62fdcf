"""A store-side subscription change applied to Mailchimp: the `subscriptions.apply` job, in the
contact's lane (one at a time per contact). The rules applied:

* an unsubscribed or cleaned contact is never re-subscribed except by the shopper's own fresh
  consent, and then as `pending` (Mailchimp sends a confirmation e-mail);
* with two-way sync on, a contact changed on both sides since they last agreed is settled by
  the priority setting (Mailchimp wins: the store's change is dropped);
* "Forgotten Email Not Subscribed" is reported on the contact, not retried, and so is an
  address Mailchimp refuses (as fake or invalid, or "for now": signed up to many lists very
  recently; a retry would hold the contact's other changes back);
* a change of an audience deleted in Mailchimp since the last import is dropped, and the
  audiences imported again (`gone_audience`);
* the audience's settings are read when the job runs: a change of one the admin turned off
  meanwhile is not made, but a leaving or a consent withdrawn is (`turned_off`);
* the resulting status is written back to Saleor by a job of its own (`writeback`);
* with the account disconnected (or refusing the app's credentials), a leaving or a withdrawn
  consent waits for the reconnection (`addon.connection.reconnect`), as an erasure does; one
  asked under an account another was connected in place of ends not done, Activity saying so
  (its audience is that account's);
* a withdrawal that finds no member where the app holds one (moved in Mailchimp, its `upemail`
  not in yet) is shown at once and owed until the move is known, the shopper's later changes
  (a sign-up too) waiting with it (`awaiting_move`).

What is sent to Mailchimp for the change is `member_write.write_member`'s.
"""

from __future__ import annotations

import logging
from functools import partial

from addon.audiences.mapping import audience_mappings, merge_specs
from addon.audiences.repository import AudienceRepository
from addon.audiences.service import enqueue_import
from addon.connection.reconnect import (
    RECONNECT_RETRY_SECONDS,
    OwedKind,
    gave_up_reconnecting,
)
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.installations.repository import InstallationRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import (
    AddressRefused,
    ForgottenEmailNotSubscribed,
    InvalidCredentials,
    NotFound,
    ValidationFailed,
)
from addon.services import Services
from addon.subscriptions.awaiting_move import await_move, awaits_move, resume_owed, still_owed
from addon.subscriptions.conflicts import conflict_lost, left_since
from addon.subscriptions.contact_settled import release_hold, settled
from addon.subscriptions.events_waiting import upemail_waiting, withdrawal_waiting
from addon.subscriptions.follow import follow_upemail, followed
from addon.subscriptions.for_now import enqueue_signup_retry, signup_note
from addon.subscriptions.gone_audience import GONE_AUDIENCE, audience_gone
from addon.subscriptions.member_fields import MemberData, change_member_data, report_not_sent
from addon.subscriptions.member_write import (
    MOVE_NOT_TOLD,
    NOT_ADDED,
    Applied,
    refused_address,
    write_member,
)
from addon.subscriptions.models import MEMBER_STATUSES
from addon.subscriptions.owed_withdrawals import (
    WAITING_FOR_CONNECTION,
    for_another_account,
    owed,
    owes,
    withdraws,
)
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import Action, ContactChange
from addon.subscriptions.service import (
    APPLY_JOB,
    double_optin_applies,
    hidden_interests,
    offered_interests,
)
from addon.subscriptions.stale_fields import drop_refused
from addon.subscriptions.stale_groups import LEFT_OUT, chosen_left_out, with_live_groups
from addon.subscriptions.turned_off import (
    ONLY_WITHDRAWAL_SENT,
    gives_more,
    not_made,
    skip_change,
    withdrawal_only,
)
from addon.subscriptions.writeback import enqueue_status_write

logger = logging.getLogger(__name__)

# What the customer panel shows on a contact Mailchimp refuses as "Forgotten Email Not
# Subscribed" (kept by the app in `ContactState.last_problem`).
FORGOTTEN = (
    "Mailchimp has permanently deleted this address (after an erasure made by the store, or "
    "at the contact's own request) and will not let the app subscribe it again. Only the "
    "contact can come back, by signing up through a Mailchimp signup form."
)

# What follows `MOVE_NOT_TOLD` on the contact once the shopper's sign-up, asked while that
# withdrawal waited, is made at the address all the same (`_after_wait`).
MADE_AFTER_MOVE_NOT_TOLD = (
    "The shopper's sign-up, asked while that withdrawal waited, was then made at this address."
)

# What waits for the connected account (`Linking.save` asks before another is connected).
OWED_UNSUBSCRIBES = OwedKind(
    APPLY_JOB,
    "unsubscribe",
    "unsubscribes",
    dropped="whoever left stays subscribed there until someone unsubscribes them",
    owes=owes,
)


async def handle_apply(job: ClaimedJob, change: ContactChange, services: Services) -> None:
    installation_id = job.installation_id
    if await for_another_account(services, job, change):
        return
    if change.awaiting_move:  # owed until a move in Mailchimp is known (`awaiting_move`)
        await resume_owed(services, job, change)
        return
    # (an unproven change links only the contact it makes: `ContactChange.address_proven`)
    follows = change.held_for is not None or change.address_proven
    if follows and await followed(services, installation_id, change):
        return
    if change.move_waited:  # sent on from its wait: a newer choice made where it lands stands
        async with services.db.session() as session:
            newest = await still_owed(session, installation_id, change)
        if newest is None:
            logger.info("A leaving that waited for a move in Mailchimp was superseded")
            return
        change = newest
    async with services.db.session() as session:
        audiences = AudienceRepository(session)
        settings = await audiences.find_settings(installation_id)
        audience = await audiences.audience(installation_id, change.list_id)
        groups = await audiences.groups(installation_id)
        state = await ContactRepository(session).get(installation_id, change.list_id, change.email)
        mailchimp_changed_at = state.mailchimp_changed_at if state else None
        withdrawn_at = state.withdrawn_at if state else None
        held_permissions = set(state.enabled_permissions) if state else set()
        withdrawn_permissions = frozenset(
            str(p["id"])
            for p in (state.marketing_permissions if state else [])
            if not p.get("enabled")
        )
        # Mailchimp moved the member (an `upemail` waits behind this change): with no member
        # at this address, the change follows it (`follow.follow_upemail`).
        moving = (
            follows
            and change.saleor_user_id is not None
            and await upemail_waiting(session, installation_id, change.list_id, change.email)
        )
        awaits = partial(awaits_move, services, installation_id, change, state)
        withdrawal_waits = (
            change.action is Action.SUBSCRIBE
            and change.fresh_consent
            and await withdrawal_waiting(
                session, installation_id, change.list_id, change.email, change.requested_at
            )
        )
        if audience is None or audience.removed_at is not None:
            logger.info("Audience %s is gone; change of a contact dropped", change.list_id)
            return
        # (one sent on from its wait for a move is owed as one, though the record shows it
        # made already: not lost to an audience turned off, nor to a lost connection)
        owed_after_wait = change.move_waited and owed(change)
        skipped = not_made(audience, change, held_permissions) and not owed_after_wait
        left_out = not skipped and gives_more(audience, change, held_permissions)
        change = withdrawal_only(audience, change)
        # As offered now (the admin may have stopped offering a group since the change was
        # asked), and then (one offered since was never shown to whoever chose: it stays).
        offered = [
            i
            for i in offered_interests(groups, change.list_id)
            if change.offered_ids is None or i in change.offered_ids
        ]
        hidden = hidden_interests(groups, change.list_id)
        specs = merge_specs(audience)
        mappings = await audience_mappings(session, installation_id, change.list_id)
        previous_data_tags = list(state.data_tags or []) if state else []
        sent_before = list(state.sent_merge_tags or []) if state else []
        digests_before = dict(state.sent_merge_digests or {}) if state else {}
        held_for = state.held_for if state else None
        installation = await InstallationRepository(session).get(installation_id)
        audience_name = audience.name
        permission_texts = {str(p["id"]): str(p["text"]) for p in audience.marketing_permissions}
        double_optin = double_optin_applies(settings, audience)
        tags = list(settings.tags) if settings and change.action is Action.SUBSCRIBE else []
    if skipped:
        await skip_change(services, job, change, audience_name)
        return

    data = MemberData()
    if change.action is Action.SUBSCRIBE and installation is not None:
        # (a change routed to the customer's contact at another address names theirs)
        customer_address = held_for or change.held_for
        data = await change_member_data(
            services, installation, change, mappings, specs, customer_address
        )

    # (a sign-up that waited with a withdrawal, naming no whole choice of consents, is not
    # owed: it is over without a connection, as any sign-up is)
    withdrawing = withdraws(change, held_permissions) or owed_after_wait
    hours = services.settings.for_now_retry_hours
    stale_fields = False
    gone: set[str] = set()  # offered groups found deleted in Mailchimp (`stale_groups`)
    if left_since(change, withdrawn_at, withdrawal_waits):
        applied = Applied(
            None,
            "The contact left the audience in Mailchimp after this consent was given; that "
            "is kept.",
        )
    elif (
        conflict_lost(change, mailchimp_changed_at, settings) and not withdrawing
    ):  # a consent withdrawn is kept whichever side changed last, as an unsubscribe
        applied = Applied(
            None,
            "The contact was also changed in Mailchimp; Mailchimp's version was kept "
            "(priority: Mailchimp wins).",
        )
    else:
        try:
            async with mailchimp_for(services, installation_id) as client:

                async def write(groups: list[str]) -> Applied:
                    return await write_member(
                        client,
                        change,
                        double_optin=double_optin,
                        offered=groups,
                        hidden=hidden,
                        data=data,
                        specs=specs,
                        tags=tags,
                        previous_data_tags=previous_data_tags,
                        sent_before=sent_before,
                        known_permissions=list(permission_texts),
                        moving=moving,
                        withdrawn=withdrawn_permissions,
                        awaits_move=awaits,
                    )

                try:
                    applied, gone = await with_live_groups(client, change.list_id, offered, write)
                except ValidationFailed as exc:
                    if not drop_refused(exc, data):
                        raise
                    stale_fields = True  # sent again without them (`stale_fields.py`)
                    applied, gone = await with_live_groups(client, change.list_id, offered, write)
                if applied.moved:
                    await follow_upemail(services, installation_id, change)
                    return
                if applied.awaiting_move:
                    async with services.db.transaction() as session:
                        state = await settled(session, installation_id, change)
                        await await_move(session, installation_id, change, state)
                    return
                if chosen_left_out(gone, change.interest_ids):
                    applied.problem = " ".join(p for p in (applied.problem, LEFT_OUT) if p)
        except (NotConnected, InvalidCredentials) as exc:
            if withdrawing and not await gave_up_reconnecting(services, job):
                # Dropped, the shopper would stay subscribed (or consenting) for good.
                raise RetryLater(WAITING_FOR_CONNECTION, RECONNECT_RETRY_SECONDS) from None
            if isinstance(exc, InvalidCredentials):
                raise  # the kind's retries; then not connected
            # A subscription is over all the same: the consent stays with the shopper (and in
            # Saleor's metadata) to give again, and one sent weeks later, to whatever account is
            # connected then, is not what they asked for.
            async with services.db.transaction() as session:
                await settled(session, installation_id, change)
            return
        except NotFound:
            if not await audience_gone(services, installation_id, change.list_id):
                raise
            async with services.db.transaction() as session:
                state = await settled(session, installation_id, change)  # over all the same
                state.last_problem = GONE_AUDIENCE  # the customer panel and Activity say it
            return
        except ForgottenEmailNotSubscribed:
            applied = Applied(
                None,
                # Mailchimp's "Forgotten Email Not Subscribed": the address was deleted for
                # good, by an erasure the store made or at the contact's own request. Which of
                # the two, Mailchimp does not say: nor does this.
                FORGOTTEN,
            )
        except AddressRefused as exc:
            for_now = exc.too_many_signups and change.action is Action.SUBSCRIBE
            later = (
                signup_note(change, hours) if for_now else "The shopper's next change tries again."
            )
            applied = Applied(None, refused_address(exc, later), for_now=for_now)

    now = utcnow()
    async with services.db.transaction() as session:
        state = await settled(session, installation_id, change, member=applied.member is not None)
        state.last_problem = _after_wait(change, state.last_problem, applied)
        if left_out and applied.member is not None and applied.problem is None:  # (sent)
            said = (state.last_problem, ONLY_WITHDRAWAL_SENT)
            state.last_problem = " ".join(p for p in said if p)
        if applied.for_now:
            await enqueue_signup_retry(session, installation_id, change, hours)
        if stale_fields or gone:  # (so no longer offered: `stale_fields`, `stale_groups`)
            await enqueue_import(session, installation_id, scheduled=False)
        if applied.problem is not None:
            logger.info("Contact change not applied (%s): %s", change.source, applied.problem)
        # No member to unsubscribe (its subscription refused "for now", say): the shopper's
        # "no" is dated all the same, so a consent asked before it (that refusal's retry) is
        # never applied after it (`conflicts.left_since`, `for_now`).
        no_member_left = applied.member is None and change.action is Action.UNSUBSCRIBE
        if no_member_left and (state.withdrawn_at or change.requested_at) <= change.requested_at:
            state.withdrawn_at = change.requested_at
        if applied.member is not None:
            member = applied.member
            left_before = state.withdrawn_at
            state.status = member.status
            if change.action is Action.UNSUBSCRIBE and state.withdrawn_at != left_before:
                # The store's own unsubscribe is dated when it was asked, not applied: a consent
                # asked after it (the shopper changing their mind before the worker ran it) is
                # newer than this leaving (`conflicts.left_since`).
                state.withdrawn_at = change.requested_at
            state.interests = sorted(k for k, v in member.interests.items() if v)
            state.tags = sorted({t.name for t in member.tags} | set(tags))
            if applied.data_tags is not None:
                state.data_tags = applied.data_tags
                state.tags = sorted(
                    (set(state.tags) | set(applied.data_tags))
                    - (set(previous_data_tags) - set(applied.data_tags) - set(tags))
                )
            if applied.profile_sent:
                state.profile_digest = data.digest()
            if (
                change.action is Action.SUBSCRIBE
                and applied.problem is None
                and applied.profile_sent
            ):
                # (a problem: perhaps nothing was written, e.g. a contact in compliance state)
                state.sent_merge_tags = data.mapped_sent()
            state.sent_merge_digests = data.sent_digests(
                applied.merge_fields, digests_before, specs
            )
            # A withdrawal not sent (the contact is not in the audience: `NOT_ADDED`) is kept
            # here all the same: the account page and Saleor show what the shopper chose.
            kept = applied.problem == NOT_ADDED and change.permissions_exact
            state.marketing_permissions = [
                {
                    "id": p.marketing_permission_id,
                    "text": p.text or permission_texts.get(p.marketing_permission_id, ""),
                    "enabled": p.enabled
                    and not (kept and p.marketing_permission_id not in change.permission_ids),
                }
                for p in member.marketing_permissions
            ]
            state.synced_at = now
            state.last_change_source = change.source.value
            state.last_change_at = now
        linked = change.address_proven or applied.created  # an unproven one's: if it made it
        if (
            change.saleor_user_id
            and linked
            and (state.held_for is None or change.held_for is not None)
        ):
            # (a contact held for a customer stays theirs, whoever has its address now)
            state.saleor_user_id = change.saleor_user_id
        if applied.not_sent:
            await report_not_sent(
                session,
                installation_id,
                list_id=change.list_id,
                audience_name=audience_name,
                email=change.email,
                problems=applied.not_sent,
            )
        if applied.member is not None and applied.member.status in MEMBER_STATUSES:
            await release_hold(session, installation_id, change)
        # Its own job: a Saleor failure must not repeat the Mailchimp calls above.
        await enqueue_status_write(session, installation_id, change.email)


def _after_wait(change: ContactChange, before: str | None, applied: Applied) -> str | None:
    """The contact's problem once the change ran: its own, but a withdrawal sent on from the
    same wait for a move that reached no one (`MOVE_NOT_TOLD`) stays said, for staff to make by
    hand, when a change that waited with it (the shopper's sign-up, made at the address left)
    runs after it."""
    problem = applied.problem
    kept = change.move_waited and (before or "").startswith(MOVE_NOT_TOLD)
    if not kept or (problem or "").startswith(MOVE_NOT_TOLD):
        return problem
    made = MADE_AFTER_MOVE_NOT_TOLD if applied.created else None
    return " ".join(p for p in (MOVE_NOT_TOLD, made, problem) if p)
