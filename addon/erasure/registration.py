"""The CUSTOMER_DELETED webhook, registered by the app itself on a Saleor that has it.

Saleor validates every subscription of a manifest at installation, and its `CustomerDeleted`
subscription type exists since 3.23.5 (saleor/saleor#19173, "Added in Saleor 3.23"); before,
no subscription can name the event. So the manifest carries ACCOUNT_DELETED only (a customer
deleting their own account, since 3.15) and, once the installation's Saleor version is known to
have it (at installation, and whenever the lifecycle check sees another version), the app adds
`webhooks/registered/erasure_customer_deleted.graphql` to its own webhooks with `webhookCreate`
(allowed to any app for itself: AUTHENTICATED_APP). On an older Saleor, staff deleting a customer
tell the app nothing: Erase from Mailchimp in the customer panel first.
"""

from __future__ import annotations

import logging

from addon.installations.models import Installation
from addon.installations.service import SALEOR_VERSION_KNOWN
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload, RetryLater
from addon.saleor.client import SaleorPermissionDenied
from addon.saleor.manifest import registered_webhook_definitions
from addon.saleor.versions import sends_customer_deleted
from addon.services import Services

logger = logging.getLogger(__name__)

SLUG = "erasure-customer-deleted"
PAUSED_RETRY_SECONDS = 3600.0


class RegistrationRefused(Exception):
    """Saleor answered webhookCreate with errors (retried by the worker)."""


async def register_customer_deleted(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    async with services.db.session() as session:
        installation = await session.get(Installation, job.installation_id)
        if installation is None or not sends_customer_deleted_to(installation):
            return
        if not installation.is_active:
            # Upkeep runs while the app is paused, but Saleor refuses an inactive app's token
            # (and a refused call starts a lifecycle check): look again later.
            raise RetryLater("waits until the app is active again", PAUSED_RETRY_SECONDS)
        api_url, token = installation.saleor_api_url, installation.app_token
    [definition] = [d for d in registered_webhook_definitions() if d.slug == SLUG]
    target = services.settings.app_url + definition.path
    try:
        data = await services.saleor.execute(api_url, token, "erasure_app_webhooks", {})
        hooks = (data.get("app") or {}).get("webhooks") or []
        if any(h.get("targetUrl") == target for h in hooks):
            return
        created = await services.saleor.execute(
            api_url,
            token,
            "erasure_webhook_create",
            {
                "input": {
                    "name": definition.name,
                    "targetUrl": target,
                    "asyncEvents": list(definition.events),
                    "isActive": True,
                    "query": definition.query,
                }
            },
        )
    except SaleorPermissionDenied as exc:
        logger.warning("Saleor refused the app its CUSTOMER_DELETED webhook: %s", exc)
        return
    errors = (created.get("webhookCreate") or {}).get("errors") or []
    if errors:
        raise RegistrationRefused(
            "Saleor refused the CUSTOMER_DELETED webhook: "
            + "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        )
    logger.info("CUSTOMER_DELETED webhook registered for installation %s", job.installation_id)


def sends_customer_deleted_to(installation: Installation) -> bool:
    from addon.saleor.versions import parse_version

    return sends_customer_deleted(parse_version(installation.saleor_version))


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(SALEOR_VERSION_KNOWN, register_customer_deleted, payload=NoPayload)
