"""Mailchimp → store: a member's mapped merge fields written back to its Saleor customer.

When Mailchimp sends a `profile` webhook and two-way sync is on with "Mailchimp wins", the
values of the audience's mapped merge fields go back to the customer: public metadata keys to
its metadata, first and last name to the user. Nothing else: not the fields that are not
mapped, not the address, phone, language or date joined (Saleor's own records), and never the
e-mail address. Never private metadata either: only staff and apps write it in Saleor (a
storefront may trust it, e.g. a loyalty tier), but a merge field is the subscriber's to edit on
Mailchimp's update-profile page, and Mailchimp's delivery does not say who made the change
(its form holds `type`, `fired_at` and `data[...]`, no source). Nor the app's own keys
(`mailchimp.`: consent, statuses, engagement), which a mapping may no longer name
(`audiences.mapping`) but one saved before may. Nor a field still holding what the app last
sent the contact (`ContactState.sent_merge_digests`): Mailchimp did not change it, and the
customer may have since. Nor an empty field the app never sent: Mailchimp answers "" for every
empty field, so that is no value, not a clearing. Nor anything on an unconfirmed account not
linked to the contact (anyone can register anyone's address: the status write-back's rule,
`writeback.may_write_to`). Its own job, so a Saleor failure never repeats the Mailchimp call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.mapping import audience_mappings, is_app_key, merge_specs
from addon.audiences.merge_values import MergeFieldSpec
from addon.audiences.merge_values_back import merge_digest, metadata_value, text_of
from addon.audiences.models import FieldMapping, FieldSource, MappingTarget
from addon.audiences.repository import AudienceRepository
from addon.installations.repository import InstallationRepository
from addon.installations.token_doubt import wait_if_token_in_doubt
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import subscriber_hash
from addon.saleor.client import SaleorPermissionDenied, SaleorQueryError
from addon.services import Services
from addon.subscriptions.profile import fetch_profile
from addon.subscriptions.profile_sync import queue_member_updates
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.writeback import (
    SaleorUser,
    _find_user,
    _linked_user,
    contact_lane,
    may_write_to,
)

logger = logging.getLogger(__name__)

WRITE_PROFILE_JOB = "subscriptions.write_profile"
# An event job: a customer's names were written from Mailchimp. Saleor's echo of the write is
# the app's own and not handled (`OWN_ECHO_EVENTS`); the e-commerce capability pushes the
# customer's record on it instead.
NAMES_WRITTEN_KIND = "subscriptions.customer_names_written"
NAME_FIELDS = {FieldSource.FIRST_NAME: "firstName", FieldSource.LAST_NAME: "lastName"}


class ProfileWriteFailed(Exception):
    """Saleor refused a write for a reason that may pass (retried by the worker)."""


class CustomerNamesWritten(BaseModel):
    """The `subscriptions.customer_names_written` event job."""

    user_id: str


class ProfileWriteBack(BaseModel):
    """The `subscriptions.write_profile` job: the member's merge values, by tag."""

    email: str
    list_id: str
    merge_fields: dict[str, Any] = Field(default_factory=dict)
    # The address the contact had before Mailchimp changed it (`upemail`), which the customer
    # still has in Saleor.
    lookup_email: str | None = None


async def enqueue_profile_write(
    session: AsyncSession,
    installation_id: int,
    *,
    email: str,
    list_id: str,
    merge_fields: dict[str, Any],
    sent: dict[str, str],
    lookup_email: str | None = None,
) -> None:
    """Queue the write-back of the audience's mapped fields Mailchimp changed: those whose
    value is not what the app last sent the contact (`sent`: `ContactState.sent_merge_digests`
    as the member was read). One pending for the contact takes these (the newest read: a field
    changed in Mailchimp still differs there, unless the app sent a value since)."""
    mapped = {
        m.merge_tag
        for m in await audience_mappings(session, installation_id, list_id)
        if _written_back(m)
    }
    audience = await AudienceRepository(session).audience(installation_id, list_id)
    specs = {spec.tag: spec for spec in merge_specs(audience)} if audience else {}
    values = {
        tag: value
        for tag, value in merge_fields.items()
        if tag in mapped
        and not _never_filled(tag, value, sent)
        and (tag not in sent or merge_digest(value, specs.get(tag)) != sent[tag])
    }
    if not values:
        return
    email = email.lower()
    await JobRepository(session).enqueue(
        installation_id,
        WRITE_PROFILE_JOB,
        ProfileWriteBack(
            email=email,
            list_id=list_id,
            merge_fields=values,
            lookup_email=lookup_email.lower() if lookup_email else None,
        ).model_dump(),
        # Apart from one without the old address (as the status write-back's key): merged, the
        # newest would drop it.
        coalesce_key=f"{WRITE_PROFILE_JOB}:{list_id}:{subscriber_hash(email)}"
        + (f":{subscriber_hash(lookup_email)}" if lookup_email else ""),
        lane=contact_lane(email),
    )


def _never_filled(tag: str, value: Any, sent: dict[str, str]) -> bool:
    """Whether Mailchimp's value is just its "" for an empty field the app never filled:
    Mailchimp answers "" for every empty merge field, so that is no value, not a clearing
    (one the app sent, then emptied in Mailchimp, is)."""
    return tag not in sent and text_of(value) == ""


def _written_back(mapping: FieldMapping) -> bool:
    """Whether Mailchimp's value of the mapped field goes back to the customer: a name, or a
    public metadata key that is not the app's own (see the module's docstring)."""
    if mapping.target is not MappingTarget.MERGE_FIELD:
        return False
    if mapping.source is FieldSource.METADATA:
        return not is_app_key(mapping.key)
    return mapping.source in NAME_FIELDS


@dataclass(frozen=True)
class _MetadataValue:
    """Mailchimp's value of a merge field mapped from a public metadata key."""

    key: str
    incoming: Any
    spec: MergeFieldSpec | None


def _raise_on(errors: list[dict[str, Any]], what: str) -> None:
    if errors and not any(e.get("code") == "NOT_FOUND" for e in errors):
        raise ProfileWriteFailed(f"Saleor refused the {what}: " + "; ".join(map(str, errors)))


async def _follow_up(
    services: Services, installation_id: int, user: SaleorUser, *, names_written: bool
) -> None:
    """What Saleor's echoes of a write would have started, had they been handled: they are the
    app's own (CUSTOMER_UPDATED, CUSTOMER_METADATA_UPDATED: `OWN_ECHO_EVENTS`). The customer's
    other audiences map these fields too (their updates run in the contact's lane, after this
    job), and the names are on its e-commerce record."""
    async with services.db.transaction() as session:
        await queue_member_updates(session, installation_id, user.id, user.email)
        if names_written:
            await JobRepository(session).enqueue(
                installation_id,
                NAMES_WRITTEN_KIND,
                CustomerNamesWritten(user_id=user.id).model_dump(),
                coalesce_key=f"{NAMES_WRITTEN_KIND}:{user.id}",
            )


async def handle_write_profile(
    job: ClaimedJob, request: ProfileWriteBack, services: Services
) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        mappings = await audience_mappings(session, installation_id, request.list_id)
        audience = await AudienceRepository(session).audience(installation_id, request.list_id)
        specs = {spec.tag: spec for spec in merge_specs(audience)} if audience else {}
        state = await ContactRepository(session).get(
            installation_id, request.list_id, request.email
        )
        # Held at an old address: the customer is the one at the address Mailchimp refused.
        held = state.held_for if state is not None else None
        sent = dict(state.sent_merge_digests or {}) if state is not None else {}
        if installation is None:
            return
        api_url, token = installation.saleor_api_url, installation.app_token
    names: dict[str, str] = {}
    metadata: list[_MetadataValue] = []
    for mapping in mappings:
        # Checked here too: a job queued by an earlier version may carry such a field.
        if not _written_back(mapping) or mapping.merge_tag not in request.merge_fields:
            continue
        incoming = request.merge_fields[mapping.merge_tag]
        if _never_filled(mapping.merge_tag, incoming, sent):
            continue  # checked again for a job queued by an earlier version
        if mapping.source in NAME_FIELDS:
            value = text_of(incoming)
            if value is not None:
                names[NAME_FIELDS[mapping.source]] = value
        else:
            spec = specs.get(mapping.merge_tag)
            metadata.append(_MetadataValue(mapping.key, incoming, spec))
    if not (names or metadata):
        return
    try:
        if request.lookup_email and held is None:
            # Moved in Mailchimp (`upemail`): the customer keeps the old address in Saleor;
            # whoever owns the new one is someone else, never renamed by this contact
            # (`writeback._moved_customer`; the status write-back notes it on the contact).
            user = await _find_user(services, api_url, token, [request.lookup_email])
        else:
            user = await _find_user(services, api_url, token, [held or request.email])
        linked = state.saleor_user_id if state is not None and held is None else None
        if state is not None and linked is not None and (user is None or user.id != linked):
            # The contact's customer (its address written on them: one moved in Mailchimp
            # onto another customer's address, `writeback._moved_customer`) over that owner.
            user = await _linked_user(services, api_url, token, linked, [state]) or user
        if user is None:
            return  # a guest: no customer to write on
        if not may_write_to(user, state):
            return  # an unconfirmed account that is not this contact's (as the status's)
        # Only a name that differs: an unchanged one would send Saleor no event (nothing to
        # follow), and the customer's audiences and e-commerce record already have it.
        current = {"firstName": user.first_name, "lastName": user.last_name}
        names = {key: value for key, value in names.items() if current[key] != value}
        if names:
            data = await services.saleor.execute(
                api_url,
                token,
                "subscriptions_update_customer_names",
                {"id": user.id, "input": names},
            )
            errors = (data.get("customerUpdate") or {}).get("errors") or []
            _raise_on(errors, "names")
            if not any(e.get("code") == "NOT_FOUND" for e in errors):
                # Followed up at once, whatever becomes of the metadata writes below.
                await _follow_up(services, installation_id, user, names_written=True)
        changes = await _metadata_changes(services, installation_id, api_url, token, user, metadata)
        if changes:
            entries = [{"key": k, "value": v} for k, v in changes.items()]
            data = await services.saleor.execute(
                api_url,
                token,
                "subscriptions_update_metadata",
                {"id": user.id, "input": entries},
            )
            errors = (data.get("updateMetadata") or {}).get("errors") or []
            _raise_on(errors, "customer metadata")
            await _follow_up(services, installation_id, user, names_written=False)
    except SaleorPermissionDenied as exc:
        await wait_if_token_in_doubt(services, installation_id, exc)  # deactivated?
        # Permanent (the app's permissions are fixed at installation, e.g. a staff account,
        # whose metadata needs MANAGE_STAFF).
        logger.warning(
            "Mapped fields not written back to the Saleor customer "
            "(deleted meanwhile, or one the app may not write): %s",
            exc,
        )
    except SaleorQueryError as exc:
        raise ProfileWriteFailed(f"Saleor refused the mapped fields: {exc}") from exc


async def _metadata_changes(
    services: Services,
    installation_id: int,
    api_url: str,
    token: SecretStr,
    user: SaleorUser,
    values: list[_MetadataValue],
) -> dict[str, str]:
    """The public metadata keys whose Mailchimp value is more than the app's own rendering of
    what they hold (`merge_values_back`), read from the customer first."""
    if not values:
        return {}
    profile = await fetch_profile(
        services,
        api_url,
        token,
        installation_id=installation_id,
        user_id=user.id,
        email=None,
        private=False,
    )
    changes: dict[str, str] = {}
    for value in values:
        held = profile.value(FieldSource.METADATA, value.key) if profile else None
        current = held if isinstance(held, str) else None
        written = metadata_value(value.incoming, current, value.spec)
        if written is not None:
            changes[value.key] = written
    return changes
