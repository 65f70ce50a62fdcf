"""At a process's start, the webhook upkeep of each installation whose webhooks its last upkeep
brought to other documents or another APP_URL (`Installation.webhooks_digest`).

An upgrade of the app that changes a subscription document, or a move to another APP_URL,
would otherwise reach Saleor at each installation's next lifecycle check, up to an interval
later (an hour by default), and meanwhile Saleor delivers the old payloads, or delivers to the
old address. Compared with a fingerprint, a restart of the same version asks Saleor nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from addon.installations.repository import InstallationRepository
from addon.installations.service import queue_webhook_upkeep
from addon.saleor.manifest import wanted_webhooks, webhooks_digest
from addon.saleor.versions import parse_version

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)


async def queue_outdated_upkeeps(services: Services) -> int:
    """Queue the upkeep of every active installation whose webhooks are not known to be as this
    version's documents say under this APP_URL (an inactive one's runs when it is activated
    again: its lifecycle check queues it). Answers how many were queued."""
    app_url = services.settings.app_url
    wanted: dict[str | None, str] = {}  # by Saleor version, as the documents depend on it
    queued = 0
    async with services.db.transaction() as session:
        rows = await InstallationRepository(session).webhook_digests()
        for installation_id, version, digest in rows:
            if version not in wanted:
                wanted[version] = webhooks_digest(wanted_webhooks(parse_version(version)), app_url)
            if digest != wanted[version]:
                await queue_webhook_upkeep(session, installation_id)
                queued += 1
    if queued:
        logger.info("Webhooks of %d installation(s) to bring up to date", queued)
    return queued
