"""The audience webhooks the app registers in Mailchimp (`mailchimp_hooks` receives them): one on
each active audience while two-way sync is on, none elsewhere. One edited in Mailchimp (events or
sources turned off) is set back by the next registration: every import queues one.

An audience deleted in Mailchimp since the last import (Mailchimp answers 404) is skipped, the
others still get theirs, and an import is queued to mark it removed: a failed job would leave
every audience after it without a webhook until the next import, and Mailchimp never replays
the changes made before a webhook exists.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import update

from addon.audiences.models import NewsletterSettings
from addon.audiences.repository import AudienceRepository
from addon.audiences.service import enqueue_import
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.mailchimp import BadRequest as MailchimpBadRequest
from addon.mailchimp import (
    MailchimpClient,
    MailchimpError,
    OutcomeUnknown,
    Webhook,
    WebhookEvents,
    WebhookInput,
    WebhookSources,
)
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.services import Services
from addon.subscriptions.own_webhooks import is_own_webhook, webhook_url

logger = logging.getLogger(__name__)

# An audience found gone from Mailchimp is imported again (and so marked removed) unless an
# import ran this recently.
REIMPORT_GAP = timedelta(minutes=10)
# Mailchimp's refusal of a second webhook with an audience's URL ("Sorry, you can't use the
# same URL for more than one webhook."; "not possible to add two webhooks with the same URL",
# mailchimp/mailchimp-client-lib-codegen#11). A create can fail yet have registered the hook
# ("Looking at the configured Webhooks in MailChimp, however, that webhook was actually
# registered", mailchimp/mc-magento#508).
SAME_URL = "same URL for more than one webhook"


async def handle_register_webhooks(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    """Make the audience webhooks match the settings: one on each active audience."""
    installation_id = job.installation_id
    async with services.db.transaction() as session:
        repository = AudienceRepository(session)
        settings = await repository.settings(installation_id)
        if settings.webhook_secret is None:
            # Minted once (a new installation, another account: `audiences.models`): of two
            # registrations at once, the second waits for the first's and keeps its secret.
            await session.execute(
                update(NewsletterSettings)
                .where(
                    NewsletterSettings.installation_id == installation_id,
                    NewsletterSettings.webhook_secret.is_(None),
                )
                .values(webhook_secret=SecretStr(secrets.token_urlsafe(32)))
            )
            await session.refresh(settings, ["webhook_secret"])
        secret = settings.webhook_secret
        assert secret is not None
        url = webhook_url(services.settings.app_url, installation_id, secret)
        wanted = {
            a.list_id: a.webhook_id
            for a in await repository.audiences(installation_id)
            if a.removed_at is None
        }
        active = {a.list_id for a in await repository.active_audiences(installation_id)}
        two_way = settings.two_way
        # An import just made listed the audiences it had: one gone meanwhile waits for the
        # next (Mailchimp listing an audience whose webhooks it cannot find would otherwise
        # have the two jobs queue each other for good).
        import_again = (
            settings.last_import_at is None or utcnow() - settings.last_import_at > REIMPORT_GAP
        )

    def own(hook: Webhook) -> bool:
        return is_own_webhook(hook.url, installation_id, secret)

    registered: dict[str, str | None] = {}
    gone: list[str] = []
    try:
        async with mailchimp_for(services, installation_id) as client:
            for list_id, webhook_id in wanted.items():
                keep = two_way and list_id in active
                try:
                    hook_id = await _match_webhook(client, list_id, url, keep=keep, own=own)
                except MailchimpNotFound:
                    # Deleted in Mailchimp since the last import: the others still get theirs.
                    gone.append(list_id)
                    continue
                if hook_id is not None or webhook_id is not None:
                    registered[list_id] = hook_id
    except NotConnected:
        return
    except MailchimpError as error:
        # Its messages may quote the webhook's URL: the secret goes no further (job, log).
        error.conceal(secret.get_secret_value())
        raise
    async with services.db.transaction() as session:
        repository = AudienceRepository(session)
        for list_id, hook_id in registered.items():
            audience = await repository.audience(installation_id, list_id)
            if audience is not None:
                audience.webhook_id = hook_id
        if gone:
            logger.info("Audiences gone from Mailchimp, no webhook for them: %s", gone)
        if gone and import_again:
            # The import marks them removed (no longer offered), then registers again.
            await enqueue_import(session, installation_id, scheduled=False)


# What the app's webhook asks for: every change of a contact made by the contact or in
# Mailchimp's app, none of the app's own (API) changes.
EVENTS = WebhookEvents(
    subscribe=True, unsubscribe=True, profile=True, cleaned=True, upemail=True, campaign=False
)
SOURCES = WebhookSources(user=True, admin=True, api=False)


def _as_wanted(hook: Webhook) -> bool:
    """Whether Mailchimp's webhook still sends what the app asked for (an admin may have edited
    it in Mailchimp, turning events or sources off)."""
    return all(hook.events.get(k) is v for k, v in EVENTS.model_dump().items()) and all(
        hook.sources.get(k) is v for k, v in SOURCES.model_dump().items()
    )


async def _match_webhook(
    client: MailchimpClient,
    list_id: str,
    url: str,
    *,
    keep: bool,
    own: Callable[[Webhook], bool] | None = None,
) -> str | None:
    """The audience's webhook to the app made, or set back to what the app asks for (`keep`),
    or deleted; its id, or None. `own`: whether a webhook is the app's at whatever host
    (`own_webhooks.is_own_webhook`): one registered at an earlier APP_URL is deleted (it
    would deliver every change to a host the app left, and outlive an uninstallation)."""
    listed = await client.list_webhooks(list_id)
    hooks = [h for h in listed if h.url == url]
    moved = [h for h in listed if h.url != url and own is not None and own(h)]
    if not keep:
        for hook in [*hooks, *moved]:
            await client.delete_webhook(list_id, hook.id)
        return None
    wanted = WebhookInput(url=url, events=EVENTS, sources=SOURCES)
    if hooks:
        if not _as_wanted(hooks[0]):
            logger.info("The audience webhook of %s was edited in Mailchimp: set back", list_id)
            await client.update_webhook(list_id, hooks[0].id, wanted)
        hook_id = hooks[0].id
    else:
        hook_id = await _create_webhook(client, list_id, url, wanted)
    for hook in moved:  # once the one at the app's URL is there
        logger.info("An audience webhook of %s at the app's former URL: deleted", list_id)
        await client.delete_webhook(list_id, hook.id)
    return hook_id


async def _create_webhook(
    client: MailchimpClient, list_id: str, url: str, wanted: WebhookInput
) -> str:
    try:
        hook = await client.create_webhook(list_id, wanted)
    except (OutcomeUnknown, MailchimpBadRequest) as exc:
        # Its answer lost (sent once: `create_webhook`), or refused as a URL the audience
        # already has (made meanwhile, by a send whose answer was lost): the one made is used.
        if isinstance(exc, MailchimpBadRequest) and SAME_URL not in exc.detail:
            raise
        made = [h for h in await client.list_webhooks(list_id) if h.url == url]
        if not made:
            raise
        return made[0].id
    return hook.id
