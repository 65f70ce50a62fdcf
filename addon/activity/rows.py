"""Activity rows in words: which record a job is about, who handled it, why it waits.

Jobs keep only what their handler needs (a webhook's body, a push's ledger key), so the
record's name comes from the e-commerce ledger's labels where the job carries only an id.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from addon.activity.schemas import Waiting
from addon.ecommerce.models import EntityKind, MailchimpStore
from addon.ecommerce.subjects import record_subject, saleor_number
from addon.explain import Where, explain
from addon.jobs.models import Job

WEBHOOK_PREFIX = "webhook."

# Which part of the app handles a job kind (the prefix before the first "." or "-").
_HANDLERS = {
    "ecommerce": "E-commerce sync",
    "subscriptions": "Newsletter subscriptions",
    "audiences": "Audiences",
    "initial_sync": "Initial sync",
    "app": "App lifecycle",
    "connection": "Mailchimp connection",
    "erasure": "Erasure (GDPR)",
    "engagement": "Campaign engagement",
    "installation": "App lifecycle",
}
# Webhook body key → the ledger kind whose label names it.
_BODY_KINDS = {
    "product": EntityKind.PRODUCT,
    "productVariant": EntityKind.PRODUCT,
    "user": EntityKind.CUSTOMER,
    "order": EntityKind.ORDER,
    "checkout": EntityKind.CART,
    "voucher": EntityKind.PROMO_RULE,
}
# What each kind of job the app enqueues is about, in plain words: a row's subject when its
# payload names nothing more precise (a record, an address, a store). Every kind a capability
# registers has one (tests/test_activity_labels_kinds.py); a Saleor event (`webhook.*`) is named
# by its record or by the event itself.
KIND_SUBJECTS: dict[str, str] = {
    "audiences.import": "Audiences and groups",
    "audiences.imported": "Campaign engagement started after the audience import",
    "audiences.shown_groups_changed": (
        "Groups made hidden or shown in Mailchimp: customers' groups written to Saleor again"
    ),
    "connection.connected": "Mailchimp account connected",
    "connection.resumed": "Records held while Mailchimp could not be reached, sent again",
    "ecommerce.burst": "Many store records sent to Mailchimp together (one Mailchimp batch)",
    "ecommerce.cart_sweep": "Carts of checkouts Saleor deleted (daily check)",
    "ecommerce.cart_discovery": "Carts of checkouts Saleor made without a webhook (regular check)",
    "ecommerce.product_on_offer": "A product going on offer",
    "ecommerce.product_sweep": "Products Saleor deleted with their product type (daily check)",
    "ecommerce.promo_codes": "Promo codes of a voucher, sent to Mailchimp together",
    "ecommerce.promos_permission": (
        "Vouchers: waiting until the app may read discounts in Saleor (Manage discounts permission)"
    ),
    "ecommerce.promos_resync": "All vouchers, sent to Mailchimp again as promo codes",
    "ecommerce.push": "A store record sent to Mailchimp",
    "ecommerce.reprice": "Product prices after a promotion changed",
    "ecommerce.price_recheck": "A product's price once Saleor discounted it",
    "ecommerce.resend_watch": (
        "Store sent to Mailchimp again: its automations resume once every record is there"
    ),
    "engagement.collect": "Campaign engagement collection",
    "erasure.erase": "Erasure of a customer",
    "erasure.erased": "Erasure of a customer",
    "erasure.saleor_metadata": "Erased customer's metadata in Saleor",
    "initial_sync.step": "Initial sync: the next part of sending the store to Mailchimp",
    "initial_sync.watchdog": "Initial sync: check that it is still making progress",
    "initial_sync.store_left_syncing": (
        "A Mailchimp store left marked as syncing (its automations held) when the app let go "
        "of the account"
    ),
    "installation.check": "Check that the app is still installed and active in Saleor",
    "installation.missed": (
        "Catching up with the changes Saleor could not deliver while the app was inactive "
        "or unreachable"
    ),
    "installation.replay": "Changes Saleor could not deliver, read again from Saleor",
    "installation.replay_deleted": "Customers deleted in Saleor while the app could not hear it",
    "installation.saleor_version_known": "The app's webhooks in Saleor, checked and updated",
    "installation.uninstall": "Removal of the app: clean-up in Mailchimp and of its own data",
    "installation.webhooks": "The app's webhooks in Saleor, checked and updated",
    "subscriptions.apply": "A newsletter subscription change",
    "subscriptions.checkout_consent": "A newsletter consent recorded on an abandoned checkout",
    "subscriptions.change_skipped": (
        "A newsletter subscription change not made: its audience was turned off"
    ),
    "subscriptions.customer_names_written": (
        "Customer names from Mailchimp, to the e-commerce record"
    ),
    "subscriptions.email_change": "A customer's e-mail change",
    "subscriptions.email_change_merged": "A customer's e-mail change, already a contact",
    "subscriptions.email_change_refused": "A customer's e-mail change, refused by Mailchimp",
    "subscriptions.held_move_retry": (
        "A customer's e-mail change, refused for now: to be tried again"
    ),
    "subscriptions.mailchimp_event": "A change made in Mailchimp",
    "subscriptions.refresh_profiles": (
        "Contact fields of every subscriber, sent again after the field mapping was saved"
    ),
    "subscriptions.register_webhooks": "Mailchimp audience webhooks",
    "subscriptions.shown_groups_rewrite": (
        "Groups made hidden or shown in Mailchimp: more customers' groups written to Saleor"
    ),
    "subscriptions.signup_retry": "A subscription refused for now: to be asked again",
    "subscriptions.statuses_seen": "Mailchimp statuses read by the engagement collection",
    "subscriptions.status_not_written": "Newsletter status not written to Saleor (no permission)",
    "subscriptions.update_profile": "Contact fields of a customer, sent to Mailchimp",
    "subscriptions.write_profile": "Contact fields changed in Mailchimp, written to Saleor",
    "subscriptions.write_status": "Newsletter status, written to Saleor",
}
_NEEDS_MAILCHIMP = ("ecommerce.", "audiences.", "subscriptions.", "initial_sync.", "engagement.")


def handled_by(kind: str) -> str:
    name = kind.removeprefix(WEBHOOK_PREFIX)
    for prefix, label in _HANDLERS.items():
        if name.startswith((prefix + ".", prefix + "-", prefix + "_")) or name == prefix:
            return label
    return name.replace("_", " ").replace("-", " ").capitalize()


def _body(job: Job) -> dict[str, Any]:
    body = job.payload.get("body") if isinstance(job.payload, dict) else None
    return body if isinstance(body, dict) else {}


def entity_of(job: Job) -> tuple[EntityKind, str] | None:
    """The Saleor entity a webhook or push is about, as (ledger kind, Saleor id)."""
    if job.kind == "ecommerce.push":
        try:
            return EntityKind(job.payload["kind"]), str(job.payload["saleor_id"])
        except (KeyError, ValueError):
            return None
    if job.kind == "ecommerce.product_on_offer" and isinstance(job.payload.get("saleor_id"), str):
        return EntityKind.PRODUCT, job.payload["saleor_id"]
    body = _body(job)
    for key, kind in _BODY_KINDS.items():
        value = body.get(key)
        if isinstance(value, dict):
            if key == "productVariant" and isinstance(value.get("product"), dict):
                value = value["product"]
            if isinstance(value.get("id"), str):
                return kind, value["id"]
    return None


@dataclass
class Context:
    """What the rows of one Activity page may name, read once for all of them."""

    now: datetime
    labels: dict[tuple[EntityKind, str], str] = field(default_factory=dict)
    stores: dict[str, MailchimpStore] = field(default_factory=dict)
    lane_heads: dict[str, int] = field(default_factory=dict)  # lane → oldest unfinished job
    connected: bool = True
    app_active: bool = True


def subject(job: Job, ctx: Context) -> str:
    payload = job.payload if isinstance(job.payload, dict) else {}
    entity = entity_of(job)
    if entity is not None:
        kind, saleor_id = entity
        channel = payload.get("channel") if job.kind == "ecommerce.push" else None
        store = ctx.stores.get(channel) if isinstance(channel, str) else None
        text = record_subject(
            kind, ctx.labels.get(entity), saleor_id, store.name if store else None
        )
        if job.kind == "ecommerce.product_on_offer":
            return f"{text}: on offer from its publication or sale date, or its preorder ended"
        if kind is EntityKind.CUSTOMER or kind is EntityKind.ORDER:
            email = _body_email(_body(job))
            if email and ctx.labels.get(entity) is None:
                noun = "Customer" if kind is EntityKind.CUSTOMER else "Order"
                number = _body(job).get("order", {}).get("number") if noun == "Order" else None
                head = f"Order #{number}" if number else f"{noun} {saleor_number(saleor_id)}"
                return f"Customer {email}" if noun == "Customer" else f"{head} — customer {email}"
        return text
    kind_name = job.kind
    if kind_name == "audiences.import":
        scheduled = bool(payload.get("scheduled"))
        return "Audiences and groups" + (" (scheduled re-import)" if scheduled else "")
    if kind_name == "engagement.collect":
        asked = bool(payload.get("requested"))
        return "Campaign engagement collection" + (" (asked for now)" if asked else " (scheduled)")
    if kind_name == "subscriptions.apply" and isinstance(payload.get("email"), str):
        return f"Subscription of {payload['email']}"
    if kind_name == "subscriptions.mailchimp_event" and isinstance(payload.get("email"), str):
        return f"Mailchimp {payload.get('type', 'change')} of {payload['email']}"
    if kind_name == "subscriptions.statuses_seen" and isinstance(payload.get("members"), list):
        count = len(payload["members"])
        return f"Mailchimp statuses read by the engagement collection ({count} contact(s))"
    if kind_name == "subscriptions.write_status" and isinstance(payload.get("email"), str):
        return f"Newsletter status of {payload['email']} to Saleor"
    if kind_name == "subscriptions.status_not_written" and isinstance(payload.get("email"), str):
        return f"Newsletter status of {payload['email']} not written to Saleor (no permission)"
    if kind_name == "subscriptions.email_change" and isinstance(payload.get("new_email"), str):
        return f"E-mail change of {payload.get('old_email')} to {payload['new_email']}"
    if kind_name == "subscriptions.email_change_merged" and isinstance(payload.get("email"), str):
        return f"E-mail change to {payload['email']}, already a contact"
    if kind_name == "subscriptions.email_change_refused" and isinstance(payload.get("email"), str):
        return f"E-mail change to {payload['email']}, refused by Mailchimp"
    if kind_name == "subscriptions.held_move_retry" and isinstance(payload.get("new_email"), str):
        return f"E-mail change to {payload['new_email']}, refused for now: to be tried again"
    if kind_name == "subscriptions.signup_retry" and isinstance(payload.get("change"), dict):
        email = payload["change"].get("email")
        return f"Subscription of {email}, refused for now: to be asked again"
    # erasure.*: never the address (the job keeps it only until it is erased, then its hash).
    if kind_name.startswith("initial_sync.") and job.lane and ":" in job.lane:
        channel = job.lane.split(":", 1)[1]
        store = ctx.stores.get(channel)
        return f"Initial sync of {store.name if store and store.name else channel}"
    if kind_name.startswith(WEBHOOK_PREFIX):
        return "The app in Saleor"
    return KIND_SUBJECTS.get(kind_name) or handled_by(kind_name)


def _body_email(body: dict[str, Any]) -> str | None:
    for key in ("user", "order"):
        value = body.get(key)
        if isinstance(value, dict):
            email = value.get("email") or value.get("userEmail")
            if not email and isinstance(value.get("user"), dict):
                email = value["user"].get("email")
            if isinstance(email, str) and email:
                return email
    return None


def where(job: Job, ctx: Context) -> Where:
    channel = job.payload.get("channel") if isinstance(job.payload, dict) else None
    if not isinstance(channel, str):
        return Where()
    store = ctx.stores.get(channel)
    return Where(
        channel,
        store.name if store and store.name else channel,
        bool(store and store.missing_since is not None and job.kind == "ecommerce.push"),
    )


def _at(moment: datetime, now: datetime) -> str:
    same_day = moment.date() == now.date()
    return moment.strftime("%H:%M UTC" if same_day else "%d %b %H:%M UTC")


def waiting(job: Job, ctx: Context) -> Waiting | None:
    """Why a pending job has not run yet, from the same state the worker claims by."""
    if job.status.value != "pending":
        return None
    if not ctx.app_active:
        return Waiting(
            code="app_inactive", message="Waits until the app is active in Saleor again."
        )
    head = ctx.lane_heads.get(job.lane or "")
    if head is not None and head < job.id:
        return Waiting(
            code="behind_job",
            message=f"Waits for its turn behind job #{head} (same record, one at a time).",
            behind_job_id=head,
        )
    if job.run_after > ctx.now:
        at = _at(job.run_after, ctx.now)
        if job.attempts and job.last_error:
            found = explain(job.last_error, where(job, ctx))
            why = found.reason if found else job.last_error
            return Waiting(
                code="retrying", message=f"Retrying at {at} after: {why}", until=job.run_after
            )
        if job.kind == "audiences.import":
            message = f"Scheduled for {at}: audiences are re-imported from Mailchimp regularly."
        elif job.kind == "initial_sync.watchdog":
            message = (
                f"Scheduled for {at}: checks then that the initial sync is still making "
                "progress; nothing to do if it has ended."
            )
        elif job.kind == "ecommerce.push" and job.payload.get("kind") == EntityKind.CART.value:
            message = f"Waits until {at} for more changes to the checkout."
        else:
            message = f"Scheduled for {at}."
        return Waiting(code="scheduled", message=message, until=job.run_after)
    if not ctx.connected and job.kind.startswith(_NEEDS_MAILCHIMP):
        return Waiting(
            code="not_connected",
            message="Waits for the Mailchimp connection: connect Mailchimp on the Connection page.",
        )
    return Waiting(code="due", message="Starts in a moment.")


def duplicate_notes(jobs: list[Job]) -> dict[int, str]:
    """Rows that look alike: one Saleor event for one record, delivered more than once."""
    groups: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        event = job.payload.get("event") if isinstance(job.payload, dict) else None
        entity = entity_of(job)
        if job.kind.startswith(WEBHOOK_PREFIX) and isinstance(event, str) and entity:
            groups.setdefault((event, entity[1]), []).append(job)
    notes: dict[int, str] = {}
    for (event, _), members in groups.items():
        if len(members) < 2:
            continue
        per_webhook = Counter(job.kind for job in members)
        parts = []
        if len(per_webhook) > 1:
            names = ", ".join(sorted({handled_by(kind) for kind in per_webhook}))
            parts.append(
                f"Saleor sends {event} to each of the app's webhooks that listen to it "
                f"({names}): one row each."
            )
        if any(count > 1 for count in per_webhook.values()):
            parts.append(
                f"Saleor sent {event} for this record more than once (one delivery per change); "
                "each was handled, a later one brings the latest state."
            )
        for job in members:
            notes[job.id] = " ".join(parts)
    return notes
