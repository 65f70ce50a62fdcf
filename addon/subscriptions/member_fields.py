"""A Saleor customer's data as an audience member's merge fields, language and tags.

The customer is read afresh from Saleor when a member is sent (`profile.fetch_profile`), so
every upsert carries the current values whatever started it. Each mapped value is converted
and checked against its merge field (`addon.audiences.merge_values`); a value that cannot be is
left out and reported in Activity, and the member update goes on without it. A required merge
field with no value is reported too, never filled with a placeholder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.mapping import VALUE_NOT_SENT
from addon.audiences.merge_values import MergeFieldSpec, convert, mailchimp_language
from addon.audiences.merge_values_back import merge_digest
from addon.audiences.models import FieldMapping, FieldSource, MappingTarget
from addon.installations.models import Installation
from addon.jobs.repository import JobRepository
from addon.mailchimp import subscriber_hash
from addon.services import Services
from addon.subscriptions.profile import CustomerProfile, fetch_profile
from addon.subscriptions.schemas import ContactChange

logger = logging.getLogger(__name__)

TAG_LIMIT = 100  # Mailchimp's longest tag name


def parse_tags(value: str | None) -> tuple[list[str], list[str]]:
    """A metadata value holding a list: a JSON array, or names separated by commas. The tags,
    and the names too long for a tag (Mailchimp refuses them), which are left out."""
    text = (value or "").strip()
    if not text:
        return [], []
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text.split(",")
    spelled: dict[str, str] = {}  # one tag per name, case aside (Mailchimp's: `tag_changes`)
    # JSON null, booleans, arrays and objects name no tag (`JSON.stringify` of no tags: null).
    for item in parsed if isinstance(parsed, list) else [parsed]:
        name = "" if isinstance(item, bool | None | list | dict) else str(item).strip()
        if name:
            spelled.setdefault(name.casefold(), name)
    tags = list(spelled.values())
    return [t for t in tags if len(t) <= TAG_LIMIT], [t for t in tags if len(t) > TAG_LIMIT]


@dataclass
class MemberData:
    """What the mapping makes of a customer for one audience's member."""

    merge_fields: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    # None: no tags mapping (the member's tags are left alone).
    tags: list[str] | None = None
    problems: list[str] = field(default_factory=list)
    # Fields filled from a form's or a checkout's names rather than the mapping.
    given_names: set[str] = field(default_factory=set)
    # Mapped name fields the account has no value for, filled from the given names or the
    # default billing address's (`member_data`): never cleared as a removed value (not in
    # `mapped_sent`), but their digests kept, so Mailchimp still holding one is no change of
    # the member's to write back onto the account.
    fallback_names: set[str] = field(default_factory=set)
    # Mapped fields the customer has no value for (not those whose value could not be
    # converted: a problem keeps what Mailchimp holds).
    blank: set[str] = field(default_factory=set)

    def mapped_sent(self) -> list[str]:
        """The mapped fields this sends a value for (`ContactState.sent_merge_tags`)."""
        filled_otherwise = self.given_names | self.fallback_names
        return sorted(k for k in self.merge_fields if k not in filled_otherwise)

    def sent_digests(
        self, sent: dict[str, Any], before: dict[str, str], specs: list[MergeFieldSpec]
    ) -> dict[str, str]:
        """`ContactState.sent_merge_digests` once `sent` (a member write's merge fields, a
        cleared one's "" too) went: each mapped field sent takes its value's digest; one not
        sent (its value could not be converted, say) keeps what Mailchimp still holds."""
        by_tag = {s.tag: s for s in specs}
        digests = dict(before)
        for tag, value in sent.items():
            digest = merge_digest(value, by_tag.get(tag))
            if tag not in self.given_names and digest is not None:
                digests[tag] = digest
        return digests

    def merge_fields_clearing(self, sent_before: list[str]) -> dict[str, Any]:
        """The merge fields to send to an existing member: a field the app filled before whose
        value the customer removed is cleared (Mailchimp takes "" as no value, as the official
        Magento integration sends every mapped field without one: mc-magento2 Helper/Data.php);
        one the app never filled (typed in Mailchimp) is left alone."""
        cleared = {tag: "" for tag in sorted(self.blank & set(sent_before))}
        return {**cleared, **self.merge_fields}

    def digest(self) -> str:
        """What the mapping made of the customer (not the names a form gave)."""
        mapped = {k: v for k, v in self.merge_fields.items() if k not in self.given_names}
        body = json.dumps(
            {"merge": mapped, "language": self.language, "tags": self.tags},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


def member_data(
    profile: CustomerProfile | None,
    mappings: list[FieldMapping],
    specs: list[MergeFieldSpec],
    *,
    names: tuple[str | None, str | None] = (None, None),
    language: str | None = None,
    filled: Collection[str] = (),
) -> MemberData:
    """The mapped merge fields, the member's language and its tags from data.

    Without a mapping of FNAME/LNAME the names given (a checkout's billing name, a form's) go to
    those fields as before, checked as mapped values are: Saleor takes a name of 256 characters
    (account/models.py, `max_length=256`), Mailchimp's text field 255, and a value it refuses
    fails the whole member write.

    A mapped first or last name the account lacks falls back to the name given, else to the
    default billing address's (`_fallback_name`), unless the field is in `filled`: one the app
    already filled for the contact (`ContactState.sent_merge_digests`), which stays as it is."""
    by_tag = {s.tag: s for s in specs}
    data = MemberData(
        language=mailchimp_language(profile.language_code if profile else None)
        or mailchimp_language(language)
    )
    mapped = {m.merge_tag for m in mappings if m.target is MappingTarget.MERGE_FIELD}
    for tag, given in (("FNAME", names[0]), ("LNAME", names[1])):
        spec = by_tag.get(tag)
        if spec is None or tag in mapped or not given:
            continue
        result = convert(given, spec)
        if result.problem is not None:
            data.problems.append(f"{spec.name or spec.tag} ({spec.tag}): {result.problem}")
        elif result.value is not None:
            data.merge_fields[tag] = result.value
            data.given_names.add(tag)
    for mapping in mappings:
        if mapping.target is MappingTarget.TAGS:
            raw = profile.value(mapping.source, mapping.key) if profile else None
            data.tags, too_long = parse_tags(raw if isinstance(raw, str) else None)
            data.problems += [
                f"Tags ({mapping.key}): “{name[:40]}…” is longer than Mailchimp's "
                f"{TAG_LIMIT} characters for a tag"
                for name in too_long
            ]
            continue
        spec = by_tag.get(mapping.merge_tag)
        if spec is None or profile is None:
            continue  # the field is gone from Mailchimp; a guest has no customer data
        value = profile.value(mapping.source, mapping.key)
        fallback = None
        if spec.tag not in filled and isinstance(value, str) and not value.strip():
            fallback = _fallback_name(profile, mapping.source, names)
        result = convert(fallback or value, spec)
        if result.problem is not None:
            data.problems.append(f"{spec.name or spec.tag} ({spec.tag}): {result.problem}")
        elif result.value is not None:
            data.merge_fields[spec.tag] = result.value
            if fallback:
                data.fallback_names.add(spec.tag)
        else:
            data.blank.add(spec.tag)
    return data


def _fallback_name(
    profile: CustomerProfile, source: FieldSource, names: tuple[str | None, str | None]
) -> str | None:
    """A name for a mapped name field the account has none for. Saleor never copies a
    checkout's billing name onto the user (saleor/checkout/complete_checkout.py
    `_process_user_data_for_order` stores the address only) and `accountRegister` takes names
    as optional, so most shoppers' accounts have none: the name the checkout or form gave, else
    the default billing address's, as Saleor's own `User.get_full_name` falls back
    (saleor/account/models.py). None for another source."""
    given = {FieldSource.FIRST_NAME: names[0], FieldSource.LAST_NAME: names[1]}
    if source not in given:
        return None
    return (given[source] or "").strip() or profile.billing_name(source).strip() or None


def missing_required(specs: list[MergeFieldSpec], merge_fields: dict[str, Any]) -> list[str]:
    """Required merge fields a new member would lack (Mailchimp refuses such a member unless
    told to skip that check; the app never makes a value up)."""
    return [
        f"{spec.name or spec.tag} ({spec.tag}) is required in Mailchimp but the customer has no "
        "value for it; the contact was added without it"
        for spec in specs
        if spec.required and merge_fields.get(spec.tag) in (None, "")
    ]


async def report_not_sent(
    session: AsyncSession,
    installation_id: int,
    *,
    list_id: str,
    audience_name: str,
    email: str,
    problems: list[str],
) -> None:
    """One Activity entry per problem (a done job; the same problem of a contact once)."""
    jobs = JobRepository(session)
    for problem in problems:
        message = (
            f"Not sent to “{audience_name}” for {email}: {problem}. The rest of the contact's "
            "update was sent."
        )
        digest = hashlib.sha256(f"{list_id}:{problem}".encode()).hexdigest()[:16]
        await jobs.record_note(
            installation_id,
            VALUE_NOT_SENT,
            {"list_id": list_id, "email": email, "problem": problem},
            message,
            dedupe_key=f"{VALUE_NOT_SENT}:{subscriber_hash(email)}:{digest}",
        )
        logger.info("A mapped merge value was not sent: %s", problem)


async def change_member_data(
    services: Services,
    installation: Installation,
    change: ContactChange,
    mappings: list[FieldMapping],
    specs: list[MergeFieldSpec],
    held_for: str | None = None,
) -> MemberData:
    """The mapped fields, language and tags of the change's customer (read from Saleor, by id
    or else by address, when the audience maps anything or the language is not known yet).
    `held_for`: the contact is held for that address of its customer (`ContactState`)."""
    names = (change.first_name, change.last_name)
    profile = None
    if mappings or change.language is None:
        private = any(m.source.value == "private_metadata" for m in mappings)
        profile = await fetch_profile(
            services,
            installation.saleor_api_url,
            installation.app_token,
            installation_id=installation.id,
            user_id=change.saleor_user_id,
            email=None if change.saleor_user_id else change.email,
            private=private,
        )
        if profile is not None and profile.email.lower() not in (change.email, held_for):
            # The address is not this customer's own (a checkout for someone else): their
            # data is not the contact's.
            profile = None
    return member_data(profile, mappings, specs, names=names, language=change.language)
