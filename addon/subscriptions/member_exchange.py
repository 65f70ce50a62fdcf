"""Two customers who exchanged addresses, in one audience (the job is `email_change.py`, which
finds them: `email_exchange.py`).

Ann's move from A to B meets Bob's contact at B while Bob has A now: their moves, handled after
both changes (a backlog, a catch-up), each meet the other's contact at the new address, and
Mailchimp moves no member onto another's address (a PATCH of `email_address` to a member's
is refused: `member_move._move`). Merged, the two people's contacts became one. So each address
takes the other contact's profile instead: status, groups, tags, marketing permissions, merge
fields and language (what a member's PATCH and tags carry; the address's own history of
campaigns stays with it). Each address's status follows its person as a move's does
(`member_move`): an unsubscribe follows them, and an unsubscribed or cleaned address is never
subscribed again; a cleaned address, which Mailchimp lets no one edit, is written nothing.
"""

from __future__ import annotations

from typing import Any

from addon.mailchimp import (
    MailchimpClient,
    Member,
    MemberInComplianceState,
    MemberPatch,
    NotFound,
)
from addon.mailchimp.models import MarketingPermissionInput
from addon.subscriptions.member_move import COMPLIANCE, Moved, filled, move_member
from addon.subscriptions.tag_changes import tag_changes, tags_without

LIVE = ("subscribed", "unsubscribed", "pending", "transactional", "cleaned")


async def _live(client: MailchimpClient, list_id: str, email: str) -> Member | None:
    try:
        member = await client.get_member(list_id, email)
    except NotFound:
        return None
    return member if member.status in LIVE else None


def _status(target: str, source: str) -> str | None:
    """The status `target`'s address takes for `source`'s person (None: it keeps its own)."""
    if source == target:
        return None
    if source == "unsubscribed":
        return "unsubscribed"  # their unsubscribe follows them
    if source in ("subscribed", "pending") and target not in COMPLIANCE:
        return source
    return None  # never subscribed again; no consent of their own (transactional): kept


async def _take(
    client: MailchimpClient, list_id: str, target: Member, source: Member
) -> tuple[Member, str | None]:
    """`target`'s address takes `source`'s profile; the member afterwards, and why its
    status stayed (None if it took `source`'s)."""
    if target.status == "cleaned":
        return target, "cleaned: it bounced, and Mailchimp lets no one edit it"
    status = _status(target.status, source.status)
    interests = {i: bool(source.interests.get(i)) for i in {*target.interests, *source.interests}}
    enabled = {p.marketing_permission_id: p.enabled for p in source.marketing_permissions}
    permissions = [
        MarketingPermissionInput(
            marketing_permission_id=p.marketing_permission_id,
            enabled=enabled.get(p.marketing_permission_id, False),
        )
        for p in target.marketing_permissions
    ]
    tags = {*source.merge_fields, *target.merge_fields}
    merge_fields: dict[str, Any] = {
        t: source.merge_fields[t] if filled(source.merge_fields.get(t)) else "" for t in tags
    }
    fields: dict[str, Any] = {
        "interests": interests or None,
        "marketing_permissions": permissions or None,
        "merge_fields": merge_fields or None,
        "language": source.language or None,
    }
    kept = None
    try:
        member = await client.update_member(
            list_id, target.email_address, MemberPatch(status=status, **fields)
        )
    except MemberInComplianceState:
        # It unsubscribed or bounced before: Mailchimp subscribes it through no API call.
        member = await client.update_member(list_id, target.email_address, MemberPatch(**fields))
        kept = f"{member.status}: it unsubscribed or bounced before"
    if status is None and source.status != target.status:
        kept = f"{target.status}: " + (
            "an e-mail change never subscribes an unsubscribed or cleaned address again"
            if target.status in COMPLIANCE
            else "the other contact gave no consent of its own"
        )
    theirs, mine = {t.name for t in source.tags}, {t.name for t in target.tags}
    updates = tag_changes(tags_without(sorted(theirs), mine), tags_without(sorted(mine), theirs))
    if updates:
        await client.update_member_tags(list_id, target.email_address, updates)
        member = member.model_copy(update={"tags": source.tags})
    return member, kept


async def exchange_member(
    client: MailchimpClient, list_id: str, name: str, old_email: str, new_email: str
) -> Moved | None:
    """The customer's contact at `old_email` and the other customer's at `new_email` exchange
    addresses (`Moved.exchanged`: the other's, now at `old_email`). Where only the customer
    has a contact, it moves as any; where the customer has none, nothing is done (None): the
    other customer's own move takes theirs to `old_email`."""
    mine = await _live(client, list_id, old_email)
    if mine is None:
        return None
    theirs = await _live(client, list_id, new_email)
    if theirs is None:
        return await move_member(client, list_id, name, old_email, new_email)
    at_new, kept_new = await _take(client, list_id, theirs, mine)
    at_old, kept_old = await _take(client, list_id, mine, theirs)
    note = (
        f"Two customers exchanged addresses: {old_email} and {new_email} were each the other's "
        f"contact in “{name}”. Each address took the other contact's status, groups, tags, "
        "marketing permissions and merge fields (its own campaign history stays with it)."
    )
    for email, kept in ((new_email, kept_new), (old_email, kept_old)):
        if kept:
            note += f" {email} stays {kept}."
    return Moved(at_new, note, exchanged=at_old)
