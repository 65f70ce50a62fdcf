"""Imported audiences and groups (account-scoped) and the store's newsletter settings."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import SecretStr
from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_progress, account_scoped
from addon.db.base import Base
from addon.db.owned import InstallationKeyed, InstallationRows
from addon.db.types import EncryptedSecret, StrEnumType, UTCDateTime, utcnow


class DoubleOptIn(StrEnum):
    FOLLOW_AUDIENCE = "follow_audience"  # what the audience is set to in Mailchimp
    ALWAYS = "always"  # force a confirmation e-mail for every new subscriber


class Priority(StrEnum):
    MAILCHIMP_WINS = "mailchimp_wins"
    STORE_WINS = "store_wins"


@account_scoped
class Audience(InstallationRows, Base):
    """One Mailchimp audience (list) as last imported, plus whether the store offers it."""

    __tablename__ = "audiences"
    __table_args__ = (UniqueConstraint("installation_id", "list_id"),)

    list_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    double_optin: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_permissions_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # [{"id", "text"}]: GDPR permissions (Mailchimp exposes them only on members).
    marketing_permissions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"tag", "name", "type", "required"}]
    merge_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the audience disappeared from Mailchimp: it is no longer offered.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The audience webhook the app registered for Mailchimp → store changes.
    webhook_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def permission_ids(self) -> set[str]:
        """The ids of the audience's marketing permissions."""
        return {str(p["id"]) for p in self.marketing_permissions or []}


@account_scoped
class AudienceGroup(InstallationRows, Base):
    """One interest category ("group title") with its interests, as last imported."""

    __tablename__ = "audience_groups"
    __table_args__ = (UniqueConstraint("installation_id", "list_id", "category_id"),)

    list_id: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    display_order: Mapped[int] = mapped_column(Integer, default=0)
    # [{"id", "name", "display_order"}]
    interests: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    offered: Mapped[bool] = mapped_column(Boolean, default=False)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def visible_interests(groups: Iterable[AudienceGroup], list_id: str) -> frozenset[str]:
    """The audience's interests a contact may be shown: of its groups still in Mailchimp (one
    deleted there stays in the contact's record until its next change: no webhook tells of
    it), and never a `hidden` group's (Mailchimp's profile page shows a contact none of them:
    they are the store's segmentation). One not imported yet is not shown either."""
    return frozenset(
        str(i["id"])
        for group in groups
        if group.list_id == list_id and group.removed_at is None and group.type != "hidden"
        for i in group.interests
    )


# What the customers' public metadata shows of their groups (`shown_groups_revision`): raised
# when that changes. 1: no hidden group (earlier versions wrote every group in public).
SHOWN_GROUPS_REVISION = 1


class NewsletterSettings(InstallationKeyed, Base):
    """What the store offers and how changes flow; one row per installation."""

    __tablename__ = "newsletter_settings"

    default_list_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    allow_multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    double_optin: Mapped[DoubleOptIn] = mapped_column(
        StrEnumType(DoubleOptIn), default=DoubleOptIn.FOLLOW_AUDIENCE
    )
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    two_way: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[Priority] = mapped_column(
        StrEnumType(Priority), default=Priority.MAILCHIMP_WINS
    )
    # The secret in the audience-webhook URL (encrypted: the URL is rebuilt when registering).
    webhook_secret: Mapped[SecretStr | None] = mapped_column(EncryptedSecret, nullable=True)
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_import_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # The customers' public groups keys as an earlier version wrote them are written again at
    # the next import when this is below `SHOWN_GROUPS_REVISION` (`audiences.service`).
    shown_groups_revision: Mapped[int] = mapped_column(Integer, default=SHOWN_GROUPS_REVISION)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# Another account's audiences are reached at another secret: the account before's webhooks (which
# the app could not remove, its access gone) are then answered 410, on which Mailchimp disables
# them, instead of delivering its contacts' changes to the app for good.
account_progress(NewsletterSettings, webhook_secret=None)


class FieldSource(StrEnum):
    """The Saleor customer data a merge field (or the member's tags) can be filled from."""

    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    BILLING_PHONE = "billing_phone"
    SHIPPING_PHONE = "shipping_phone"
    BILLING_ADDRESS = "billing_address"
    SHIPPING_ADDRESS = "shipping_address"
    LANGUAGE = "language"
    DATE_JOINED = "date_joined"
    METADATA = "metadata"  # a public metadata key, named by `key`
    PRIVATE_METADATA = "private_metadata"  # a private metadata key, named by `key`


class MappingTarget(StrEnum):
    MERGE_FIELD = "merge_field"  # the value fills the merge field `merge_tag`
    TAGS = "tags"  # the value is a list: the member's tags (added and removed as it changes)


@account_scoped
class FieldMapping(InstallationRows, Base):
    """What fills one merge field of an audience (or its tags), chosen by the admin."""

    __tablename__ = "audience_field_mappings"
    __table_args__ = (UniqueConstraint("installation_id", "list_id", "target", "merge_tag"),)

    list_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[MappingTarget] = mapped_column(StrEnumType(MappingTarget))
    # The merge field's tag; "" for the tags target (one per audience).
    merge_tag: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[FieldSource] = mapped_column(StrEnumType(FieldSource))
    # The metadata key, for the metadata sources ("" otherwise).
    key: Mapped[str] = mapped_column(String(255), default="")
