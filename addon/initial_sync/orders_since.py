"""Which document reads "only orders since" from an installation's Saleor.

`orders(where: {createdAt: {gte}})` (to the second) exists since Saleor 3.22; before it, the only
order filter is `orders(filter: {created: {gte}})`, which compares whole UTC days (Saleor 3.20's
`filter_created_range` filters `created_at__date`). On those versions the app asks for the day
and skips the first day's orders placed before the time given, so the option works the same on
every supported Saleor. Where the version is not known yet, the day filter is used: every
supported Saleor serves it (deprecated since 3.22, still answered).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.models import Installation
from addon.saleor.versions import has_order_where, parse_version


async def orders_since_query(
    session: AsyncSession, installation_id: int, since: datetime
) -> tuple[str, dict[str, Any]]:
    """The document and its filter variables for the installation's Saleor."""
    installation = await session.get(Installation, installation_id)
    version = parse_version(installation.saleor_version if installation else None)
    if has_order_where(version):
        return "initial_sync_orders_since", {"where": {"createdAt": {"gte": since.isoformat()}}}
    day = since.astimezone(UTC).date().isoformat()
    return "initial_sync_orders_since_day", {"filter": {"created": {"gte": day}}}


def placed_before(node: dict[str, Any], since: datetime | None) -> bool:
    """An order of the first day placed before `since` (the day filter lets it through)."""
    if since is None or not node.get("created"):
        return False
    created = datetime.fromisoformat(str(node["created"]).replace("Z", "+00:00"))
    return (created if created.tzinfo else created.replace(tzinfo=UTC)) < since
