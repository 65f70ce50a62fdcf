"""Saleor metadata keys the app reads (consent) and writes (status).

Storefronts write consent on the checkout (Saleor copies it to the order) or on the user at
registration; the app writes each contact's current status per audience on the customer
(`addon.subscriptions.writeback`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONSENT_SUBSCRIBE = "mailchimp.consent.subscribe"  # "true" to subscribe
CONSENT_AUDIENCES = "mailchimp.consent.audiences"  # comma-separated audience (list) ids
CONSENT_GROUPS = "mailchimp.consent.groups"  # comma-separated interest ids
CONSENT_PERMISSIONS = "mailchimp.consent.permissions"  # comma-separated permission ids

STATUS_PREFIX = "mailchimp.status."  # + list id: subscribed, pending, unsubscribed, cleaned...
GROUPS_PREFIX = "mailchimp.groups."  # + list id: comma-separated interest ids
EMAIL_PREFIX = "mailchimp.email."  # + list id: the address Mailchimp knows (after upemail)


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
