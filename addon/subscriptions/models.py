"""What the app knows of each contact per audience, for the account page, the admin panel and
the two-way priority rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_scoped
from addon.db.base import Base
from addon.db.owned import InstallationRows
from addon.db.types import UTCDateTime, utcnow

# Statuses of a member that exists in Mailchimp and may be changed (an archived one may not).
MEMBER_STATUSES = ("subscribed", "pending", "unsubscribed", "cleaned", "transactional")
# The members whose profile (merge fields, language, tags) follows the customer's: not a cleaned
# contact, whose address bounced and which Mailchimp keeps out of edits ("you can't edit them",
# its help on cleaned contacts; "would not be able to be added back or further updated outside
# of a double opt-in signup", mailchimp/mc-magento#448): a PATCH could only fail, on every
# customer change and every mapping saved.
PROFILE_STATUSES = tuple(s for s in MEMBER_STATUSES if s != "cleaned")


@account_scoped
class ContactState(InstallationRows, Base):
    __tablename__ = "contact_states"
    __table_args__ = (
        UniqueConstraint("installation_id", "list_id", "email"),
        Index("ix_contact_states_held_for", "installation_id", "held_for"),
    )

    list_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    # The Saleor customer this contact belongs to, once known (follows e-mail changes).
    saleor_user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The customer's address Mailchimp refused as this contact's new one: the contact stays at
    # `email` (the panel and the account page show it for that address) until the customer's
    # address changes again (`email_change.py`).
    held_for: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # Mailchimp's status, or "none" before the contact reached Mailchimp.
    status: Mapped[str] = mapped_column(String(20), default="none")
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The tags the app set from mapped customer data, so a value that changes removes the
    # tags it no longer holds (and never the tags set by hand in Mailchimp).
    data_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The mapped merge fields the app last sent a value for: one whose value the customer then
    # removes is cleared in Mailchimp, and never one the app did not fill.
    sent_merge_tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A digest of each mapped merge value the app last sent ({tag: digest}, `merge_values_back`):
    # a Mailchimp profile change carries every field, and one still holding what the app sent
    # is not Mailchimp's change, never written back over a newer value in Saleor.
    sent_merge_digests: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # A digest of the mapped merge fields and language last sent, so a customer update that
    # changes none of them (e.g. the app's own status write-back) sends nothing.
    profile_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # [{"id", "text", "enabled"}]
    marketing_permissions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The two sides' latest changes and the last time they agreed: a change on both sides
    # since that time is a conflict, settled by the priority setting.
    store_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mailchimp_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A customer update held back while a change from Mailchimp waited (Mailchimp wins): the
    # change's job queues it again once applied (`mailchimp_hooks.handle_event`).
    profile_held_back: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When the contact last left the audience (its status set to unsubscribed, cleaned or
    # archived, `_withdrawn`): a consent given before it does not bring them back.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_change_source: Mapped[str | None] = mapped_column(String(30), nullable=True)
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Why the last store change was not applied (compliance, forgotten e-mail, conflict).
    last_problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def enabled_permissions(self) -> list[str]:
        """The ids of the marketing permissions the contact holds enabled, in their order."""
        return [str(p["id"]) for p in self.marketing_permissions or [] if p.get("enabled")]


class RegistrationConsent(InstallationRows, Base):
    """A registration's consent the app saw (`registration_consents.py`), identified by its
    customer and what it consents to: applied only in part while the account was unconfirmed
    (`applied_at` None), or in full (when), so each is applied in full once, whichever delivery
    shows the account confirmed first."""

    __tablename__ = "registration_consents"
    __table_args__ = (UniqueConstraint("installation_id", "saleor_user_id", "consent_digest"),)

    saleor_user_id: Mapped[str] = mapped_column(String(100))
    # `registration_consents.consent_digest`: the consented values, not when they were read.
    consent_digest: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignedInCheckout(InstallationRows, Base):
    """A checkout whose consent its signed-in user gave under their own address
    (`checkout_owner.py`), as its latest CHECKOUT_CREATED or _METADATA_UPDATED showed it: the
    order placed from it later proves the address though its PLACED event names nobody.
    No user: Saleor showed it otherwise. `seen_at`: when Saleor was read, so an older read
    written late changes nothing."""

    __tablename__ = "signed_in_checkouts"
    __table_args__ = (
        UniqueConstraint("installation_id", "checkout_id"),
        # The checkouts remembered too long, deleted as each is read (`checkout_owner.remember`).
        Index("ix_signed_in_checkouts_seen", "installation_id", "seen_at"),
    )

    checkout_id: Mapped[str] = mapped_column(String(100))
    saleor_user_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


WITHDRAWN_STATUSES = ("unsubscribed", "cleaned", "archived")


@event.listens_for(ContactState.status, "set")
def _withdrawn(state: ContactState, status: str, previous: object, _initiator: object) -> None:
    """However a status is set (a Mailchimp event, a change the store sent, the statuses the
    engagement collection saw), leaving the audience is dated."""
    if status in WITHDRAWN_STATUSES and status != previous:
        state.withdrawn_at = utcnow()
