"""Saleor metadata keys the app reads (consent) and writes (status), and the status writer.

Storefronts write consent on the checkout (Saleor copies it to the order) or on the user at
registration; the app writes each contact's current status per audience on the customer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from addon.installations.repository import InstallationRepository
from addon.saleor.client import SaleorQueryError
from addon.services import Services
from addon.subscriptions.repository import ContactRepository

logger = logging.getLogger(__name__)

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
    groups: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)

    @classmethod
    def from_metadata(cls, items: dict[str, str]) -> Consent:
        """No `mailchimp.consent.subscribe=true` means no consent, whatever else is set."""
        return cls(
            subscribe=(items.get(CONSENT_SUBSCRIBE) or "").strip().lower() == "true",
            audiences=_ids(items.get(CONSENT_AUDIENCES)),
            groups=_ids(items.get(CONSENT_GROUPS)),
            permissions=_ids(items.get(CONSENT_PERMISSIONS)),
        )


class MetadataWriteFailed(Exception):
    pass


async def write_customer_status(
    services: Services, installation_id: int, email: str, *, lookup_email: str | None = None
) -> None:
    """Write the contact's status in every audience onto its Saleor customer (if any).

    `lookup_email` finds the customer when it still has another address (after upemail).
    """
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        states = await ContactRepository(session).for_email(installation_id, email)
        if installation is None or not states:
            return
        api_url, token = installation.saleor_api_url, installation.app_token
        user_id = next((s.saleor_user_id for s in states if s.saleor_user_id), None)
        items = [
            item
            for s in states
            if s.status != "none"
            for item in (
                {"key": STATUS_PREFIX + s.list_id, "value": s.status},
                {"key": GROUPS_PREFIX + s.list_id, "value": ",".join(s.interests)},
                {"key": EMAIL_PREFIX + s.list_id, "value": s.email},
            )
        ]
    if not items:
        return
    if user_id is None:
        data = await services.saleor.execute(
            api_url, token, "subscriptions_user_by_email", {"email": lookup_email or email}
        )
        user = data.get("user")
        if not user:
            return  # a guest: no customer to write on
        user_id = str(user["id"])
        async with services.db.transaction() as session:
            for state in await ContactRepository(session).for_email(installation_id, email):
                state.saleor_user_id = user_id
    try:
        data = await services.saleor.execute(
            api_url, token, "subscriptions_update_metadata", {"id": user_id, "input": items}
        )
    except SaleorQueryError as exc:
        raise MetadataWriteFailed(f"Saleor refused the customer metadata: {exc}") from exc
    errors = (data.get("updateMetadata") or {}).get("errors") or []
    if errors:
        raise MetadataWriteFailed(
            "Saleor refused the customer metadata: " + "; ".join(str(e) for e in errors)
        )
