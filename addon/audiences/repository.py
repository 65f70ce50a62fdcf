"""Queries on audiences, groups and newsletter settings."""

from __future__ import annotations

from addon.audiences.models import Audience, AudienceGroup, NewsletterSettings, visible_interests
from addon.audiences.schemas import ImportedAudience
from addon.db.repository import Repository
from addon.db.types import utcnow


class AudienceRepository(Repository):
    async def settings(self, installation_id: int) -> NewsletterSettings:
        """The installation's settings row, created with defaults on first use."""
        return await self.installation_row(
            NewsletterSettings,
            installation_id,
            allow_multiple=False,
            tags=[],
            allowed_origins=[],
            two_way=True,
        )

    async def find_settings(self, installation_id: int) -> NewsletterSettings | None:
        return await self.session.get(NewsletterSettings, installation_id)

    async def audiences(self, installation_id: int) -> list[Audience]:
        statement = Audience.of_installation(installation_id).order_by(Audience.id)
        return list(await self.session.scalars(statement))

    async def audience(self, installation_id: int, list_id: str) -> Audience | None:
        statement = Audience.of_installation(installation_id).where(Audience.list_id == list_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def active_audiences(self, installation_id: int) -> list[Audience]:
        return [a for a in await self.audiences(installation_id) if a.active and not a.removed_at]

    async def groups(self, installation_id: int) -> list[AudienceGroup]:
        statement = AudienceGroup.of_installation(installation_id).order_by(
            AudienceGroup.list_id, AudienceGroup.display_order, AudienceGroup.id
        )
        return list(await self.session.scalars(statement))

    async def apply_import(
        self, installation_id: int, imported: list[ImportedAudience]
    ) -> dict[str, frozenset[str]]:
        """Upsert what Mailchimp has; mark what vanished as removed (choices are kept so the
        admin can be told a chosen audience or group is gone). Answers, by audience, the
        interests shown to a contact before and not now, or now and not before
        (`visible_interests`: a group made hidden or shown, added, deleted)."""
        now = utcnow()
        audiences = {a.list_id: a for a in await self.audiences(installation_id)}
        groups = {(g.list_id, g.category_id): g for g in await self.groups(installation_id)}
        lists = {list_id for list_id, _ in groups} | {item.list_id for item in imported}
        shown = {list_id: visible_interests(groups.values(), list_id) for list_id in lists}
        seen_lists: set[str] = set()
        seen_groups: set[tuple[str, str]] = set()
        for item in imported:
            seen_lists.add(item.list_id)
            row = audiences.get(item.list_id)
            if row is None:
                row = Audience(installation_id=installation_id, list_id=item.list_id, active=False)
                self.session.add(row)
            row.name = item.name
            row.double_optin = item.double_optin
            row.marketing_permissions_enabled = item.marketing_permissions_enabled
            if item.marketing_permissions or not item.marketing_permissions_enabled:
                # Permissions are read from a member: an empty audience keeps the last known.
                row.marketing_permissions = [p.model_dump() for p in item.marketing_permissions]
            row.merge_fields = [f.model_dump() for f in item.merge_fields]
            row.member_count = item.member_count
            row.removed_at = None
            row.imported_at = now
            for group in item.groups:
                key = (item.list_id, group.category_id)
                seen_groups.add(key)
                grow = groups.get(key)
                if grow is None:
                    grow = AudienceGroup(
                        installation_id=installation_id,
                        list_id=item.list_id,
                        category_id=group.category_id,
                        offered=False,
                    )
                    self.session.add(grow)
                grow.title = group.title
                grow.type = group.type
                grow.display_order = group.display_order
                grow.interests = [i.model_dump() for i in group.interests]
                grow.removed_at = None
        for list_id, row in audiences.items():
            if list_id not in seen_lists and row.removed_at is None:
                row.removed_at = now
                row.webhook_id = None
        for key, grow in groups.items():
            if key not in seen_groups and grow.removed_at is None:
                grow.removed_at = now
        await self.session.flush()
        after = await self.groups(installation_id)
        changed = {
            list_id: before ^ visible_interests(after, list_id) for list_id, before in shown.items()
        }
        return {list_id: ids for list_id, ids in changed.items() if ids}
