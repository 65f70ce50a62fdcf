"""A store-side subscription change applied to Mailchimp: the `subscriptions.apply` job, in the
contact's lane (one at a time per contact). The rules applied:

* an unsubscribed or cleaned contact is never re-subscribed except by the shopper's own fresh
  consent, and then as `pending` (Mailchimp sends a confirmation e-mail);
* with two-way sync on, a contact changed on both sides since they last agreed is settled by
  the priority setting (Mailchimp wins: the store's change is dropped);
* "Forgotten Email Not Subscribed" is reported on the contact, not retried, and so is an
  address Mailchimp refuses (as fake or invalid, or "for now": signed up to many lists very
  recently; a retry would hold the contact's other changes back);
* the resulting status is written back to Saleor by a job of its own (`writeback`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.mapping import audience_mappings, merge_specs
from addon.audiences.merge_values import MergeFieldSpec
from addon.audiences.repository import AudienceRepository
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.installations.repository import InstallationRepository
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import (
    AddressRefused,
    ForgottenEmailNotSubscribed,
    MailchimpClient,
    Member,
    MemberInComplianceState,
    MemberPatch,
    MemberUpsert,
    NotFound,
    TagUpdate,
)
from addon.mailchimp.models import MarketingPermissionInput
from addon.services import Services
from addon.subscriptions.conflicts import conflict_lost, left_since
from addon.subscriptions.email_move import EmailMove, enqueue_email_move
from addon.subscriptions.for_now import enqueue_signup_retry, signup_note
from addon.subscriptions.mailchimp_hooks import withdrawal_waiting
from addon.subscriptions.models import MEMBER_STATUSES
from addon.subscriptions.profile import (
    MemberData,
    change_member_data,
    missing_required,
    report_not_sent,
)
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import Action, ContactChange, Source
from addon.subscriptions.service import (
    APPLY_JOB,
    COMPLIANCE_STATES,
    double_optin_applies,
    offered_interests,
)
from addon.subscriptions.stale_groups import LEFT_OUT, with_live_groups
from addon.subscriptions.writeback import contact_lane, enqueue_status_write

logger = logging.getLogger(__name__)


@dataclass
class Applied:
    member: Member | None = None
    problem: str | None = None
    # Mapped values left out (or required ones missing), for Activity.
    not_sent: list[str] = field(default_factory=list)
    # The tags from customer data now on the member (None: unchanged).
    data_tags: list[str] | None = None
    # Mailchimp refused the address of a subscription "for now": asked again later.
    for_now: bool = False
    # The mapped merge fields went with it (not so for the public signup form's change of a
    # contact already in the audience): what the contact's record says was sent.
    profile_sent: bool = True


async def _to_mailchimp(
    client: MailchimpClient,
    change: ContactChange,
    *,
    double_optin: bool,
    offered: list[str],
    data: MemberData,
    specs: list[MergeFieldSpec],
    tags: list[str],
    previous_data_tags: list[str],
    sent_before: list[str],
) -> Applied:
    list_id, email = change.list_id, change.email
    try:
        current: Member | None = await client.get_member(list_id, email)
    except NotFound:
        current = None
    interests = (
        None
        if change.interest_ids is None or not offered
        else {i: i in change.interest_ids for i in offered}
    )
    if change.action is Action.UNSUBSCRIBE:
        if current is None or current.status not in ("subscribed", "pending"):
            return Applied(current)
        patch = MemberPatch(status="unsubscribed")
        return Applied(await client.update_member(list_id, email, patch))
    if change.action is Action.SET_GROUPS:
        if current is None or current.status == "archived":
            return Applied(None, "This customer is not a contact of the audience yet.")
        if interests is None:
            return Applied(current)
        return Applied(await client.update_member(list_id, email, MemberPatch(interests=interests)))

    target = "pending" if double_optin else "subscribed"
    merges = dict(data.merge_fields) or None
    permissions = [
        MarketingPermissionInput(marketing_permission_id=p, enabled=True)
        for p in change.permission_ids
    ] or None
    fields: dict[str, Any] = {
        "merge_fields": merges,
        "interests": interests,
        "marketing_permissions": permissions,
        "language": data.language,
    }
    previous = current.status if current is not None else None
    if previous in COMPLIANCE_STATES and not change.fresh_consent:
        return Applied(
            current,
            f"The contact is {previous} in Mailchimp; only the shopper's own consent can "
            "subscribe them again, so nothing was changed.",
        )
    not_sent = list(data.problems)
    profile_sent = True
    try:
        if current is None or previous in ("archived", "transactional"):
            # A new (or re-added) contact lacking a required field is still added (Mailchimp's
            # skip_merge_validation), and the missing field reported, never made up; a value
            # the contact holds already counts.
            held = dict(current.merge_fields) if current is not None else {}
            not_sent += missing_required(specs, {**held, **data.merge_fields})
            upsert = MemberUpsert(
                email_address=email, status_if_new=target, status=target, **fields
            )
            member = await client.upsert_member(list_id, upsert)
        elif change.source is Source.STOREFRONT and previous in ("subscribed", "pending"):
            # The public signup form proves nothing of who typed the address (Mailchimp's own
            # forms answer an address already in the audience with a link to update the
            # profile, never a change): it adds the groups chosen, and leaves the contact's
            # names, other groups and consents as they are.
            added = {i: True for i in change.interest_ids or [] if i in offered}
            member = (
                await client.update_member(list_id, email, MemberPatch(interests=added))
                if any(not current.interests.get(i) for i in added)
                else current
            )
            profile_sent = False
        else:
            # An existing contact: a value the app filled and the customer removed is cleared.
            fields["merge_fields"] = data.merge_fields_clearing(sent_before) or None
            # Mailchimp's rule: a fresh opt-in of an unsubscribed contact is confirmed by e-mail.
            status = {"status": "pending"} if previous in COMPLIANCE_STATES else {}
            member = await client.update_member(list_id, email, MemberPatch(**status, **fields))
    except MemberInComplianceState:
        if not change.fresh_consent:
            return Applied(
                current,
                "The contact is unsubscribed in Mailchimp; only the shopper's own consent can "
                "subscribe them again, so nothing was changed.",
            )
        refused = Applied(
            current,
            f"Mailchimp keeps this contact {previous or 'out of the audience'} and refused to "
            "ask them to confirm a new subscription; they can subscribe again through "
            "Mailchimp's own signup form.",
        )
        if previous in COMPLIANCE_STATES:
            # The confirmation by e-mail was what Mailchimp refused: asking again cannot help.
            return refused
        try:
            member = await client.update_member(
                list_id, email, MemberPatch(status="pending", **fields)
            )
        except MemberInComplianceState:
            return refused
    updates = [TagUpdate(name=t) for t in tags]
    data_tags = None
    if data.tags is not None:
        data_tags = data.tags
        updates += [TagUpdate(name=t) for t in data.tags if t not in tags]
        updates += [
            TagUpdate(name=t, status="inactive")
            for t in previous_data_tags
            if t not in data.tags and t not in tags
        ]
    if updates:
        await client.update_member_tags(list_id, email, updates)
    return Applied(member, not_sent=not_sent, data_tags=data_tags, profile_sent=profile_sent)


def refused_address(exc: AddressRefused, later: str) -> str:
    """What the contact says of an address Mailchimp refuses; `later`: when a subscription
    refused "for now" (too many signups) is asked again (`for_now.py`)."""
    if exc.too_many_signups:
        return (
            "Mailchimp refused this address for now: it signed up to many audiences very "
            f"recently (Mailchimp's guard against signup abuse). {later}"
        )
    return (
        "Mailchimp refused this address as fake or invalid; it cannot be subscribed until the "
        "customer gives a real address."
    )


async def _followed(services: Services, installation_id: int, change: ContactChange) -> bool:
    """A change sent to the customer's held contact, which moved before it ran (the customer's
    next address change released it): it follows the contact, in its new lane."""
    async with services.db.transaction() as session:
        contacts = ContactRepository(session)
        state = await contacts.get(installation_id, change.list_id, change.email)
        if state is not None and state.held_for == change.held_for:
            return False
        user_id = change.saleor_user_id
        moved = (
            await contacts.of_user(installation_id, change.list_id, user_id) if user_id else None
        )
        if moved is None or moved.email == change.email:
            return False
        followed = change.model_copy(update={"email": moved.email, "held_for": None})
        await JobRepository(session).enqueue(
            installation_id,
            APPLY_JOB,
            followed.model_dump(mode="json"),
            lane=contact_lane(moved.email),
        )
        return True


async def handle_apply(job: ClaimedJob, change: ContactChange, services: Services) -> None:
    installation_id = job.installation_id
    if change.held_for is not None and await _followed(services, installation_id, change):
        return
    async with services.db.session() as session:
        audiences = AudienceRepository(session)
        settings = await audiences.find_settings(installation_id)
        audience = await audiences.audience(installation_id, change.list_id)
        groups = await audiences.groups(installation_id)
        state = await ContactRepository(session).get(installation_id, change.list_id, change.email)
        mailchimp_changed_at = state.mailchimp_changed_at if state else None
        withdrawn_at = state.withdrawn_at if state else None
        withdrawal_waits = (
            change.action is Action.SUBSCRIBE
            and change.fresh_consent
            and await withdrawal_waiting(
                session, installation_id, change.email, change.requested_at
            )
        )
        if audience is None or audience.removed_at is not None:
            logger.info("Audience %s is gone; change of a contact dropped", change.list_id)
            return
        offered = offered_interests(groups, change.list_id)
        specs = merge_specs(audience)
        mappings = await audience_mappings(session, installation_id, change.list_id)
        previous_data_tags = list(state.data_tags or []) if state else []
        sent_before = list(state.sent_merge_tags or []) if state else []
        held_for = state.held_for if state else None
        installation = await InstallationRepository(session).get(installation_id)
        audience_name = audience.name
        permission_texts = {str(p["id"]): str(p["text"]) for p in audience.marketing_permissions}
        double_optin = double_optin_applies(settings, audience)
        tags = list(settings.tags) if settings and change.action is Action.SUBSCRIBE else []

    data = MemberData()
    if change.action is Action.SUBSCRIBE and installation is not None:
        data = await change_member_data(services, installation, change, mappings, specs, held_for)

    hours = services.settings.for_now_retry_hours
    if left_since(change, withdrawn_at, withdrawal_waits):
        applied = Applied(
            None,
            "The contact left the audience in Mailchimp after this consent was given; that "
            "is kept.",
        )
    elif conflict_lost(change, mailchimp_changed_at, settings):
        applied = Applied(
            None,
            "The contact was also changed in Mailchimp; Mailchimp's version was kept "
            "(priority: Mailchimp wins).",
        )
    else:
        try:
            async with mailchimp_for(services, installation_id) as client:

                async def write(groups: list[str]) -> Applied:
                    return await _to_mailchimp(
                        client,
                        change,
                        double_optin=double_optin,
                        offered=groups,
                        data=data,
                        specs=specs,
                        tags=tags,
                        previous_data_tags=previous_data_tags,
                        sent_before=sent_before,
                    )

                applied, left_out = await with_live_groups(client, change.list_id, offered, write)
                if left_out:
                    applied.problem = " ".join(p for p in (applied.problem, LEFT_OUT) if p)
        except NotConnected:
            return  # nothing to do until Mailchimp is connected
        except ForgottenEmailNotSubscribed:
            applied = Applied(
                None,
                "Mailchimp permanently forgot this address at the contact's request; it cannot "
                "be subscribed through the app.",
            )
        except AddressRefused as exc:
            for_now = exc.too_many_signups and change.action is Action.SUBSCRIBE
            later = (
                signup_note(change, hours) if for_now else "The shopper's next change tries again."
            )
            applied = Applied(None, refused_address(exc, later), for_now=for_now)

    now = utcnow()
    async with services.db.transaction() as session:
        state = await ContactRepository(session).get_or_create(
            installation_id, change.list_id, change.email
        )
        state.last_problem = applied.problem
        if applied.for_now:
            await enqueue_signup_retry(session, installation_id, change, hours)
        if applied.problem is not None:
            logger.info("Contact change not applied (%s): %s", change.source, applied.problem)
        if applied.member is not None:
            member = applied.member
            state.status = member.status
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
            state.marketing_permissions = [
                {
                    "id": p.marketing_permission_id,
                    "text": p.text or permission_texts.get(p.marketing_permission_id, ""),
                    "enabled": p.enabled,
                }
                for p in member.marketing_permissions
            ]
            state.synced_at = now
            state.last_change_source = change.source.value
            state.last_change_at = now
        if change.saleor_user_id and (state.held_for is None or change.held_for is not None):
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
            await _release_hold(session, installation_id, change)
        # Its own job: a Saleor failure must not repeat the Mailchimp calls above.
        await enqueue_status_write(session, installation_id, change.email)


async def _release_hold(session: AsyncSession, installation_id: int, change: ContactChange) -> None:
    """The address is a contact now (a refusal "for now" passed, say): a contact held at an old
    address for it moves to it, the two merged (`email_change`), the stronger consent kept."""
    held = await ContactRepository(session).held(installation_id, change.list_id, change.email)
    if held is not None and held.email != change.email:
        await enqueue_email_move(
            session,
            installation_id,
            EmailMove(
                old_email=held.email,
                new_email=change.email,
                saleor_user_id=held.saleor_user_id,
                list_ids=[change.list_id],
            ),
        )
