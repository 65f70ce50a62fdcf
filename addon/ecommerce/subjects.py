"""What a ledger record is about, in words an admin recognises ("Order #1042 — customer
ann@example.com"), how an order's label is stored, and a record as the page describes it."""

from __future__ import annotations

import base64
import binascii

from addon.ecommerce.models import EntityKind, MailchimpStore, SyncRecord, SyncStatus
from addon.ecommerce.page_schemas import RecordRead
from addon.explain import Where, explain

_KIND_NOUNS = {
    EntityKind.STORE: "Store",
    EntityKind.PRODUCT: "Product",
    EntityKind.CUSTOMER: "Customer",
    EntityKind.ORDER: "Order",
    EntityKind.CART: "Cart",
    EntityKind.PROMO_RULE: "Voucher",  # its Mailchimp promo rule and codes
}
ORDER_LABEL_SEPARATOR = " — "


def saleor_number(global_id: str) -> str:
    """Saleor ids are base64 of "Type:pk"; the pk is what an admin may recognise."""
    try:
        decoded = base64.b64decode(global_id + "=" * (-len(global_id) % 4), validate=True)
        _, _, pk = decoded.decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return global_id
    return pk or global_id


def record_subject(
    kind: EntityKind, label: str | None, saleor_id: str, channel_name: str | None = None
) -> str:
    """E.g. "Order #1042 — customer ann@example.com", "Product Blue Hoodie"."""
    if kind is EntityKind.STORE:
        return f"Store of {label or channel_name or saleor_id}"
    noun = _KIND_NOUNS[kind]
    if not label:
        return f"{noun} {saleor_number(saleor_id)} (not read from Saleor yet)"
    if kind is EntityKind.ORDER:
        number, _, email = label.partition(ORDER_LABEL_SEPARATOR)
        return f"Order {number} — customer {email}" if email else f"Order {number}"
    if kind is EntityKind.CART:
        return f"Cart of {label}"
    return f"{noun} {label}"


def describe_record(record: SyncRecord, store: MailchimpStore | None) -> RecordRead:
    """A ledger record with its subject, plain reason, fix and technical details."""
    name = store.name if store and store.name else record.channel_slug
    read = RecordRead.model_validate(record)
    read.subject = record_subject(record.kind, record.label, record.saleor_id, name)
    if record.status is SyncStatus.REMOVED:
        read.reason = record.last_error  # why nothing is sent (a held-back order's note), if said
        return read
    if record.status is SyncStatus.SYNCED:
        return read
    missing = store is not None and store.missing_since is not None
    explanation = explain(record.last_error, Where(record.channel_slug, name, missing))
    if explanation is not None:
        read.reason, read.action = explanation.reason, explanation.action
    read.details = record.last_error
    return read
