"""What one store-side change of one contact sends to Mailchimp (`apply.handle_apply` reads
the contact's state and records the outcome).

* An unsubscribe only ever unsubscribes, and withdraws the marketing permissions not chosen
  when the shopper gave the whole choice (`permissions_exact`); a change of groups only changes
  the groups chosen.
* A change from someone not known to hold the address (the public signup form, a guest's
  checkout, an account not confirmed: `ContactChange.address_proven`) adds the groups chosen
  and, for a contact who left (an admin's removal too), asks for a confirmation by e-mail; the
  contact's names, other groups and consents stay, also of a buyer's (`transactional`) contact,
  and its unsubscribe changes nothing. With nothing to add, nothing is sent. A contact it makes
  (none was in the audience) is its own.
* A shopper's whole choice of groups leaves the hidden groups' as they are (`_interests`).
* Otherwise the contact is added or updated with the change's profile and consents (without the
  shopper's fresh consent, only the consents withdrawn); an unsubscribed or cleaned one is asked
  to confirm by e-mail (`pending`), as Mailchimp requires, and only on that consent. Only a
  subscription asked (that consent, or staff subscribing the customer: `_subscription_asked`)
  adds a contact Mailchimp does not hold in the audience (none at the address, archived, a
  buyer's); any other change (a GDPR permission withdrawn) then sends nothing, and the contact
  says so (`NOT_ADDED`). Such a withdrawal is kept in the app's record, and a subscription that
  brings the contact back sends it (`_kept_withdrawals`): Mailchimp kept the permission enabled
  while the contact was out.
* A cleaned contact (its address bounced) is never edited: Mailchimp lets no one ("you can't
  edit them", its help on cleaned contacts; `models.PROFILE_STATUSES`). A change of its groups
  is refused, and a fresh consent asks for the confirmation by e-mail alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from addon.audiences.merge_values import MergeFieldSpec
from addon.mailchimp import (
    AddressRefused,
    MailchimpClient,
    Member,
    MemberInComplianceState,
    MemberPatch,
    MemberUpsert,
    NotFound,
)
from addon.mailchimp.models import MarketingPermissionInput
from addon.subscriptions.awaiting_move import signs_up
from addon.subscriptions.member_fields import MemberData, missing_required
from addon.subscriptions.schemas import Action, ContactChange, Source
from addon.subscriptions.service import COMPLIANCE_STATES
from addon.subscriptions.tag_changes import tag_changes

# What a contact whose address bounced says of a change Mailchimp would refuse (`write_member`).
CLEANED_GROUPS_KEPT = (
    "Mailchimp stopped sending to this address because it bounced (cleaned), and lets no one "
    "edit such a contact, so its groups were not changed. Only the customer can subscribe "
    "again, with their own consent (Mailchimp then asks them to confirm)."
)
# What a change that asks no subscription (`_subscription_asked`) says of a contact Mailchimp
# does not hold in the audience: nothing is sent, no one is subscribed.
NOT_ADDED = (
    "The contact is not in the audience in Mailchimp (removed or archived there, its address "
    "changed there, or a buyer's contact only), and this change was not a subscription, so "
    "nothing was sent: only the customer's own consent (or staff subscribing them) adds them."
)
# What a withdrawal that waited for Mailchimp's word of a move (`awaiting_move`) says when none
# came and still no member is at the address: nothing could be sent.
MOVE_NOT_TOLD = (
    "The shopper's withdrawal was not sent: Mailchimp holds no contact at this address, and did "
    "not say where it went (an address changed in Mailchimp is told within 75 minutes). If the "
    "contact is in the audience under another address, unsubscribe them (or withdraw the "
    "consent) there by hand."
)
# Statuses of a member not in the audience as a subscriber (an admin's removal, a buyer's
# contact), which the PUT of a new contact would subscribe; an unsubscribed or cleaned one
# Mailchimp keeps out itself (compliance).
NOT_IN_AUDIENCE = ("archived", "transactional")
CLEANED_CHOICES_NOT_SENT = (
    "Mailchimp stopped sending to this address because it bounced (cleaned), and lets no one "
    "edit such a contact: it was asked to confirm the subscription by e-mail, and the groups, "
    "consents and details chosen were not sent. They can be chosen again once it is confirmed."
)


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
    # The merge fields that went, as sent (`ContactState.sent_merge_digests`).
    merge_fields: dict[str, Any] = field(default_factory=dict)
    # The change made the contact: none was in the audience (an unproven change's then is
    # its customer's, `apply`).
    created: bool = False
    # Nothing done: no member at the address, which Mailchimp moved (an `upemail` waits to be
    # applied); the change follows the member to its new address (`follow.follow_upemail`).
    moved: bool = False
    # Nothing done: no member at the address, where the app holds one; a withdrawal waits for
    # Mailchimp's word of a move (`awaiting_move.await_move`).
    awaiting_move: bool = False


async def write_member(
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
    known_permissions: list[str],
    hidden: frozenset[str] = frozenset(),
    moving: bool = False,
    withdrawn: frozenset[str] = frozenset(),
    awaits_move: Callable[[], Awaitable[bool]] | None = None,
) -> Applied:
    """Send one store-side change of one contact to Mailchimp (see the module); what came of
    it. `known_permissions`: the audience's marketing permission ids; `hidden`: the offered
    interests of hidden groups (`_interests`); `moving`: Mailchimp changed the member's
    address (an `upemail` waits to be applied), so with no member at this one nothing is done
    here (`Applied.moved`): not a member made at the address left, nor a change lost;
    `withdrawn`: the permissions the app's record of the contact holds withdrawn
    (`_kept_withdrawals`); `awaits_move`: whether the change, with no member at the address,
    waits for Mailchimp's word of a move (`Applied.awaiting_move`), asked only then."""
    list_id, email = change.list_id, change.email
    try:
        current: Member | None = await client.get_member(list_id, email)
    except NotFound:
        current = None
    if current is None and moving:
        return Applied(None, moved=True)
    if current is None and awaits_move is not None and await awaits_move():
        return Applied(None, awaiting_move=True)
    if current is None and change.move_waited and not signs_up(change):
        return Applied(None, MOVE_NOT_TOLD)  # (a sign-up that waited is made, as any one)
    interests = _interests(change, offered, hidden)
    if change.action is Action.UNSUBSCRIBE:
        return await _unsubscribe(client, change, current, known_permissions)
    if change.action is Action.SET_GROUPS:
        if current is None or current.status == "archived":
            return Applied(None, "This customer is not a contact of the audience yet.")
        if current.status == "cleaned":
            return Applied(current, CLEANED_GROUPS_KEPT)
        if interests is None:
            return Applied(current)
        return Applied(await client.update_member(list_id, email, MemberPatch(interests=interests)))

    target = "pending" if double_optin else "subscribed"
    merges = dict(data.merge_fields) or None
    granted = change.permission_ids
    named = known_permissions if change.permissions_exact else granted
    if not change.fresh_consent:
        # Only the shopper's fresh consent gives one: without it (a staying save, staff's
        # change, a leaving ended by a sign-up) only the withdrawals go, never a consent the
        # record showed given that Mailchimp may hold withdrawn (as `_unsubscribe` sends).
        named = [p for p in named if p not in granted]
    permissions = [
        MarketingPermissionInput(marketing_permission_id=p, enabled=p in granted) for p in named
    ] or None
    fields: dict[str, Any] = {
        "merge_fields": merges,
        "interests": interests,
        "marketing_permissions": permissions,
        "language": data.language,
    }
    previous = current.status if current is not None else None
    if previous == "unsubscribed" and not change.fresh_consent and change.permissions_exact:
        # Left in Mailchimp before the app heard of it: a withdrawal of consents still goes,
        # and nothing subscribes them again (`_unsubscribe` keeps an unsubscribed status).
        return await _unsubscribe(client, change, current, known_permissions)
    if previous in COMPLIANCE_STATES and not change.fresh_consent:
        return Applied(
            current,
            f"The contact is {previous} in Mailchimp; only the shopper's own consent can "
            "subscribe them again, so nothing was changed.",
        )
    if previous in (None, *NOT_IN_AUDIENCE) and not _subscription_asked(change):
        # The PUT below would subscribe them: one made, or an archived one brought back by its
        # `status` (`status_if_new` alone leaves it archived, tbar0970/jethro-pmm#708).
        return Applied(current, NOT_ADDED)
    not_sent = list(data.problems)
    profile_sent = True
    problem = None
    created = False
    try:
        unproven = not change.address_proven
        if current is not None and previous in NOT_IN_AUDIENCE and unproven:
            # In the audience already (a buyer, `transactional`) or removed by an admin: an
            # unproven hand adds the groups chosen, as for any contact of the audience, and a
            # removed one is asked to confirm by e-mail, as one who left; its names and
            # consents stay (docs/storefront-api.md). A PUT leaves what it does not name.
            again = "pending" if previous == "archived" else target
            added = _added_interests(current, change, offered)
            upsert = MemberUpsert(
                email_address=email,
                status_if_new=again,
                status=again,
                interests=added,
                marketing_permissions=_kept_withdrawals(current, withdrawn, []),
            )
            member = await client.upsert_member(list_id, upsert)
            profile_sent = False
        elif current is None or previous in NOT_IN_AUDIENCE:
            # A new (or re-added) contact lacking a required field is still added (Mailchimp's
            # skip_merge_validation), and the missing field reported, never made up; a value
            # the contact holds already counts.
            held = dict(current.merge_fields) if current is not None else {}
            not_sent += missing_required(specs, {**held, **data.merge_fields})
            fields["marketing_permissions"] = _kept_withdrawals(
                current, withdrawn, permissions or []
            )
            upsert = MemberUpsert(
                email_address=email, status_if_new=target, status=target, **fields
            )
            member = await client.upsert_member(list_id, upsert)
            created = current is None
        elif previous == "cleaned":
            # Only the confirmation by e-mail: Mailchimp lets no one edit a cleaned contact, so
            # the groups, consents and profile chosen cannot go with it (see the module).
            member = await client.update_member(list_id, email, MemberPatch(status="pending"))
            profile_sent = False
            if (
                any(value is not None for value in fields.values())
                if change.address_proven
                else any(i in offered for i in change.interest_ids or [])
            ):
                problem = CLEANED_CHOICES_NOT_SENT
        elif not change.address_proven:
            # The public signup form, a guest's checkout or a registration whose address was
            # never confirmed (`ContactChange.address_proven`) proves nothing of who typed the
            # address (Mailchimp's own forms answer an address already in the audience with a
            # link to update the profile, never a change): it adds the groups chosen, and
            # leaves the contact's names, other groups and consents as they are. A contact
            # who left is asked to confirm by e-mail, with their profile as they left it.
            patch = _unproven_patch(current, change, offered)
            unchanged = patch.status is None and patch.interests is None
            member = current if unchanged else await client.update_member(list_id, email, patch)
            profile_sent = False
        else:
            # An existing contact: a value the app filled and the customer removed is cleared.
            fields["merge_fields"] = data.merge_fields_clearing(sent_before) or None
            # Mailchimp's rule: a fresh opt-in of an unsubscribed contact is confirmed by e-mail.
            status = {"status": "pending"} if previous == "unsubscribed" else {}
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
        asked = fields if change.address_proven else {}
        try:
            member = await client.update_member(
                list_id, email, MemberPatch(status="pending", **asked)
            )
        except MemberInComplianceState:
            return refused
        if not change.address_proven:
            fields["merge_fields"] = None  # not asked
    data_tags = data.tags
    if data_tags is None:
        updates = tag_changes(tags, ())
    else:
        updates = tag_changes([*tags, *data_tags], previous_data_tags)
    if updates:
        await client.update_member_tags(list_id, email, updates)
    return Applied(
        member,
        problem,
        not_sent=not_sent,
        data_tags=data_tags,
        profile_sent=profile_sent,
        merge_fields=(fields["merge_fields"] or {}) if profile_sent else {},
        created=created,
    )


async def _unsubscribe(
    client: MailchimpClient, change: ContactChange, current: Member | None, known: list[str]
) -> Applied:
    """The contact leaves; with `permissions_exact` (the account page's boxes: the whole
    choice), the permissions it holds and the shopper did not choose are withdrawn in the same
    PATCH, also of a contact who left before (Mailchimp takes `marketing_permissions` on any
    member's PATCH but a cleaned one's: "PATCH /lists/{list_id}/members/{subscriber_hash}",
    mailchimp.com/developer/marketing/api/list-members/update-list-member/). An unproven hand
    takes nothing away: nothing is sent."""
    if current is None or not change.address_proven:
        return Applied(current)
    enabled = {p.marketing_permission_id for p in current.marketing_permissions if p.enabled}
    withdrawn = [
        MarketingPermissionInput(marketing_permission_id=p, enabled=False)
        for p in known
        if change.permissions_exact and p in enabled and p not in change.permission_ids
    ]
    leaving = current.status in ("subscribed", "pending")
    if not leaving and (not withdrawn or current.status != "unsubscribed"):
        return Applied(current)
    patch = MemberPatch(
        status="unsubscribed" if leaving else None, marketing_permissions=withdrawn or None
    )
    return Applied(await client.update_member(change.list_id, change.email, patch))


def _kept_withdrawals(
    current: Member | None, withdrawn: frozenset[str], sent: list[MarketingPermissionInput]
) -> list[MarketingPermissionInput] | None:
    """The permissions sent with the PUT that brings back a contact Mailchimp held out of the
    audience (archived, a buyer's): `sent` (what a proven change gives or withdraws; an
    unproven one gives nothing), plus each the contact withdrew while out (not sent then:
    `NOT_ADDED`, kept in the app's record, `withdrawn`) that Mailchimp still holds enabled,
    sent disabled. Mailchimp keeps an archived contact's data ("you'll retain all of their
    data", its help on archiving contacts) and a PUT leaves what it does not name, so it would
    otherwise be enabled again."""
    named = {p.marketing_permission_id for p in sent}
    enabled = current.marketing_permissions if current is not None else []
    kept = [
        MarketingPermissionInput(marketing_permission_id=p.marketing_permission_id, enabled=False)
        for p in enabled
        if p.enabled and p.marketing_permission_id in withdrawn - named
    ]
    return [*sent, *kept] or None


def _subscription_asked(change: ContactChange) -> bool:
    """Whether the change may add the contact to the audience: the shopper's own fresh consent,
    or staff subscribing a customer (the panel's own action; it refuses one who unsubscribed
    or bounced, `admin.subscribe_blocked_reason`). Any other store change (a GDPR permission
    withdrawn while staying, `storefront._withdraw`; a withdrawal left of a change of an
    audience turned off, `turned_off.withdrawal_only`) only changes a contact in it: a
    withdrawal never subscribes anyone."""
    return change.fresh_consent or change.source is Source.ADMIN


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


def _interests(
    change: ContactChange, offered: list[str], hidden: frozenset[str]
) -> dict[str, bool] | None:
    """The interests a change sets: its choice is the whole one of the groups offered (those
    not chosen turned off), but a shopper's never names a hidden group's, which are for the
    store to set and not shown (docs/storefront-api.md): one chosen is set, the others stay
    as they are. Staff (the customer panel shows every group) choose them all."""
    if change.interest_ids is None or not offered:
        return None
    kept = hidden if change.source is not Source.ADMIN else frozenset()
    chosen = set(change.interest_ids)
    return {i: i in chosen for i in offered if i in chosen or i not in kept}


def _added_interests(
    current: Member, change: ContactChange, offered: list[str]
) -> dict[str, bool] | None:
    """The groups an unproven change adds: those chosen and offered the contact lacks."""
    added = {i: True for i in change.interest_ids or [] if i in offered}
    return {i: True for i in added if not current.interests.get(i)} or None


def _unproven_patch(current: Member, change: ContactChange, offered: list[str]) -> MemberPatch:
    """An unproven change of a contact in the audience or who unsubscribed (`write_member`; a
    cleaned one is asked to confirm, and nothing more): the groups chosen added, and a
    confirmation asked of one who left."""
    status = {"status": "pending"} if current.status in COMPLIANCE_STATES else {}
    return MemberPatch(**status, interests=_added_interests(current, change, offered))
