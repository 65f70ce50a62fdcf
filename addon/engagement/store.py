"""The collector's writes: one page of Mailchimp (or Saleor) at a time, in the caller's
transaction, so memory stays flat in the number of members and a retried job resumes where the
last committed page left off.

Members are keyed by the subscriber hash of their address (`subscriber_hash`): no address is
stored. E-mail activity is counted in `activity.py`: once, across retries, overlapping passes
and pages read twice (`EngagementMemberCampaign.last_open` / `last_click`); audiences' members
in `audience_members.py`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import Repository, insert_for
from addon.db.types import utcnow
from addon.ecommerce.stores_repository import StoreRepository
from addon.engagement import in_lists
from addon.engagement.models import (
    EngagementCampaign,
    EngagementCustomer,
    EngagementMember,
    EngagementOrder,
    EngagementSettings,
)
from addon.engagement.views import cents
from addon.mailchimp import subscriber_hash
from addon.mailchimp.campaigns import (
    Campaign,
    CampaignReport,
    OutreachOrder,
)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def settings_row(session: AsyncSession, installation_id: int) -> EngagementSettings:
    return await Repository(session).installation_row(
        EngagementSettings, installation_id, list_cursors={}
    )


# --- campaigns ------------------------------------------------------------------------------


async def upsert_campaign(
    session: AsyncSession, installation_id: int, campaign: Campaign, list_name: str
) -> None:
    if campaign.send_time is None:
        return
    values = {
        "list_id": campaign.recipients.list_id,
        "list_name": (campaign.recipients.list_name or list_name)[:255],
        "title": campaign.settings.title[:255],
        "subject": campaign.settings.subject_line[:255],
        "sent_at": campaign.send_time,
        "recipients": campaign.emails_sent or campaign.recipients.recipient_count,
        "updated_at": utcnow(),
    }
    statement = (
        insert_for(_dialect(session), EngagementCampaign)
        .values(installation_id=installation_id, campaign_id=campaign.id, **_defaults(), **values)
        .on_conflict_do_update(index_elements=["installation_id", "campaign_id"], set_=values)
    )
    await session.execute(statement)


def _defaults() -> dict[str, Any]:
    return {
        "opens": 0,
        "unique_opens": 0,
        "open_rate": 0.0,
        "clicks": 0,
        "unique_clicks": 0,
        "click_rate": 0.0,
        "unsubscribes": 0,
        "bounces": 0,
        "orders": 0,
        "revenue_cents": 0,
        "pass_offset": 0,
        "orders_offset": 0,
    }


async def close_campaign(session: AsyncSession, row_id: int, until: datetime) -> None:
    """A campaign left as counted up to `until`, its interval's end: nothing more is read of
    it (its closing pass is done or cannot be, `collector._closing_passes`)."""
    await session.execute(
        update(EngagementCampaign)
        .where(EngagementCampaign.id == row_id)
        .values(activity_until=until, pass_until=None, pass_offset=0)
    )


def apply_report(row: EngagementCampaign, report: CampaignReport) -> None:
    row.recipients = report.emails_sent
    row.opens = report.opens.opens_total
    row.unique_opens = report.opens.unique_opens
    row.open_rate = report.opens.open_rate
    row.clicks = report.clicks.clicks_total
    row.unique_clicks = report.clicks.unique_subscriber_clicks
    row.click_rate = report.clicks.click_rate
    row.unsubscribes = report.unsubscribed
    row.bounces = report.bounces.total
    row.orders = report.ecommerce.total_orders
    row.revenue_cents = cents(report.ecommerce.total_revenue)
    row.currency = (report.ecommerce.currency_code or None) and report.ecommerce.currency_code
    row.report_at = utcnow()


# --- members --------------------------------------------------------------------------------


async def member_ids(
    session: AsyncSession, installation_id: int, hashes: Iterable[str]
) -> dict[str, int]:
    """The member row of each hash, created where missing."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    found = await _ids(session, installation_id, wanted)
    missing = [h for h in wanted if h not in found]
    if missing:
        now = utcnow()
        rows = [
            {
                "installation_id": installation_id,
                "email_hash": h,
                "campaigns_received": 0,
                "opens": 0,
                "clicks": 0,
                "tags": {},
                "ratings": {},
                "recent_campaigns": [],
                "changed": True,
                "updated_at": now,
            }
            for h in missing
        ]
        insert = insert_for(_dialect(session), EngagementMember).on_conflict_do_nothing(
            index_elements=["installation_id", "email_hash"]
        )
        await session.execute(insert, rows)
        found |= await _ids(session, installation_id, missing)
    return found


async def _ids(session: AsyncSession, installation_id: int, hashes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in in_lists.chunks(hashes):
        rows = await session.execute(
            select(EngagementMember.email_hash, EngagementMember.id).where(
                EngagementMember.installation_id == installation_id,
                EngagementMember.email_hash.in_(chunk),
            )
        )
        for email_hash, member_id in rows:
            found[email_hash] = member_id
    return found


async def bulk_update(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """UPDATE members by id, one executemany per set of columns (Core: the ORM's bulk path
    costs more than the write, at 1000 rows a page)."""
    table: Table = EngagementMember.__table__  # type: ignore[assignment]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(k for k in row if k != "id"))].append(row)
    for columns, group in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        await session.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in group])


# --- orders and customers -------------------------------------------------------------------


async def apply_orders(
    session: AsyncSession, installation_id: int, campaign_id: str, orders: Sequence[OutreachOrder]
) -> None:
    """Every order Mailchimp attributes to `campaign_id` now (a complete read, all its pages),
    of the member who placed them; not an order placed by a customer erased since (Mailchimp
    keeps their orders by default: they would bring the customer back,
    `addon/ecommerce/erased.py`). The campaign's orders it no longer lists (deleted, or
    attributed elsewhere) are removed. Each member whose orders differ now (one added, removed,
    moved to another member, or with another total) is marked changed.

    Only orders of this installation's Mailchimp stores count: Mailchimp lists the whole
    account's, and another shop on the account (a second Saleor, a Shopify store) may hold
    orders of the same address attributed to the same campaign; they are not this store's."""
    own = {s.store_id for s in await StoreRepository(session).list(installation_id)}
    bought = {
        (o.store_id, o.id): (o, subscriber_hash(o.customer.email_address))
        for o in orders
        if o.customer.email_address and o.campaign_id and o.store_id in own
    }
    erased = await in_lists.erased(session, installation_id, (h for _, h in bought.values()))
    for key, (o, buyer) in list(bought.items()):
        erased_at = erased.get(buyer)
        placed = o.processed_at_foreign
        if erased_at is not None and (placed is None or placed <= erased_at):
            del bought[key]
    ids = await member_ids(session, installation_id, (h for _, h in bought.values()))
    # What each order counts for on its customer: campaign, member, total (cents), currency.
    counted = {
        key: (o.campaign_id, ids[buyer], cents(o.order_total), o.currency_code[:3])
        for key, (o, buyer) in bought.items()
    }
    order = EngagementOrder
    read = select(order.id, order.store_id, order.order_id, order.campaign_id, order.member_id,
                  order.total_cents, order.currency)  # fmt: skip
    read = read.where(order.installation_id == installation_id)
    # The campaign's orders, and those it now has that were counted for another one.
    found = list(await session.execute(read.where(order.campaign_id == campaign_id)))
    for order_ids in in_lists.chunks(sorted({o for _, o in counted})):
        found += await session.execute(read.where(order.order_id.in_(order_ids)))
    known = {(r.store_id, r.order_id): r for r in found}
    changed: set[int] = set()
    for key, new in counted.items():
        old = known.get(key)
        if old is None or (old.campaign_id, old.member_id, old.total_cents, old.currency) != new:
            changed.add(new[1])
        if old is not None and old.member_id != new[1]:
            changed.add(old.member_id)  # another buyer now: the first no longer has it
    gone = [r for key, r in known.items() if r.campaign_id == campaign_id and key not in counted]
    if gone:
        for chunk in in_lists.chunks(sorted(r.id for r in gone)):
            await session.execute(delete(order).where(order.id.in_(chunk)))
        changed |= {r.member_id for r in gone}
    if counted:
        insert = insert_for(_dialect(session), EngagementOrder)
        keep = ("campaign_id", "member_id", "total_cents", "currency", "ordered_at")
        statement = insert.on_conflict_do_update(
            index_elements=["installation_id", "store_id", "order_id"],
            set_={k: getattr(insert.excluded, k) for k in keep},
        )
        rows = [
            {
                "installation_id": installation_id,
                "store_id": store_id,
                "order_id": order_id,
                "campaign_id": campaign,
                "member_id": member_id,
                "total_cents": total,
                "currency": currency,
                "ordered_at": bought[store_id, order_id][0].processed_at_foreign,
            }
            for (store_id, order_id), (campaign, member_id, total, currency) in counted.items()
        ]
        await session.execute(statement, rows)
    for chunk in in_lists.chunks(sorted(changed)):
        await session.execute(
            update(EngagementMember).where(EngagementMember.id.in_(chunk)).values(changed=True)
        )


async def apply_customers(
    session: AsyncSession, installation_id: int, customers: Sequence[tuple[str, str]]
) -> None:
    """One page of Saleor customers (id, address): their hashes kept, their members linked."""
    pairs = {user_id: subscriber_hash(email) for user_id, email in customers if email}
    if not pairs:
        return
    insert = insert_for(_dialect(session), EngagementCustomer)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["installation_id", "saleor_user_id"],
            set_={"email_hash": insert.excluded.email_hash},
        ),
        [
            {"installation_id": installation_id, "saleor_user_id": u, "email_hash": h}
            for u, h in sorted(pairs.items())
        ],
    )
    member = EngagementMember
    # A changed address links the member of the new one; the old one's stays the customer's
    # (their history: the two add up), unless another customer has that address now.
    match = and_(
        EngagementCustomer.installation_id == member.installation_id,
        EngagementCustomer.email_hash == member.email_hash,
    )
    owner = select(EngagementCustomer.saleor_user_id).where(match).limit(1).scalar_subquery()
    losers: set[str] = set()
    for chunk in in_lists.chunks(sorted(set(pairs.values()))):
        moving = (
            member.installation_id == installation_id,
            member.email_hash.in_(chunk),
            member.saleor_user_id.is_distinct_from(owner),
        )
        losers.update(
            user
            for user in await session.scalars(select(member.saleor_user_id).where(*moving))
            if user is not None
        )
        # The fingerprint was of what the last customer got: the new one was never written.
        await session.execute(
            update(member)
            .where(*moving)
            .values(saleor_user_id=owner, changed=True, written_fingerprint=None)
        )
    await _rewrite_losers(session, installation_id, losers)


async def _rewrite_losers(session: AsyncSession, installation_id: int, users: set[str]) -> None:
    """Customers whose member moved to another customer get their metadata written again,
    without it. Metadata is written for the customers of changed member rows: one left with
    none is given the row of their current address (empty where new), else it keeps the moved
    history in Saleor, counted twice with the newcomer's."""
    if not users:
        return
    member, customer = EngagementMember, EngagementCustomer
    held: set[str] = set()
    for chunk in in_lists.chunks(sorted(users)):
        where = (member.installation_id == installation_id, member.saleor_user_id.in_(chunk))
        held.update(
            u for u in await session.scalars(select(member.saleor_user_id).where(*where)) if u
        )
        await session.execute(update(member).where(*where).values(changed=True))
    bare = sorted(users - held)
    if not bare:
        return
    current: dict[str, str] = {}
    for chunk in in_lists.chunks(bare):
        found = await session.execute(
            select(customer.saleor_user_id, customer.email_hash).where(
                customer.installation_id == installation_id, customer.saleor_user_id.in_(chunk)
            )
        )
        current.update((user, email_hash) for user, email_hash in found)
    ids = await member_ids(session, installation_id, current.values())
    await bulk_update(
        session,
        [
            {"id": ids[h], "saleor_user_id": u, "changed": True, "written_fingerprint": None}
            for u, h in current.items()
        ],
    )


async def link_new_members(session: AsyncSession, installation_id: int) -> None:
    """Members first seen after their customer was scanned get linked here."""
    member, customer = EngagementMember, EngagementCustomer
    match = and_(
        customer.installation_id == member.installation_id,
        customer.email_hash == member.email_hash,
    )
    await session.execute(
        update(member)
        .where(
            member.installation_id == installation_id,
            member.saleor_user_id.is_(None),
            exists().where(match),
        )
        .values(
            saleor_user_id=select(customer.saleor_user_id).where(match).limit(1).scalar_subquery(),
            changed=True,
        )
    )
