"""Import audiences and groups from Mailchimp; read and change what the store offers."""

from __future__ import annotations

import logging
from collections.abc import Collection
from contextlib import suppress
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences import shown_groups
from addon.audiences.models import Audience, AudienceGroup, DoubleOptIn, NewsletterSettings
from addon.audiences.repository import AudienceRepository
from addon.audiences.schemas import (
    AudienceRead,
    AudiencesRead,
    GroupRead,
    ImportedAudience,
    ImportedGroup,
    InterestInfo,
    MergeFieldInfo,
    NewsletterSettingsPatch,
    NewsletterSettingsRead,
    NewsletterSettingsUpdate,
    PermissionInfo,
    RefreshQueued,
)
from addon.connection.service import NotConnected, mailchimp_for, still_connected_as
from addon.db.types import utcnow
from addon.errors import BadRequest, ErrorCode
from addon.jobs.repository import JobRepository
from addon.jobs.retry import error_text
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.mailchimp import AudienceList, MailchimpClient, MailchimpError, NotFound
from addon.services import Services

logger = logging.getLogger(__name__)

IMPORT_JOB = "audiences.import"
REGISTER_WEBHOOKS_JOB = "subscriptions.register_webhooks"
# The event of audiences imported from Mailchimp (on connect, on the schedule, on demand): a job
# kind another capability registers a handler for (engagement starts collecting on it), so
# this package imports none of them. The payload is empty.
IMPORTED_KIND = "audiences.imported"


async def default_audience_id(session: AsyncSession, installation_id: int) -> str | None:
    """The audience new contacts join when nothing else is chosen (None until chosen)."""
    repository = AudienceRepository(session)
    settings = await repository.find_settings(installation_id)
    if settings is None or settings.default_list_id is None:
        return None
    audience = await repository.audience(installation_id, settings.default_list_id)
    if audience is None or audience.removed_at is not None or not audience.active:
        return None
    return audience.list_id


async def confirmation_required(session: AsyncSession, installation_id: int, list_id: str) -> bool:
    """Whether a new subscriber of this audience must confirm by e-mail (double opt-in).

    An audience the app has not imported counts as requiring it: the safe side.
    """
    repository = AudienceRepository(session)
    audience = await repository.audience(installation_id, list_id)
    if audience is None:
        return True
    settings = await repository.find_settings(installation_id)
    if settings is not None and settings.double_optin is DoubleOptIn.ALWAYS:
        return True
    return audience.double_optin


async def enqueue_import(
    session: AsyncSession, installation_id: int, *, scheduled: bool, delay: float = 0
) -> None:
    """Queue an import; the scheduled chain and on-demand refreshes coalesce separately."""
    await JobRepository(session).enqueue(
        installation_id,
        IMPORT_JOB,
        ImportRequest(scheduled=scheduled).model_dump(),
        coalesce_key=f"{IMPORT_JOB}:{'scheduled' if scheduled else 'now'}",
        run_after=utcnow() + timedelta(seconds=delay) if delay else None,
    )


async def enqueue_webhook_registration(session: AsyncSession, installation_id: int) -> None:
    await JobRepository(session).enqueue(
        installation_id, REGISTER_WEBHOOKS_JOB, {}, coalesce_key=REGISTER_WEBHOOKS_JOB
    )


async def on_connected(session: AsyncSession, services: Services, installation_id: int) -> None:
    """A new connection: import now, then keep importing on the schedule."""
    await enqueue_import(session, installation_id, scheduled=False)
    hours = services.settings.audience_import_interval_hours
    await enqueue_import(session, installation_id, scheduled=True, delay=hours * 3600)


async def handle_connected(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    """Handler of connection's `connection.connected` event job: see `on_connected`."""
    async with services.db.transaction() as session:
        await on_connected(session, services, job.installation_id)


async def fetch_audiences(
    client: MailchimpClient, known: Collection[str] = ()
) -> list[ImportedAudience]:
    """Everything the store needs to know of the account's audiences and groups; `known`: the
    audiences the store holds. Offset paging skips an audience when one listed before it is
    deleted between two pages, so a known audience the listing left out is asked for by itself
    before the import takes it for removed (its shoppers' changes would be dropped)."""
    imported = [await _imported(client, audience) async for audience in client.lists()]
    listed = {a.list_id for a in imported}
    for list_id in known:
        if list_id not in listed:
            with suppress(NotFound):  # removed indeed
                imported.append(await _imported(client, await client.get_list(list_id)))
    return imported


async def _imported(client: MailchimpClient, audience: AudienceList) -> ImportedAudience:
    groups: list[ImportedGroup] = []
    async for category in client.interest_categories(audience.id):
        interests = [
            InterestInfo.model_validate(i) async for i in client.interests(audience.id, category.id)
        ]
        groups.append(ImportedGroup.of(category, category_id=category.id, interests=interests))
    merge_fields = [
        MergeFieldInfo.model_validate(f) async for f in client.merge_fields(audience.id)
    ]
    permissions = (
        [
            PermissionInfo(id=p.marketing_permission_id, text=p.text)
            for p in await client.marketing_permissions(audience.id)
        ]
        if audience.marketing_permissions
        else []
    )
    return ImportedAudience(
        list_id=audience.id,
        name=audience.name,
        double_optin=audience.double_optin,
        marketing_permissions_enabled=audience.marketing_permissions,
        marketing_permissions=permissions,
        merge_fields=merge_fields,
        member_count=audience.stats.member_count,
        groups=groups,
    )


class ImportRequest(BaseModel):
    """The payload of an import job: the scheduled chain or an on-demand refresh."""

    scheduled: bool = False


async def handle_import(job: ClaimedJob, request: ImportRequest, services: Services) -> None:
    """The import job; the scheduled one queues its next run before finishing.

    What it read is written only if the connection still holds the credentials it read with
    (`still_connected_as`): a reset, or another account connected, while Mailchimp answered
    would otherwise bring back the audiences of the account the app forgot."""
    scheduled = request.scheduled
    async with services.db.session() as session:
        audiences = await AudienceRepository(session).audiences(job.installation_id)
        known = [a.list_id for a in audiences if a.removed_at is None]
    try:
        async with mailchimp_for(services, job.installation_id) as client:
            seen = client.credentials
            imported = await fetch_audiences(client, known)
    except NotConnected:
        return  # nothing to import; connecting starts the schedule again
    except MailchimpError as exc:
        async with services.db.transaction() as session:
            if await still_connected_as(session, job.installation_id, seen):
                settings = await AudienceRepository(session).settings(job.installation_id)
                settings.last_import_error = error_text(exc, limit=1000)  # the column's length
        raise
    async with services.db.transaction() as session:
        if not await still_connected_as(session, job.installation_id, seen):
            # Reset or connected to another account meanwhile: a reconnection imports again.
            logger.info(
                "Audience import of installation %s dropped: the Mailchimp connection "
                "changed while it read",
                job.installation_id,
            )
            return
        repository = AudienceRepository(session)
        changed = await repository.apply_import(job.installation_id, imported)
        settings = await repository.settings(job.installation_id)
        groups = await repository.groups(job.installation_id)
        await shown_groups.announce(session, job.installation_id, settings, groups, changed)
        settings.last_import_at = utcnow()
        settings.last_import_error = None
        await enqueue_webhook_registration(session, job.installation_id)
        await JobRepository(session).enqueue(
            job.installation_id, IMPORTED_KIND, {}, coalesce_key=IMPORTED_KIND
        )
        if scheduled:
            hours = services.settings.audience_import_interval_hours
            await enqueue_import(session, job.installation_id, scheduled=True, delay=hours * 3600)
    logger.info("Imported %s audiences for installation %s", len(imported), job.installation_id)


def _group_read(group: AudienceGroup) -> GroupRead:
    return GroupRead.of(group, removed=group.removed_at is not None)


def _warnings(
    settings: NewsletterSettings, audiences: list[Audience], groups: list[AudienceGroup]
) -> list[str]:
    names = {a.list_id: a.name for a in audiences}
    warnings = [
        f"The audience “{a.name}” was removed from Mailchimp, so the store no longer offers it."
        for a in audiences
        if a.active and a.removed_at is not None
    ]
    warnings += [
        f"The group “{g.title}” of “{names.get(g.list_id, g.list_id)}” was removed from "
        "Mailchimp, so shoppers can no longer pick it."
        for g in groups
        if g.offered and g.removed_at is not None
    ]
    default = next((a for a in audiences if a.list_id == settings.default_list_id), None)
    if settings.default_list_id and (default is None or default.removed_at is not None):
        warnings.append("The default audience is gone from Mailchimp: choose another one.")
    return warnings


def _forget_removed(
    audiences: list[Audience], groups: list[AudienceGroup], given: Collection[str] | None
) -> None:
    """The removed audiences and groups a save of the choices left out are no longer chosen
    (`AudienceService.update`): those of the choices `given` (None: all), and the groups of a
    removed audience no longer chosen."""
    if given is None or "active_list_ids" in given:
        for audience in audiences:
            if audience.removed_at is not None:
                audience.active = False
    dropped = {a.list_id for a in audiences if a.removed_at is not None and not a.active}
    for group in groups:
        if group.removed_at is not None and (
            given is None or "offered_category_ids" in given or group.list_id in dropped
        ):
            group.offered = False


def _kept_removed_default(
    default_list_id: str | None, present: list[Audience], given: Collection[str] | None
) -> bool:
    """A default audience deleted in Mailchimp stays chosen, and warned of, through a save that
    names neither the audiences nor the default (the Subscriptions page's PATCH): only a save
    of the choices answers the warning (`_forget_removed`)."""
    return (
        default_list_id is not None
        and given is not None
        and not {"active_list_ids", "default_list_id"} & set(given)
        and all(a.list_id != default_list_id for a in present)
    )


class AudienceService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.repository = AudienceRepository(session)

    async def read(self, installation_id: int) -> AudiencesRead:
        settings = await self.repository.settings(installation_id)
        audiences = await self.repository.audiences(installation_id)
        groups = await self.repository.groups(installation_id)
        by_list: dict[str, list[GroupRead]] = {}
        for group in groups:
            by_list.setdefault(group.list_id, []).append(_group_read(group))
        return AudiencesRead(
            audiences=[
                AudienceRead.of(
                    a,
                    is_default=a.list_id == settings.default_list_id,
                    removed=a.removed_at is not None,
                    groups=by_list.get(a.list_id, []),
                )
                for a in audiences
            ],
            imported_count=sum(1 for a in audiences if a.removed_at is None),
            settings=NewsletterSettingsRead.model_validate(settings),
            warnings=_warnings(settings, audiences, groups),
            last_import_at=settings.last_import_at,
            last_import_error=settings.last_import_error,
        )

    async def refresh(self, installation_id: int) -> RefreshQueued:
        await enqueue_import(self.session, installation_id, scheduled=False)
        return RefreshQueued(
            queued=True, message="Audiences and groups will be re-imported from Mailchimp shortly."
        )

    async def patch(self, installation_id: int, body: NewsletterSettingsPatch) -> AudiencesRead:
        """Change only the given settings; the rest are taken as stored, then validated as a
        whole exactly like a full update."""
        audiences = [
            a for a in await self.repository.audiences(installation_id) if a.removed_at is None
        ]
        groups = [g for g in await self.repository.groups(installation_id) if g.removed_at is None]
        settings = await self.repository.settings(installation_id)
        given = {
            name: value
            for name, value in body.model_dump(exclude_unset=True).items()
            if value is not None or name == "default_list_id"
        }
        active = given.get("active_list_ids", [a.list_id for a in audiences if a.active])
        merged: dict[str, Any] = {
            "active_list_ids": active,
            "default_list_id": settings.default_list_id,
            "offered_category_ids": [
                g.category_id for g in groups if g.offered and g.list_id in active
            ],
            "allow_multiple": settings.allow_multiple,
            "double_optin": settings.double_optin,
            "tags": list(settings.tags),
            "allowed_origins": list(settings.allowed_origins),
            "two_way": settings.two_way,
            "priority": settings.priority,
        }
        kept = _kept_removed_default(settings.default_list_id, audiences, given)
        if "default_list_id" not in given and merged["default_list_id"] not in active and not kept:
            merged["default_list_id"] = None  # a single active audience becomes the default
        merged.update(given)
        update = NewsletterSettingsUpdate.model_validate(merged)
        return await self.update(installation_id, update, given=set(given))

    async def update(
        self,
        installation_id: int,
        body: NewsletterSettingsUpdate,
        *,
        given: Collection[str] | None = None,
    ) -> AudiencesRead:
        """Save the settings; `given`: those a PATCH named (None: all of them).

        An audience or group removed from Mailchimp keeps its choice until the admin saves the
        choices without it (`apply_import`; `_warnings` tells them): then it is no longer
        chosen, and its warning goes. A save of other settings leaves it as it is."""
        every = await self.repository.audiences(installation_id)
        audiences = {a.list_id: a for a in every if a.removed_at is None}
        unknown = [i for i in body.active_list_ids if i not in audiences]
        if unknown:
            raise BadRequest(
                "These audiences are not in Mailchimp (refresh the list and try again): "
                + ", ".join(unknown)
                + ".",
                code=ErrorCode.UNKNOWN_AUDIENCE,
            )
        active = set(body.active_list_ids)
        default = body.default_list_id
        settings = await self.repository.settings(installation_id)
        kept = default == settings.default_list_id and _kept_removed_default(
            default, list(audiences.values()), given
        )
        if default is None and len(active) == 1:
            default = next(iter(active))
        if default is not None and default not in active and not kept:
            raise BadRequest(
                "The default audience must be one of the active audiences.",
                code=ErrorCode.INVALID_DEFAULT_AUDIENCE,
            )
        all_groups = await self.repository.groups(installation_id)
        groups = [g for g in all_groups if g.removed_at is None]
        known_groups = {g.category_id: g for g in groups}
        offered = set(body.offered_category_ids)
        bad = [c for c in offered if c not in known_groups or known_groups[c].list_id not in active]
        if bad:
            raise BadRequest(
                "Shoppers can only pick groups of active audiences; not: " + ", ".join(bad) + ".",
                code=ErrorCode.INVALID_GROUPS,
            )
        for list_id, audience in audiences.items():
            audience.active = list_id in active
        for group in groups:
            group.offered = group.category_id in offered
        _forget_removed(every, all_groups, given)
        settings.default_list_id = default
        settings.allow_multiple = body.allow_multiple
        settings.double_optin = body.double_optin
        settings.tags = body.tags
        settings.allowed_origins = body.allowed_origins
        settings.two_way = body.two_way
        settings.priority = body.priority
        await self.session.flush()
        await enqueue_webhook_registration(self.session, installation_id)
        return await self.read(installation_id)
