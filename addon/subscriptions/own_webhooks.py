"""The app's own audience webhooks in Mailchimp: their URL (under `WEBHOOK_PATH`, carrying the
installation's secret), how one is told from others at whatever host (the app may have moved to
another APP_URL since it was registered), and their deletion at an uninstall. Registered by
`webhook_registration`, received by `mailchimp_hooks`."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import SecretStr

from addon.audiences.repository import AudienceRepository
from addon.mailchimp import MailchimpClient
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.services import Services

WEBHOOK_PATH = "/api/subscriptions/mailchimp-webhook"


def webhook_url(app_url: str, installation_id: int, secret: SecretStr) -> str:
    return f"{app_url}{WEBHOOK_PATH}/{installation_id}/{secret.get_secret_value()}"


def is_own_webhook(url: str, installation_id: int, secret: SecretStr) -> bool:
    """Whether an audience webhook's URL is the installation's, at whatever host: the app may
    have moved (a new APP_URL) since it was registered. Told by its path, which holds the
    installation's secret (so never another deployment's, whose installation may have the
    same id)."""
    path = urlsplit(url).path
    return path.endswith(webhook_url("", installation_id, secret))


async def delete_own_webhooks(
    services: Services, client: MailchimpClient, installation_id: int
) -> int:
    """Delete the installation's webhooks from every audience it knows (it was uninstalled);
    the number deleted. An audience gone from Mailchimp has none left to delete."""
    async with services.db.session() as session:
        repository = AudienceRepository(session)
        settings = await repository.find_settings(installation_id)
        list_ids = [a.list_id for a in await repository.audiences(installation_id)]
    if settings is None or settings.webhook_secret is None:
        return 0  # none was ever registered
    secret = settings.webhook_secret
    deleted = 0
    for list_id in list_ids:
        try:
            for hook in await client.list_webhooks(list_id):
                # Also one registered at an earlier APP_URL (`is_own_webhook`).
                if is_own_webhook(hook.url, installation_id, secret):
                    await client.delete_webhook(list_id, hook.id)
                    deleted += 1
        except MailchimpNotFound:
            continue
    return deleted
