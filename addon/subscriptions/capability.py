"""The newsletter capability's routers and job handlers (audiences + subscriptions)."""

from __future__ import annotations

from fastapi import APIRouter

from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import NoPayload, WebhookJob


def newsletter_routers() -> list[APIRouter]:
    from addon.audiences.endpoints import router as audiences
    from addon.subscriptions.endpoints import admin, mailchimp_webhook, storefront

    return [audiences, storefront, admin, mailchimp_webhook]


def register_newsletter_jobs(registry: HandlerRegistry) -> None:
    from addon.audiences.service import (
        IMPORT_JOB,
        REGISTER_WEBHOOKS_JOB,
        ImportRequest,
        handle_connected,
        handle_import,
    )
    from addon.audiences.shown_groups import SHOWN_GROUPS_CHANGED, ShownGroupsChanged
    from addon.connection.linking import CONNECTED_KIND
    from addon.installations.webhook_kinds import webhook_job_kind
    from addon.saleor.address_owners import AddressEvent
    from addon.subscriptions.address_changed import WEBHOOK_SLUG as ADDRESSES_SLUG
    from addon.subscriptions.address_changed import handle_address_changed
    from addon.subscriptions.apply import handle_apply
    from addon.subscriptions.checkout_consent import CHECKOUT_CONSENT_JOB, CheckoutConsent
    from addon.subscriptions.checkout_owner import WEBHOOK_SLUG as CHECKOUT_OWNER_SLUG
    from addon.subscriptions.checkout_owner import CheckoutEvent
    from addon.subscriptions.consent import (
        handle_checkout_consent,
        handle_checkout_owner,
        handle_customer_created,
        handle_customer_updated,
        handle_order_created,
    )
    from addon.subscriptions.consent_payloads import CustomerCreated, OrderCreated
    from addon.subscriptions.mailchimp_hooks import (
        EVENT_JOB,
        event_failed,
        handle_event,
    )
    from addon.subscriptions.profile_sync import (
        REFRESH_PROFILES_JOB,
        UPDATE_PROFILE_JOB,
        WEBHOOK_SLUG,
        CustomerChanged,
        ProfileUpdate,
        RefreshProfiles,
        handle_refresh_profiles,
        handle_update_profile,
    )
    from addon.subscriptions.profile_writeback import (
        WRITE_PROFILE_JOB,
        ProfileWriteBack,
        handle_write_profile,
    )
    from addon.subscriptions.schemas import ContactChange, MailchimpEvent
    from addon.subscriptions.service import APPLY_JOB
    from addon.subscriptions.shown_groups import (
        SHOWN_GROUPS_REWRITE,
        ShownGroupsRewrite,
        handle_shown_groups_changed,
        handle_shown_groups_rewrite,
    )
    from addon.subscriptions.statuses_seen import (
        STATUSES_SEEN_JOB,
        StatusesSeen,
        handle_statuses_seen,
    )
    from addon.subscriptions.webhook_registration import handle_register_webhooks
    from addon.subscriptions.writeback import (
        WRITE_STATUS_JOB,
        StatusWriteBack,
        handle_write_status,
    )

    registry.register(CONNECTED_KIND, handle_connected, payload=NoPayload)
    registry.register(IMPORT_JOB, handle_import, payload=ImportRequest)
    registry.register(REGISTER_WEBHOOKS_JOB, handle_register_webhooks, payload=NoPayload)
    registry.register(APPLY_JOB, handle_apply, payload=ContactChange)
    registry.register(CHECKOUT_CONSENT_JOB, handle_checkout_consent, payload=CheckoutConsent)
    registry.register(EVENT_JOB, handle_event, payload=MailchimpEvent, on_failure=event_failed)
    registry.register(WRITE_STATUS_JOB, handle_write_status, payload=StatusWriteBack)
    registry.register(SHOWN_GROUPS_CHANGED, handle_shown_groups_changed, payload=ShownGroupsChanged)
    registry.register(SHOWN_GROUPS_REWRITE, handle_shown_groups_rewrite, payload=ShownGroupsRewrite)
    registry.register(STATUSES_SEEN_JOB, handle_statuses_seen, payload=StatusesSeen)
    registry.register(UPDATE_PROFILE_JOB, handle_update_profile, payload=ProfileUpdate)
    registry.register(REFRESH_PROFILES_JOB, handle_refresh_profiles, payload=RefreshProfiles)
    registry.register(WRITE_PROFILE_JOB, handle_write_profile, payload=ProfileWriteBack)
    registry.register(
        webhook_job_kind(WEBHOOK_SLUG),
        handle_customer_updated,
        payload=WebhookJob[CustomerChanged],
    )
    registry.register(
        webhook_job_kind("subscriptions-order-created"),
        handle_order_created,
        payload=WebhookJob[OrderCreated],
    )
    registry.register(
        webhook_job_kind(CHECKOUT_OWNER_SLUG),
        handle_checkout_owner,
        payload=WebhookJob[CheckoutEvent],
    )
    registry.register(
        webhook_job_kind("subscriptions-customer-created"),
        handle_customer_created,
        payload=WebhookJob[CustomerCreated],
    )
    registry.register(
        webhook_job_kind(ADDRESSES_SLUG),
        handle_address_changed,
        payload=WebhookJob[AddressEvent],
    )
