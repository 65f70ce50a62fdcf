"""Customer changes in Saleor reach their audience members: mapped merge fields, language, tags.

`CUSTOMER_UPDATED` and `CUSTOMER_METADATA_UPDATED` (webhooks/subscriptions_customer_updated)
queue one `subscriptions.update_profile` job per audience the customer is a member of, in the
contact's lane. The job reads the customer afresh and PATCHes the member only when what the
mapping makes of it changed since it was last sent. The app's own metadata writes (status
write-backs, engagement) also make Saleor send CUSTOMER_METADATA_UPDATED; the receiver records
those and does not hand them here (`OWN_ECHO_EVENTS`), and a metadata key the app writes itself
(`mailchimp.…`) is therefore refreshed in a mapped merge field at the customer's next change.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.mapping import MAPPING_SAVED_JOB, audience_mappings, merge_specs
from addon.audiences.models import Priority
from addon.audiences.repository import AudienceRepository
from addon.audiences.service import enqueue_import
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.installations.repository import InstallationRepository
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.mailchimp import MemberPatch, TagUpdate, ValidationFailed
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.services import Services
from addon.subscriptions.member_fields import member_data, report_not_sent
from addon.subscriptions.models import PROFILE_STATUSES, ContactState
from addon.subscriptions.profile import fetch_profile
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import app_form
from addon.subscriptions.stale_fields import drop_refused
from addon.subscriptions.tag_changes import tag_changes, tags_without
from addon.subscriptions.writeback import contact_lane

logger = logging.getLogger(__name__)

UPDATE_PROFILE_JOB = "subscriptions.update_profile"
REFRESH_PROFILES_JOB = MAPPING_SAVED_JOB
WEBHOOK_SLUG = "subscriptions-customer-updated"


class _Payload(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class ChangedUser(_Payload):
    id: str
    email: str | None = None


class CustomerChanged(_Payload):
    user: ChangedUser | None = None


class ProfileUpdate(BaseModel):
    """The `subscriptions.update_profile` job: send one member its customer's mapped data."""

    email: str
    list_id: str
    # None: the customer is looked up by the address.
    saleor_user_id: str | None = None


class RefreshProfiles(BaseModel):
    """The `subscriptions.refresh_profiles` job: a mapping was saved; fill its members."""

    list_id: str


async def enqueue_profile_update(
    session: AsyncSession, state: ContactState, saleor_user_id: str | None
) -> None:
    """Queue `state`'s member an update from its customer (one pending per member, in the
    contact's lane)."""
    await JobRepository(session).enqueue(
        state.installation_id,
        UPDATE_PROFILE_JOB,
        ProfileUpdate(
            email=state.email, list_id=state.list_id, saleor_user_id=saleor_user_id
        ).model_dump(),
        coalesce_key=f"{UPDATE_PROFILE_JOB}:{state.list_id}:{state.id}",
        lane=contact_lane(state.email),
    )


async def release_held_back(session: AsyncSession, state: ContactState) -> None:
    """The customer update held back while a Mailchimp change waited (`profile_held_back`),
    once that change is applied or dropped: it goes now."""
    if state.profile_held_back:
        state.profile_held_back = False
        if state.status in PROFILE_STATUSES:
            await enqueue_profile_update(session, state, state.saleor_user_id)


async def handle_customer_changed(
    job: ClaimedJob, delivery: WebhookJob[CustomerChanged], services: Services
) -> None:
    user = delivery.body.user
    if user is None or not user.email:
        return
    async with services.db.transaction() as session:
        await queue_member_updates(session, job.installation_id, user.id, user.email)


async def queue_member_updates(
    session: AsyncSession, installation_id: int, user_id: str, email: str
) -> None:
    """An update for each audience member that is this customer's: at its address, or linked
    to it at another (held at its old one, or moved by its member in Mailchimp: `upemail`)."""
    email = app_form(email)
    active = {
        a.list_id for a in await AudienceRepository(session).active_audiences(installation_id)
    }
    statement = ContactState.of_installation(installation_id).where(
        or_(
            and_(ContactState.email == email, ContactState.saleor_user_id.is_(None)),
            ContactState.saleor_user_id == user_id,
        )
    )
    states = list(await session.scalars(statement))
    for state in states:
        if state.list_id not in active or state.status not in PROFILE_STATUSES:
            continue
        await enqueue_profile_update(session, state, user_id)


async def handle_refresh_profiles(
    job: ClaimedJob, request: RefreshProfiles, services: Services
) -> None:
    """One update job per member of the audience (each sends only if its values changed)."""
    installation_id = job.installation_id
    async with services.db.transaction() as session:
        statement = (
            ContactState.of_installation(installation_id)
            .where(
                ContactState.list_id == request.list_id,
                ContactState.status.in_(PROFILE_STATUSES),
            )
            .order_by(ContactState.id)
        )
        for state in await session.scalars(statement):
            await enqueue_profile_update(session, state, state.saleor_user_id)


async def handle_update_profile(
    job: ClaimedJob, request: ProfileUpdate, services: Services
) -> None:
    installation_id, list_id, email = job.installation_id, request.list_id, request.email
    async with services.db.session() as session:
        audiences = AudienceRepository(session)
        audience = await audiences.audience(installation_id, list_id)
        settings = await audiences.find_settings(installation_id)
        state = await ContactRepository(session).get(installation_id, list_id, email)
        installation = await InstallationRepository(session).get(installation_id)
        if (
            audience is None
            or not audience.active
            or audience.removed_at is not None
            or state is None
            or installation is None
        ):
            return
        mappings = await audience_mappings(session, installation_id, list_id)
        specs = merge_specs(audience)
        customer_email = state.held_for or email  # the customer's, for a held contact
        owner = state.saleor_user_id
        previous_tags = list(state.data_tags or [])
        sent_before = list(state.sent_merge_tags or [])
        digests_before = dict(state.sent_merge_digests or {})
        digest_before = state.profile_digest
        # A Mailchimp change not yet applied wins over this one (two-way, Mailchimp wins): once
        # applied, it queues this update again (`mailchimp_hooks.handle_event`).
        mailchimp_pending = state.mailchimp_changed_at is not None and (
            state.synced_at is None or state.mailchimp_changed_at > state.synced_at
        )
        api_url, token, audience_name = (
            installation.saleor_api_url,
            installation.app_token,
            audience.name,
        )
    if (
        mailchimp_pending
        and settings is not None
        and settings.two_way
        and settings.priority is Priority.MAILCHIMP_WINS
    ):
        async with services.db.transaction() as session:
            held = await ContactRepository(session).get(installation_id, list_id, email)
            if held is not None:
                held.profile_held_back = True
        return
    profile = await fetch_profile(
        services,
        api_url,
        token,
        installation_id=installation_id,
        user_id=request.saleor_user_id,
        email=None if request.saleor_user_id else email,
        private=any(m.source.value == "private_metadata" for m in mappings),
    )
    if profile is None:
        return  # deleted
    if app_form(profile.email) != customer_email and profile.id != owner:
        return  # its address changed (the e-mail change moves the member, or it is another's)
    if not profile.is_confirmed and profile.id != owner:
        return  # anyone may register anyone's address: another's contact is not theirs
    # A name field the app filled (from the account, or a fallback to a given or billing name)
    # is not filled again from the billing address while the account lacks the name: one it
    # filled from a fallback stays as it is, one the customer removed is cleared.
    data = member_data(profile, mappings, specs, filled=digests_before)
    digest = data.digest()
    if digest == digest_before:
        return
    tag_updates: list[TagUpdate] = []
    if data.tags is not None:
        tag_updates = tag_changes(
            tags_without(data.tags, previous_tags), tags_without(previous_tags, data.tags)
        )
    stale_fields = False
    try:
        merge_fields = data.merge_fields_clearing(sent_before)
        async with mailchimp_for(services, installation_id) as client:
            member = None
            if merge_fields or data.language:
                patch = MemberPatch(merge_fields=merge_fields or None, language=data.language)
                try:
                    member = await client.update_member(list_id, email, patch)
                except ValidationFailed as exc:
                    if not drop_refused(exc, data):
                        raise
                    stale_fields = True  # sent again without them (`stale_fields.py`)
                    merge_fields = data.merge_fields_clearing(sent_before)
                    patch = MemberPatch(merge_fields=merge_fields or None, language=data.language)
                    member = await client.update_member(list_id, email, patch)
            if tag_updates:
                await client.update_member_tags(list_id, email, tag_updates)
    except NotConnected:
        return
    except MailchimpNotFound:
        return  # no longer a member
    async with services.db.transaction() as session:
        state = await ContactRepository(session).get(installation_id, list_id, email)
        if state is None:
            return
        state.profile_digest = digest
        state.sent_merge_tags = data.mapped_sent()
        state.sent_merge_digests = data.sent_digests(merge_fields, digests_before, specs)
        if data.tags is not None:
            kept = set(state.tags) - (set(previous_tags) - set(data.tags))
            state.tags = sorted(kept | set(data.tags))
            state.data_tags = data.tags
        if member is not None:
            state.last_change_at = utcnow()
        if stale_fields:
            await enqueue_import(session, installation_id, scheduled=False)
        if data.problems:
            await report_not_sent(
                session,
                installation_id,
                list_id=list_id,
                audience_name=audience_name,
                email=email,
                problems=data.problems,
            )
