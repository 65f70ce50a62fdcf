"""The event of groups shown to contacts changing (`SHOWN_GROUPS_CHANGED`): a customer's public
metadata lists the groups Mailchimp's profile page would show the contact (no hidden group), so
when an import finds a group made hidden or shown, added or deleted in Mailchimp, the customers
in it are written again. Subscriptions handles the event (`subscriptions.shown_groups`); this
package imports none of it.

Customers an earlier version wrote held every group in public, hidden and deleted ones too, and
none in private: an installation whose settings are of an older `SHOWN_GROUPS_REVISION`
announces every group as changed at its next import, once."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import SHOWN_GROUPS_REVISION, AudienceGroup, NewsletterSettings
from addon.jobs.repository import JobRepository

SHOWN_GROUPS_CHANGED = "audiences.shown_groups_changed"


class ShownGroupsChanged(BaseModel):
    """The payload: the audience, and its interests shown before and not now or the reverse."""

    list_id: str
    interest_ids: list[str]


def _every(groups: Iterable[AudienceGroup]) -> dict[str, set[str]]:
    """Every group's interests by audience, deleted groups' too."""
    every: dict[str, set[str]] = {}
    for group in groups:
        every.setdefault(group.list_id, set()).update(str(i["id"]) for i in group.interests)
    return every


async def announce(
    session: AsyncSession,
    installation_id: int,
    settings: NewsletterSettings,
    groups: list[AudienceGroup],
    changed: dict[str, frozenset[str]],
) -> None:
    """Queue the event for each audience whose shown interests changed (`changed`, from
    `AudienceRepository.apply_import`), and, once, for every group: an earlier version wrote
    each in public (hidden ones, deleted ones) and none in private."""
    announced = {list_id: set(ids) for list_id, ids in changed.items()}
    if settings.shown_groups_revision < SHOWN_GROUPS_REVISION:
        for list_id, ids in _every(groups).items():
            announced.setdefault(list_id, set()).update(ids)
        settings.shown_groups_revision = SHOWN_GROUPS_REVISION
    jobs = JobRepository(session)
    for list_id, ids in sorted(announced.items()):
        if ids:
            payload = ShownGroupsChanged(list_id=list_id, interest_ids=sorted(ids))
            await jobs.enqueue(installation_id, SHOWN_GROUPS_CHANGED, payload.model_dump())
