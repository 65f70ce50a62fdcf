"""Campaign engagement collected back from Mailchimp: campaigns and their reports, per-member
summaries (keyed by the subscriber hash: the app keeps no address here), their activity per
campaign, the orders Mailchimp attributes to campaigns, and the collection's settings and run.

A member is a person of any active audience, known by `email_hash` (Mailchimp's subscriber
hash, MD5 of the lower-cased address); `saleor_user_id` is the Saleor customer with that address
(None: a guest, counted but never written anywhere).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_models, account_progress, account_scoped
from addon.db.base import Base
from addon.db.owned import InstallationKeyed, InstallationRows
from addon.db.types import StrEnumType, UTCDateTime, utcnow
from addon.jobs.models import BigId

DEFAULT_INTERVAL_DAYS = 30  # OroCRM's default "Activity Update Interval"
DEFAULT_SCHEDULE_MINUTES = 60


class RunState(StrEnum):
    NEVER = "never"
    IDLE = "idle"
    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"


class EngagementSettings(InstallationKeyed, Base):
    """The admin's settings and the collection's progress; one row per installation."""

    __tablename__ = "engagement_settings"

    activity_interval_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_DAYS)
    schedule_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_SCHEDULE_MINUTES)
    state: Mapped[RunState] = mapped_column(StrEnumType(RunState), default=RunState.NEVER)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    campaigns_total: Mapped[int] = mapped_column(Integer, default=0)
    campaigns_done: Mapped[int] = mapped_column(Integer, default=0)
    members_seen: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    # {list_id: ISO time}: members read up to then (Mailchimp's `since_last_changed`).
    list_cursors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the next scan of Saleor customers starts (`updatedAt`; `collector._next_scan_from`:
    # a margin before the last scan began); None: scan them all.
    customers_scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the last run wrote customers' metadata: since Saleor 3.23 each write sets the
    # customer's `updatedAt`, so the next scan skips that window (`collector._customers`).
    customers_written_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    customers_written_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The collection job running the installation's collection (`jobs._take_run`): one at a time.
    run_job_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# Another account's data (its members and the customers linked to them) starts from nothing:
# every customer scanned again and every member read again, or those not changed since the
# cursors would never be linked to the new account's members.
account_progress(
    EngagementSettings,
    list_cursors={},
    customers_scanned_at=None,
    customers_written_from=None,
    customers_written_until=None,
)


@account_scoped
class EngagementCampaign(InstallationRows, Base):
    """One sent campaign of an active audience and its report, as last read."""

    __tablename__ = "engagement_campaigns"
    __table_args__ = (UniqueConstraint("installation_id", "campaign_id"),)

    campaign_id: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[str] = mapped_column(String(64))
    list_name: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(String(255), default="")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    unique_opens: Mapped[int] = mapped_column(Integer, default=0)
    open_rate: Mapped[float] = mapped_column(Float, default=0.0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    unique_clicks: Mapped[int] = mapped_column(Integer, default=0)
    click_rate: Mapped[float] = mapped_column(Float, default=0.0)
    unsubscribes: Mapped[int] = mapped_column(Integer, default=0)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    # In the currency's minor unit (cents): exact on both databases.
    revenue_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    # E-mail activity counted up to this time (exclusive); None: the first pass is to come.
    activity_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The pass in progress: its end and how far it paged (a retried job resumes there).
    pass_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pass_offset: Mapped[int] = mapped_column(Integer, default=0)
    # Attributed orders read up to this offset of `GET /ecommerce/orders?campaign_id=`.
    orders_offset: Mapped[int] = mapped_column(Integer, default=0)
    report_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@account_scoped
class EngagementDay(InstallationRows, Base):
    """Opens and clicks of one campaign on one day (UTC), for the Reports page's chart."""

    __tablename__ = "engagement_days"
    __table_args__ = (UniqueConstraint("installation_id", "campaign_id", "day"),)

    campaign_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


@account_scoped
class EngagementMember(InstallationRows, Base):
    """One person's engagement across the installation's audiences."""

    __tablename__ = "engagement_members"
    __table_args__ = (
        UniqueConstraint("installation_id", "email_hash"),
        Index("ix_engagement_members_customer", "installation_id", "saleor_user_id"),
        Index("ix_engagement_members_changed", "installation_id", "changed"),
    )

    email_hash: Mapped[str] = mapped_column(String(32))
    saleor_user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    campaigns_received: Mapped[int] = mapped_column(Integer, default=0)
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    last_open: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_click: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Mailchimp's rating in each audience, {list_id: 1 to 5}: one address is a member of each
    # audience it is in, rated in each. `member_rating` is the highest of them.
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    member_rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # {list_id: [tag names]}
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The campaign ids received, newest first (at most 10).
    recent_campaigns: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Something changed since the summary was last compared with what Saleor holds.
    changed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Fingerprint of the metadata last written on the Saleor customer.
    written_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@account_scoped
class EngagementMemberCampaign(InstallationRows, Base):
    """A member's activity in one campaign (only members who opened or clicked have one)."""

    __tablename__ = "engagement_member_campaigns"
    __table_args__ = (UniqueConstraint("installation_id", "member_id", "campaign_id"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("engagement_members.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(64))
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    # The last open and click counted: an event read again (passes overlap, a page may be read
    # twice) is counted only if later (activity.py).
    last_open: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_click: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The end of the pass that last counted some of this member's events (for reading only).
    counted_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@account_scoped
class EngagementOrder(InstallationRows, Base):
    """An order Mailchimp attributes to a campaign, of a member."""

    __tablename__ = "engagement_orders"
    __table_args__ = (
        UniqueConstraint("installation_id", "store_id", "order_id"),
        Index("ix_engagement_orders_member", "member_id"),
    )

    store_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str] = mapped_column(String(100))
    campaign_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("engagement_members.id", ondelete="CASCADE"))
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@account_scoped
class EngagementCustomer(InstallationRows, Base):
    """A Saleor customer's address hash, from the scan of Saleor's customers: how a member is
    matched to a customer without the app keeping addresses (one row per customer)."""

    __tablename__ = "engagement_customers"
    __table_args__ = (
        UniqueConstraint("installation_id", "saleor_user_id"),
        Index("ix_engagement_customers_hash", "installation_id", "email_hash"),
    )

    saleor_user_id: Mapped[str] = mapped_column(String(100))
    email_hash: Mapped[str] = mapped_column(String(32))


# The collection's data of the account: a run that read an account since dropped drops it
# again, with the progress `account_progress` names (`collector.Collector.run`).
ENGAGEMENT_DATA = account_models(__name__)
