"""The e-mail change in one audience, on Mailchimp's side (the job is `email_change.py`).

* the new address is not a member: `PATCH /lists/{id}/members/{old hash}` with the new
  `email_address` (Mailchimp keeps status, groups, tags, marketing permissions, merge fields
  and language), which Mailchimp allows for a subscribed member only; any other joins at the
  new address as it stood, its merge fields and language too (`_carry`);
* it is one already: the stronger consent is kept and the old member's groups, tags and
  permissions are added to it, and its merge fields (and language) where the new address's
  are empty; an unsubscribed or cleaned new address is never subscribed again, and the old
  address's unsubscribe follows the customer to a new address that only the e-commerce API
  added (`transactional`). The old member is archived unless Mailchimp keeps it
  (unsubscribed, cleaned, or pending: a pending one may still confirm at the old address).
  Activity says what was kept;
* Mailchimp refuses the new address (as fake, "for now", forgotten, or any other refusal of
  the audience's data): the contact stays at the old one (`Moved.held`), the other audiences
  move;
* it is an archived contact Mailchimp keeps out of subscriptions (it unsubscribed or bounced
  before it was archived): it stays as it is, as an unsubscribed one would;
* nothing to move (deleted, archived, cleaned): the new address's contact as it is, or none
  (`Moved.absent`), for the app's record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from addon.mailchimp import (
    AddressRefused,
    BadRequest,
    ForgottenEmailNotSubscribed,
    MailchimpClient,
    MailchimpError,
    Member,
    MemberExists,
    MemberInComplianceState,
    MemberPatch,
    MemberUpsert,
    NotFound,
    ValidationFailed,
)
from addon.mailchimp.models import MarketingPermissionInput
from addon.subscriptions.tag_changes import tag_changes, tags_without

logger = logging.getLogger(__name__)

COMPLIANCE = ("unsubscribed", "cleaned")
NO_CONSENT_OF_ITS_OWN = ("transactional", "archived")  # e.g. added by the e-commerce API
# The old address's member stays as it is: Mailchimp keeps an unsubscribed one (compliance), and
# archives no pending or cleaned one ('405 Method Not Allowed: This list member cannot be
# removed. Can not archive a contact that is bounced, pending or archived', amro/gibbon#320).
NOT_ARCHIVED = (*COMPLIANCE, "pending")


@dataclass
class Moved:
    """What the move did in one audience."""

    member: Member | None = None  # the new address's member afterwards (None: nothing moved)
    note: str | None = None  # for Activity, when the new address was a contact already
    refused: bool = False  # Mailchimp refused the new address: the contact stays (`note`)
    for_now: bool = False  # refused "for now" (`for_now.py` tries again)
    absent: bool = False  # nothing moved, and the new address is no contact of the audience
    held: Member | None = None  # then the old address's member, where the contact stays
    merged: bool = False  # merged into the new address's member (its merge fields its own)
    # Exchanged with another customer's contact (`member_exchange.py`): theirs, now at the old
    # address (`member` is the customer's, at the new one).
    exchanged: Member | None = None
    # Held (`refused`, `held`) as the new address's contact is another customer's, who left
    # that address but whose contact did not yet (`email_exchange.py`).
    waits: bool = False


def filled(value: object) -> bool:
    """Whether a member's merge field holds something: Mailchimp answers "" for an empty one,
    and an address (`ADDRESS` type) as its parts, all "" when empty."""
    if isinstance(value, dict):
        return any(filled(v) for v in value.values())
    return value not in (None, "")


def _profile_missing(old: Member, new: Member) -> tuple[dict[str, Any], str | None]:
    """The old member's merge fields the new one has empty, and its language if the new one
    has none: what the customer's profile keeps when the two merge (the new address's own
    values stay)."""
    fields = {
        tag: value
        for tag, value in old.merge_fields.items()
        if filled(value) and not filled(new.merge_fields.get(tag))
    }
    language = old.language if old.language and not new.language else None
    return fields, language


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
    merge_fields, language = _profile_missing(old, new)
    member = new
    # A cleaned address bounced: Mailchimp lets no one edit such a contact ("you can't edit
    # them", mailchimp.com/help/about-cleaned-contacts), so nothing of the old address goes to it.
    bounced = new.status == "cleaned"
    kept_out = bounced
    if not bounced and (status is not None or interests or permissions or merge_fields or language):
        fields: dict[str, Any] = {
            "interests": interests or None,
            "marketing_permissions": permissions or None,
            "merge_fields": merge_fields or None,
            "language": language,
        }
        try:
            if new.status == "archived":
                target = status or old.status
                upsert = MemberUpsert(
                    email_address=new.email_address, status_if_new=target, status=target, **fields
                )
                member = await client.upsert_member(list_id, upsert)
            else:
                patch = MemberPatch(status=status, **fields)
                member = await client.update_member(list_id, new.email_address, patch)
        except MemberInComplianceState:
            # An address that unsubscribed or bounced, archived since included: Mailchimp lets
            # no API call subscribe it ("… is in a compliance state due to unsubscribe, bounce,
            # or compliance review and cannot be subscribed.", ibericode/mailchimp-for-wordpress
            # #798). It stays as it is, as an unsubscribed one would, and nothing is added to it.
            kept_out = True
    missing_tags = tags_without(sorted(t.name for t in old.tags), (t.name for t in new.tags))
    if missing_tags and not kept_out:
        await client.update_member_tags(list_id, new.email_address, tag_changes(missing_tags, ()))
    await _archive_old(client, list_id, old)
    note = None
    if bounced:
        note = (
            f"A customer's e-mail address changed from {old.email_address} to "
            f"{new.email_address}, which was already a contact of {name} (cleaned: it bounced "
            f"before; the old address was {old.status}). Mailchimp lets no one edit a contact "
            "whose address bounced, so it stays cleaned, and the old address's groups, tags and "
            "marketing permissions were not added to it. Its owner can subscribe through a "
            "Mailchimp signup form."
        )
    elif kept_out:
        note = (
            f"A customer's e-mail address changed from {old.email_address} to "
            f"{new.email_address}, which was already a contact of {name} ({new.status}; the "
            f"old address was {old.status}). Mailchimp refused to subscribe it (Member In "
            "Compliance State: it unsubscribed or bounced before), so the contact stays "
            f"{new.status}: an e-mail change never subscribes an unsubscribed or cleaned "
            "address again. Its owner can subscribe through a Mailchimp signup form."
        )
    elif new.status not in NO_CONSENT_OF_ITS_OWN:
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
            "tags and marketing permissions now include the old address's, and its empty "
            "merge fields hold the old address's values."
        )
    return Moved(member, note, merged=True)


async def move_member(
    client: MailchimpClient, list_id: str, name: str, old_email: str, new_email: str
) -> Moved:
    try:
        old = await client.get_member(list_id, old_email)
    except NotFound:
        return await _as_it_is(client, list_id, new_email)
    if old.status == "archived":
        return await _as_it_is(client, list_id, new_email)
    # Mailchimp refuses the new address: the contact stays at the old address in this
    # audience, held for the new one (one refused "for now" is tried again later: `for_now.py`),
    # and the other audiences move.
    until = "until the customer's address changes again"
    try:
        return await _move(client, list_id, name, old, new_email)
    except AddressRefused as exc:
        if exc.too_many_signups:
            why = "for now, as it signed up to many audiences very recently (Mailchimp's guard "
            why += "against signup abuse)"
            until = "for now"
        else:
            why = "as it looks fake or invalid to Mailchimp"
        for_now = exc.too_many_signups
    except ForgottenEmailNotSubscribed:
        # Permanently deleted earlier: "… was permanently deleted and cannot be re-imported. The
        # contact must re-subscribe to get back on the list." (400, quoted in
        # ibericode/mailchimp-for-wordpress#673 and #771).
        why = "as it was permanently deleted from the audience (only its owner can add it again"
        why += ", through a Mailchimp signup form)"
        for_now = False
    except BadRequest as exc:
        # Any other refusal of this audience's data: asking again would meet it again.
        logger.warning("E-mail change refused in audience %s: %s", list_id, exc.title)
        why, for_now = f"({exc.title or 'Bad Request'}: {exc.detail})", False
    note = (
        f"Not moved in “{name}”: Mailchimp refused {new_email} {why}. The contact keeps "
        f"{old_email} there {until}."
    )
    return Moved(note=note, refused=True, held=old, for_now=for_now)


async def _as_it_is(client: MailchimpClient, list_id: str, new_email: str) -> Moved:
    """No contact to move (deleted, or archived: no one's): the new address's contact as it
    is, for the app's record, which may still carry what the old address was."""
    try:
        return Moved(await client.get_member(list_id, new_email))
    except NotFound:
        return Moved(absent=True)


async def _move(
    client: MailchimpClient, list_id: str, name: str, old: Member, new_email: str
) -> Moved:
    try:
        new: Member | None = await client.get_member(list_id, new_email)
    except NotFound:
        new = None
    if new is None:
        if old.status != "subscribed":
            return await _carry(client, list_id, name, old, new_email)
        try:
            patch = MemberPatch(email_address=new_email)
            return Moved(await client.update_member(list_id, old.email_address, patch))
        except (MemberExists, ValidationFailed) as exc:
            # Added meanwhile (e.g. by the e-commerce customer's re-creation): Mailchimp says
            # '"x" is already in this list with a status of "y".' (brandonseydel/MailChimp.Net#201)
            if not isinstance(exc, MemberExists) and not _taken(exc):
                raise  # an address Mailchimp refuses included
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
    pending contact confirms at the new address), with its groups, tags, permissions, merge
    fields and language; the old member is archived unless Mailchimp keeps it (unsubscribed,
    pending). A cleaned
    address bounced: nothing of it goes to another. `status_if_new` only: a contact added
    meanwhile keeps its own status, and the two are merged as any two contacts."""
    status = CARRIED.get(old.status)
    if status is None:
        return Moved(absent=True)  # (`_move` found no contact at the new address)
    interests = {i: True for i, on in old.interests.items() if on}
    permissions = [
        MarketingPermissionInput(marketing_permission_id=p.marketing_permission_id, enabled=True)
        for p in old.marketing_permissions
        if p.enabled
    ]
    # Its profile too: the PATCH of a subscribed member keeps it, and the app sends a mapped
    # field again only when the customer's value changes (`ContactState.profile_digest`).
    merge_fields = {tag: value for tag, value in old.merge_fields.items() if filled(value)}
    member = await client.upsert_member(
        list_id,
        MemberUpsert(
            email_address=new_email,
            status_if_new=status,
            interests=interests or None,
            marketing_permissions=permissions or None,
            merge_fields=merge_fields or None,
            language=old.language or None,
        ),
    )
    if member.status != status:  # added meanwhile (the e-commerce customer, say)
        return await _merge(client, list_id, name, old, member)
    if old.tags:
        await client.update_member_tags(
            list_id, new_email, tag_changes(sorted(t.name for t in old.tags), ())
        )
    await _archive_old(client, list_id, old)
    return Moved(member)


async def _archive_old(client: MailchimpClient, list_id: str, old: Member) -> None:
    """Archive the old address's member, unless Mailchimp keeps it (`NOT_ARCHIVED`)."""
    if old.status in NOT_ARCHIVED:
        return
    try:
        await client.archive_member(list_id, old.email_address)
    except NotFound:
        pass  # deleted meanwhile
    except MailchimpError as exc:
        if exc.status != 405:
            raise
        # Its status changed since it was read (it bounced, say): Mailchimp keeps it.
