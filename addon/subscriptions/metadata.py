"""Saleor metadata keys the app reads (consent) and writes (status).

Storefronts write consent on the checkout (Saleor copies it to the order) or on the user at
registration; the app writes each contact's current status per audience on the customer
(`addon.subscriptions.writeback`, `status_keys`).

A customer's public metadata is theirs to read: Saleor resolves `metadata` with no permission
check ("Can be accessed without permissions", saleor/graphql/meta/types.py
`ObjectWithMetadata.resolve_metadata`) and `me` is the signed-in user, so any storefront can
show it. Private metadata needs MANAGE_USERS (MANAGE_STAFF for a staff account:
saleor/graphql/meta/permissions.py `private_user_permissions`, checked by
saleor/graphql/meta/resolvers.py `check_private_metadata_privilege`): staff and apps only. So
the public groups key holds what Mailchimp's own profile page shows the contact, never a hidden
group (the store's segmentation, "contacts can't see them"); every group is in the private
metadata under the same key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

CONSENT_SUBSCRIBE = "mailchimp.consent.subscribe"  # "true" to subscribe
CONSENT_AUDIENCES = "mailchimp.consent.audiences"  # comma-separated audience (list) ids
CONSENT_GROUPS = "mailchimp.consent.groups"  # comma-separated interest ids
CONSENT_PERMISSIONS = "mailchimp.consent.permissions"  # comma-separated permission ids

STATUS_PREFIX = "mailchimp.status."  # + list id: subscribed, pending, unsubscribed, cleaned...
# + list id: comma-separated interest ids; public: those the contact may see, private: all.
GROUPS_PREFIX = "mailchimp.groups."
EMAIL_PREFIX = "mailchimp.email."  # + list id: the address Mailchimp knows (after upemail)


class MetadataEntry(BaseModel):
    """One `MetadataInput` of Saleor's metadata mutations."""

    key: str
    value: str


class StatusKeys(BaseModel):
    """What the app writes on a customer for its contacts: `public` (`updateMetadata`, the
    customer's to read) and `private` (`updatePrivateMetadata`, staff and apps only)."""

    public: list[MetadataEntry] = []
    private: list[MetadataEntry] = []

    def __add__(self, other: StatusKeys) -> StatusKeys:
        return StatusKeys(public=self.public + other.public, private=self.private + other.private)


def status_keys(
    list_id: str,
    *,
    status: str,
    email: str,
    interests: list[str],
    visible: frozenset[str],
) -> StatusKeys:
    """One contact's keys: its status, the groups it may see and its address in public; every
    group it is in (hidden ones too) in private."""
    every = ",".join(interests)
    shown = ",".join(i for i in interests if i in visible)
    return StatusKeys(
        public=[
            MetadataEntry(key=STATUS_PREFIX + list_id, value=status),
            MetadataEntry(key=GROUPS_PREFIX + list_id, value=shown),
            MetadataEntry(key=EMAIL_PREFIX + list_id, value=email),
        ],
        private=[MetadataEntry(key=GROUPS_PREFIX + list_id, value=every)],
    )


def _ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@dataclass(frozen=True)
class Consent:
    subscribe: bool
    audiences: list[str] = field(default_factory=list)
    # None: no groups key, so the contact's groups stay as they are (a storefront with a plain
    # "subscribe me" box would otherwise turn off every group the subscriber chose).
    groups: list[str] | None = None
    permissions: list[str] = field(default_factory=list)

    @classmethod
    def from_metadata(cls, items: dict[str, str]) -> Consent:
        """No `mailchimp.consent.subscribe=true` means no consent, whatever else is set."""
        groups = items.get(CONSENT_GROUPS)
        return cls(
            subscribe=(items.get(CONSENT_SUBSCRIBE) or "").strip().lower() == "true",
            audiences=_ids(items.get(CONSENT_AUDIENCES)),
            groups=None if groups is None else _ids(groups),
            permissions=_ids(items.get(CONSENT_PERMISSIONS)),
        )
