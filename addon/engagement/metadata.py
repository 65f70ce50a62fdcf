"""What the app writes on a Saleor customer, and when: a compact engagement summary and the
member's Mailchimp tags, in the customer's PRIVATE metadata (staff and apps only).

Keys (documented in docs/engagement.md):

* ``mailchimp.engagement``: JSON ``{"campaigns_received", "opens", "clicks", "last_open",
  "last_click", "member_rating", "attributed_orders", "attributed_revenue": {currency:
  "amount"}}`` (times ISO 8601 UTC, null when none);
* ``mailchimp.tags.<list_id>``: JSON list of the member's tag names in that audience (``[]``
  once the last is removed).

A customer is written only when what would be written differs from what was written last
(a fingerprint per customer), in one ``updatePrivateMetadata`` per customer (it takes one
object and every key of it at once), up to `BATCH` of them in one request. Guests (no Saleor
account) are never written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Table, bindparam, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.engagement import in_lists
from addon.engagement.models import EngagementMember, EngagementOrder
from addon.engagement.saleor_models import parse_writes
from addon.engagement.views import money
from addon.saleor.client import SaleorError, SaleorQueryError
from addon.services import Services
from addon.tasks import side_by_side

SUMMARY_KEY = "mailchimp.engagement"
TAGS_PREFIX = "mailchimp.tags."
# Mutations per request (engagement_write_metadata.graphql): Saleor refuses more than 4 in one
# request (its GRAPHQL_MUTATION_COUNT_LIMIT, since 3.20.118).
BATCH = 4
# 100 mutations in flight, as when 5 requests carried 20 each (Saleor's load is the mutations).
REQUESTS_AT_ONCE = 25
# Customers compared per read of the app's database: a round of requests' worth.
PAGE = BATCH * REQUESTS_AT_ONCE


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def metadata_items(
    members: list[EngagementMember], revenue: dict[str, int], orders: int
) -> dict[str, str]:
    """The private metadata of one customer (all their members: an address change may leave
    two), as key → value."""
    ratings = [m.member_rating for m in members if m.member_rating is not None]
    opens = [m.last_open for m in members if m.last_open]
    clicks = [m.last_click for m in members if m.last_click]
    summary: dict[str, Any] = {
        "campaigns_received": sum(m.campaigns_received for m in members),
        "opens": sum(m.opens for m in members),
        "clicks": sum(m.clicks for m in members),
        "last_open": _iso(max(opens) if opens else None),
        "last_click": _iso(max(clicks) if clicks else None),
        "member_rating": max(ratings) if ratings else None,
        "attributed_orders": orders,
        "attributed_revenue": {c: str(money(v)) for c, v in sorted(revenue.items())},
    }
    items = {SUMMARY_KEY: json.dumps(summary, separators=(",", ":"), sort_keys=True)}
    tags: dict[str, set[str]] = defaultdict(set)
    for member in members:
        for list_id, names in (member.tags or {}).items():
            tags[list_id] |= set(names)
    # An audience whose last tag was removed stays as [] (see
    # audience_members.apply_members): the key written before is overwritten, not left behind.
    for list_id in sorted(tags):
        items[TAGS_PREFIX + list_id] = json.dumps(sorted(tags.get(list_id, set())))
    return items


def fingerprint(items: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()


@dataclass
class Written:
    customers: int = 0
    mutations: int = 0
    requests: int = 0


async def _page(
    session: AsyncSession, installation_id: int, after: str | None
) -> list[tuple[str, dict[str, str], str, bool]]:
    """The next customers after `after` with something changed: (user id, items, fingerprint,
    to write)."""
    member = EngagementMember
    users = [
        user
        for user in await session.scalars(
            select(member.saleor_user_id)
            .where(
                member.installation_id == installation_id,
                member.changed.is_(True),
                member.saleor_user_id.is_not(None),
                member.saleor_user_id > after if after is not None else true(),
            )
            .group_by(member.saleor_user_id)
            .order_by(member.saleor_user_id)
            .limit(PAGE)
        )
        if user
    ]
    if not users:
        return []
    rows = [
        found
        for chunk in in_lists.chunks(users)
        for found in await session.scalars(
            select(member).where(
                member.installation_id == installation_id, member.saleor_user_id.in_(chunk)
            )
        )
    ]
    revenue: dict[int, dict[str, int]] = defaultdict(dict)
    counts: dict[int, int] = defaultdict(int)
    sums = select(
        EngagementOrder.member_id,
        EngagementOrder.currency,
        func.sum(EngagementOrder.total_cents),
        func.count(),
    ).group_by(EngagementOrder.member_id, EngagementOrder.currency)
    for chunk in in_lists.chunks(sorted(m.id for m in rows)):
        for member_id, currency, total, count in await session.execute(
            sums.where(EngagementOrder.member_id.in_(chunk))
        ):
            revenue[member_id][currency] = int(total or 0)
            counts[member_id] += int(count)
    by_user: dict[str, list[EngagementMember]] = defaultdict(list)
    for row in rows:
        if row.saleor_user_id:
            by_user[row.saleor_user_id].append(row)
    page = []
    for user_id in users:
        members = by_user[user_id]
        totals: dict[str, int] = defaultdict(int)
        for m in members:
            for currency, amount in revenue[m.id].items():
                totals[currency] += amount
        items = metadata_items(members, dict(totals), sum(counts[m.id] for m in members))
        print_ = fingerprint(items)
        written = {m.written_fingerprint for m in members}
        page.append((user_id, items, print_, written != {print_}))
    return page


async def _send(
    services: Services,
    api_url: str,
    token: SecretStr,
    batch: list[tuple[str, dict[str, str]]],
) -> set[str]:
    """Write a batch (`BATCH` at once, or one); answer the customers not to write again: those
    Saleor no longer has (or that the app may not write, a staff account)."""
    document = (
        "engagement_write_metadata" if len(batch) == BATCH else "engagement_write_metadata_one"
    )
    variables: dict[str, Any] = {}
    for index, (user_id, items) in enumerate(batch):
        variables[f"id{index}"] = user_id
        variables[f"input{index}"] = [{"key": k, "value": v} for k, v in items.items()]
    failed: SaleorQueryError | None = None
    try:
        data = await services.saleor.execute(api_url, token, document, variables)
    except SaleorQueryError as exc:
        # A field that failed is null, with its error at its alias; the others were written.
        if exc.data is None:
            raise
        data, failed = exc.data, exc
    writes = parse_writes(document, data)
    gone: set[str] = set()
    denied: set[str] = set()
    for index, (user_id, _) in enumerate(batch):
        alias = f"w{index}"
        result = writes.get(alias)
        if result is None:
            # Saleor resolves the customer before comparing permissions: a customer deleted
            # meanwhile is a bare PermissionDenied at the alias, not a NOT_FOUND
            # (saleor/graphql/meta/permissions.py `private_user_permissions`, 3.20 to main).
            if failed is None or not failed.denied_at(alias):
                raise failed or SaleorError(f"Saleor's answer to {document} has no {alias}.")
            denied.add(user_id)
        elif result.not_found:
            gone.add(user_id)
        elif result.errors:
            raise SaleorQueryError(
                f"Saleor refused the engagement metadata: {result.errors[0].message}",
                [e.model_dump() for e in result.errors],
                data,
            )
    if denied and len(gone) + len(denied) == len(batch):
        # Nothing written: a refused app (deactivated, uninstalled) looks the same. Reading
        # customers raises SaleorPermissionDenied then, which fails the run (the pages not
        # marked are written by its retry) instead of marking them all gone.
        await services.saleor.execute(api_url, token, "engagement_customers", {"first": 1})
    return gone | denied


def _batches(items: list[tuple[str, dict[str, str]]]) -> list[list[tuple[str, dict[str, str]]]]:
    full = len(items) // BATCH * BATCH
    return [items[i : i + BATCH] for i in range(0, full, BATCH)] + [[i] for i in items[full:]]


_MEMBERS: Table = EngagementMember.__table__  # type: ignore[assignment]
_MARK_WRITTEN = (
    _MEMBERS.update()
    .where(
        _MEMBERS.c.installation_id == bindparam("iid"),
        _MEMBERS.c.saleor_user_id == bindparam("uid"),
    )
    .values(changed=False, written_fingerprint=bindparam("fingerprint"))
)


@dataclass
class _PageWrite:
    """A page of customers being written: marked written once its last batch is answered."""

    rows: list[tuple[str, dict[str, str], str, bool]]
    pending: int
    gone: set[str] = field(default_factory=set)


async def write_changed(
    services: Services, installation_id: int, api_url: str, token: SecretStr
) -> Written:
    """Write every changed customer's metadata (only where it differs from the last write);
    guests' changes are simply acknowledged.

    `REQUESTS_AT_ONCE` senders take batches as they come, while the next page is compared:
    no request waits for the slowest of a round, nor for the app's database between rounds
    (a first collection's 50 k customers are 12,500 requests). A page is marked written when
    its last batch is answered; a failure fails the run, and the pages not marked are written
    again by the retried run."""
    done = Written()
    batches: asyncio.Queue[tuple[_PageWrite, list[tuple[str, dict[str, str]]]] | None]
    batches = asyncio.Queue(maxsize=REQUESTS_AT_ONCE)

    async def mark(page: _PageWrite) -> None:
        async with services.db.transaction() as session:
            await session.execute(  # one executemany for the page, not a statement a customer
                _MARK_WRITTEN,
                [
                    {
                        "iid": installation_id,
                        "uid": user_id,
                        "fingerprint": None if user_id in page.gone else print_,
                    }
                    for user_id, _, print_, _ in page.rows
                ],
            )
        wanted = sum(1 for *_, write in page.rows if write)
        done.customers += wanted - len(page.gone)
        done.mutations += wanted

    async def sender() -> None:
        while (item := await batches.get()) is not None:
            page, batch = item
            page.gone |= await _send(services, api_url, token, batch)
            done.requests += 1
            page.pending -= 1
            if page.pending == 0:
                await mark(page)

    async with side_by_side() as group:
        senders = [group.create_task(sender()) for _ in range(REQUESTS_AT_ONCE)]
        after: str | None = None
        while True:
            async with services.db.session() as session:
                rows = await _page(session, installation_id, after)
            if not rows:
                break
            after = rows[-1][0]
            page_batches = _batches([(uid, items) for uid, items, _, write in rows if write])
            page = _PageWrite(rows, len(page_batches))
            if page.pending == 0:
                await mark(page)
            for batch in page_batches:
                await batches.put((page, batch))
        for _ in senders:
            await batches.put(None)
    async with services.db.transaction() as session:
        await session.execute(
            update(EngagementMember)
            .where(
                EngagementMember.installation_id == installation_id,
                EngagementMember.changed.is_(True),
                EngagementMember.saleor_user_id.is_(None),
            )
            .values(changed=False)
        )
    return done
