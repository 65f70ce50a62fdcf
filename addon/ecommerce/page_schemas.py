"""Pydantic models of the E-commerce page's API (`endpoints.py`): what the admin sends (a
channel's tracking and audience, a resync) and what the page reads (each channel's card with its
store, next action and counts, the ledger's records in words, an action's result). Its settings
are in `settings_api.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from addon.db.read import RowRead
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.settings_api import SettingsRead
from addon.ecommerce.store_state import StoreStatus
from addon.explain import Action


class ChannelTracking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracked: StrictBool
    list_id: str | None = Field(
        None,
        description="The audience the channel's Mailchimp store belongs to. Mailchimp cannot "
        "move a store to another audience: choosing a different audience creates a new store "
        "and sends the channel's data again; the old store keeps its history in Mailchimp.",
    )


class ResyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EntityKind | None = None


class KindCounts(BaseModel):
    synced: int = 0
    pending: int = 0
    quarantined: int = 0
    removed: int = 0


class NextAction(BaseModel):
    """The channel card's one primary action in its current state."""

    code: Literal[
        "connect_mailchimp",
        "choose_audience",
        "track",
        "enable_tracking",
        "recreate_store",
        "resync_all",
        "stop_tracking",
        "follow_channel",
        "start_initial_sync",
        "none",
    ]
    label: str | None = None
    hint: str | None = Field(None, description="One sentence on the state, for the card.")


class ChannelRead(BaseModel):
    slug: str
    name: str
    currency_code: str
    tracked: bool
    list_id: str | None
    store_id: str | None
    store_status: StoreStatus = Field(
        description="not_created | creating | ready | missing (deleted in Mailchimp: "
        "re-create it) | failed (store_message says why)"
    )
    store_message: str | None = Field(None, description="Why the store is missing or failed.")
    channel_active: bool = Field(
        True,
        description="Whether Saleor has the channel active. An inactive channel sells nothing: "
        "its products go to Mailchimp hidden and out of stock until it is active again.",
    )
    channel_inactive_since: datetime | None = Field(
        None, description="Since when the app has seen the tracked channel inactive."
    )
    store_record_status: SyncStatus | None = Field(
        None, description="The ledger status of the store's own push."
    )
    store_error: str | None = Field(None, description="The technical text of store_message.")
    next_action: NextAction
    counts: dict[EntityKind, KindCounts] | None = Field(
        description="Per kind; null while the channel is not tracked."
    )
    last_push_at: datetime | None


class EcommerceRead(BaseModel):
    connected: bool
    settings: SettingsRead
    channels: list[ChannelRead]
    last_push_at: datetime | None
    audience_note: str = (
        "Mailchimp fixes a store's audience when the store is created: changing a channel's "
        "audience creates a new store for it."
    )


class RecordRead(RowRead):
    id: int
    channel_slug: str
    kind: EntityKind
    saleor_id: str
    label: str | None = Field(
        None,
        description="What the record is, in words: the product's title, the customer's or "
        "checkout's e-mail, the order's number (#1042), the channel's name for its store; "
        "None until a push has read it from Saleor.",
    )
    mailchimp_id: str | None
    status: SyncStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    pushed_at: datetime | None
    updated_at: datetime
    subject: str = Field("", description='The record in words, e.g. "Product Blue Hoodie".')
    reason: str | None = Field(None, description="Why it is not synced, in one sentence.")
    action: Action | None = None
    details: str | None = Field(None, description="The technical text behind the reason.")


class ActionResult(BaseModel):
    queued: int
    message: str
