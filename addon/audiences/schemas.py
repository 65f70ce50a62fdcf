"""Imported audience data, and the audience settings API's bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from addon.audiences.models import DoubleOptIn, Priority
from addon.db.read import RowRead

ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$", re.IGNORECASE)


class PermissionInfo(BaseModel):
    id: str
    text: str


class MergeFieldInfo(RowRead):  # from Mailchimp's model of it
    tag: str
    name: str
    type: str
    required: bool = False
    # date_format, phone_format, choices, size...: what a value must look like.
    options: dict[str, Any] = Field(default_factory=dict)


class InterestInfo(RowRead):  # from Mailchimp's model of it
    id: str
    name: str
    display_order: int = 0


class ImportedGroup(RowRead):
    """A group (interest category) from Mailchimp, or read back from an AudienceGroup row (its
    interests are stored as these dicts)."""

    category_id: str
    title: str
    type: str
    display_order: int = 0
    interests: list[InterestInfo] = Field(default_factory=list)


class AudienceInfo(RowRead):
    """What Mailchimp says of an audience: imported, stored on an Audience row, read back."""

    list_id: str
    name: str
    double_optin: bool
    marketing_permissions_enabled: bool
    marketing_permissions: list[PermissionInfo]
    merge_fields: list[MergeFieldInfo]
    member_count: int


class ImportedAudience(AudienceInfo):
    groups: list[ImportedGroup] = Field(default_factory=list)


class GroupRead(ImportedGroup):
    offered: bool
    removed: bool


class AudienceRead(AudienceInfo):
    active: bool
    is_default: bool
    removed: bool
    groups: list[GroupRead]


class NewsletterSettingsRead(RowRead):  # read from the NewsletterSettings row
    default_list_id: str | None
    allow_multiple: bool
    double_optin: DoubleOptIn
    tags: list[str]
    allowed_origins: list[str]
    two_way: bool
    priority: Priority


class AudiencesRead(BaseModel):
    audiences: list[AudienceRead]
    # Audiences that still exist in Mailchimp ("N audiences imported"); removed ones stay
    # listed (flagged `removed`) only so a choice that vanished can be explained.
    imported_count: int
    settings: NewsletterSettingsRead
    warnings: list[str]
    last_import_at: datetime | None
    last_import_error: str | None


def clean_tags(value: list[str]) -> list[str]:
    """Each tag once, as first spelled: Mailchimp names tags without regard to case (`VIP` and
    `vip` are one tag, sandboxes' `set_tag`), so the second spelling only looked like another."""
    tags = [t.strip() for t in value if t.strip()]
    if any(len(t) > 100 for t in tags):
        raise ValueError("a tag may have at most 100 characters")
    first: dict[str, str] = {}
    for tag in tags:
        first.setdefault(tag.casefold(), tag)
    return list(first.values())


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def normal_origin(origin: str) -> str:
    """An origin as browsers send it in `Origin`: scheme and host in lower case, no default
    port (RFC 6454 section 6.1, ASCII serialization), no trailing slash."""
    text = origin.strip().rstrip("/")
    scheme, sep, rest = text.partition("://")
    scheme, rest = scheme.lower(), rest.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and rest.endswith(default):
        rest = rest[: -len(default)]
    return f"{scheme}{sep}{rest}"


def clean_origins(value: list[str]) -> list[str]:
    origins = [o.strip().rstrip("/") for o in value if o.strip()]
    for origin in origins:
        match = ORIGIN_RE.match(origin)
        if not match or (match.group(1) and not 0 < int(match.group(1)[1:]) <= 65535):
            raise ValueError(f"{origin!r} is not an origin; write it like https://shop.example.com")
    return list(dict.fromkeys(normal_origin(origin) for origin in origins))


class NewsletterSettingsUpdate(BaseModel):
    active_list_ids: list[str]
    default_list_id: str | None = None
    offered_category_ids: list[str] = Field(default_factory=list)
    allow_multiple: StrictBool = False
    double_optin: DoubleOptIn = DoubleOptIn.FOLLOW_AUDIENCE
    tags: list[str] = Field(default_factory=list, max_length=50)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    two_way: StrictBool = True
    priority: Priority = Priority.MAILCHIMP_WINS

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return clean_tags(value)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return clean_origins(value)


class NewsletterSettingsPatch(BaseModel):
    """Only the given settings change (PATCH); omitted ones keep their value, so the Audiences
    and Subscriptions pages cannot overwrite each other's settings. `default_list_id: null`
    clears the default; null elsewhere means "unchanged". When `active_list_ids` is given
    without the other two, groups of audiences no longer active stop being offered and a default
    that is no longer active is cleared (or becomes the only active audience)."""

    model_config = ConfigDict(extra="forbid")

    active_list_ids: list[str] | None = None
    default_list_id: str | None = None
    offered_category_ids: list[str] | None = None
    allow_multiple: StrictBool | None = None
    double_optin: DoubleOptIn | None = None
    tags: list[str] | None = Field(None, max_length=50)
    allowed_origins: list[str] | None = Field(None, max_length=50)
    two_way: StrictBool | None = None
    priority: Priority | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_tags(value)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_origins(value)


class RefreshQueued(BaseModel):
    queued: bool
    message: str
