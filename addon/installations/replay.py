"""The deliveries Saleor did not send while the app was deactivated, rebuilt from its state.

Each replayed event is stored as the delivery of every document subscribing to it, with the
body that document would have had (the queries' fragments select what the documents select:
tests/contracts/test_replay.py), as a job of its handler. So customers, orders and checkouts
changed meanwhile reach e-commerce, subscriptions and erasure through the paths Saleor's own
deliveries take, and each handler reads the rest afresh as it always does.

* A customer or an order changed since is replayed as updated, or as created when it was
  created since (`dateJoined`, `created`): a registration's or a checkout's consent to
  subscribe is honoured as if delivered. An entity is replayed once, as it stands, whatever
  happened to it meanwhile (Saleor would have sent each change).
* `since` is moved back by `MARGIN` for the difference between Saleor's clock and the app's,
  so a creation delivered just before the pause may be listed: one whose delivery the app
  stored (`Missed.delivered`, recorded at the pause, and the jobs since) is replayed as an
  update, as is one an earlier replay made, so no consent is applied twice. One created after
  the resume (`until`) is left to its own delivery. An order `orderBulkCreate` made is
  replayed as updated: Saleor sends ORDER_BULK_CREATED for it, which carries no consent.
* Orders shipped, or partly (FULFILLED, PARTIALLY_FULFILLED), are listed too when created
  within `SHIPMENTS_HORIZON` before the pause or since (and since the installation), whatever
  their `updatedAt`: a tracking number added (`fulfillmentUpdateTracking` saves the fulfilment
  only), or a later shipment that leaves the order PARTIALLY_FULFILLED, changes no date of the
  order (saleor/order/utils.py `update_order_status` saves it only when its status changes,
  tag 3.20.119). Each is replayed as FULFILLMENT_TRACKING_NUMBER_UPDATED (`shipment_deliveries`),
  which e-commerce alone takes, pushes (nothing is sent for an order that did not change: its
  fingerprint) and reads no stock for (the resume re-prices the catalogue). One the `updatedAt`
  listing holds is left to it.
* Pages are read `PAGES_PER_JOB` at a time (`addon/saleor/paging.py`); the rest is a job of its
  own from the cursor, so a retry starts where the last one stopped.
* Checkouts are listed by the day of their `last_change`, oldest created first
  (`missed_checkouts.graphql`: Saleor's default ordering skips some), and narrowed by
  `updatedAt`, which shows it.
* Customers the app knows that Saleor no longer has: `replay_deleted.py`, a job of its own.

Documents a staff member paused in Saleor (`Installation.webhooks_paused`) get nothing, as they
would have received nothing. What changes no listed date is not replayed: a shipment's change
on an order created before `SHIPMENTS_HORIZON`, or partly returned (`OrderStatusFilter` has no
returned status to list it by), and, before Saleor 3.23, a change of metadata alone
(`versions.METADATA_DATES_UPDATED_SINCE`); each reaches Mailchimp with the entity's next
change. An address edit saves its owner's `updated_at` (saleor/graphql/account/mutations/
base.py), so it is replayed with the customer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from addon.installations.missed_queue import (
    CREATIONS,
    MARGIN,
    Creation,
    Missed,
    delivered_creations,
)
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.completion import complete_in
from addon.jobs.inserts import NewJob
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.saleor.manifest import WebhookDefinition, wanted_webhooks
from addon.saleor.paging import Pager
from addon.saleor.versions import parse_version
from addon.services import Services

logger = logging.getLogger(__name__)

REPLAY_JOB = "installation.replay"
PAGES_PER_JOB = 20  # 2,000 entities a run
# How far before the pause a shipped order may still get a tracking number or a later shipment
# (`shipment_deliveries`): two months hold a back-order's or a pre-order's later shipments and
# a return window's, while a store's older orders are not read at every catch-up (each order
# listed is a push: a read in a burst, nothing sent when unchanged).
SHIPMENTS_HORIZON = timedelta(days=60)
# Saleor's event for a tracking number added or changed. Only e-commerce subscribes to it (its
# body is ORDER_UPDATED's), and it moves no stock, so an order of an untracked channel costs no
# read (`addon/ecommerce/webhooks.py`, `MOVES_NO_STOCK`).
SHIPMENT_EVENT = "FULFILLMENT_TRACKING_NUMBER_UPDATED"


class Source(StrEnum):
    """What one replay job reads from Saleor."""

    CUSTOMERS = "customers"
    ORDERS = "orders"
    CHECKOUTS = "checkouts"
    SHIPMENTS = "shipments"  # orders shipped, or partly, whatever their `updatedAt`


# The sources whose creations may be replayed as new (`Window.event`).
_CREATING = (Source.CUSTOMERS, Source.ORDERS)


# The ordering a checkouts cursor belongs to (`missed_checkouts.graphql`). An earlier version
# paged checkouts in Saleor's default ordering; its cursor, in a job it left, has the same shape
# and would be read as a creation date, skipping what was left: such a replay starts again.
CHECKOUTS_ORDERING = "creation"


class Replay(Missed):
    """One source's part of a catch-up (`Missed`), and where an earlier run of it stopped."""

    source: Source
    after: str | None = None  # the cursor a previous run of the same replay stopped at
    ordering: str | None = None  # what `after` is a cursor of (checkouts)


@dataclass(frozen=True)
class Delivery:
    """One event Saleor did not send: its name, the entity's field in the body, the entity as
    the documents select it, and when it happened (`issuedAt`)."""

    event: str
    field: str
    entity: dict[str, Any]
    issued_at: str | None = None

    @property
    def entity_id(self) -> str:
        return str(self.entity["id"])


# The fields the replay queries read for themselves, not part of any document's body.
_OWN_FIELDS = ("dateJoined", "created", "updatedAt", "origin")


def _entity(node: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """`keep`: own fields a document's body has too (an order's `created`: `MissedOrder`)."""
    return {k: v for k, v in node.items() if k not in _OWN_FIELDS or k in keep}


def _at_or_after(value: str | None, bound: datetime | None) -> bool:
    return value is not None and bound is not None and datetime.fromisoformat(value) >= bound


@dataclass(frozen=True)
class Window:
    """What one replay compares with: since (`MARGIN` earlier), until the resume, the
    creations delivered already, and the first creation time of a shipped order listed."""

    bound: datetime
    until: datetime | None
    delivered: frozenset[Creation]
    created_from: datetime | None = None

    def event(self, entity: str, node: dict[str, Any], created: str | None) -> str | None:
        """CREATED, UPDATED, or None for one created after the resume (delivered itself)."""
        if _at_or_after(created, self.until):
            return None
        event = f"{entity}_CREATED"
        if (
            not _at_or_after(created, self.bound)
            or (event, str(node["id"])) in self.delivered
            or node.get("origin") == "BULK_CREATE"
        ):
            return CREATIONS[event]
        return event


def customer_deliveries(nodes: Iterable[dict[str, Any]], window: Window) -> list[Delivery]:
    return [
        Delivery(event, "user", _entity(node), node.get("updatedAt"))
        for node in nodes
        if (event := window.event("CUSTOMER", node, node.get("dateJoined"))) is not None
    ]


def order_deliveries(nodes: Iterable[dict[str, Any]], window: Window) -> list[Delivery]:
    return [
        Delivery(event, "order", _entity(node, keep=("created",)), node.get("updatedAt"))
        for node in nodes
        if (event := window.event("ORDER", node, node.get("created"))) is not None
    ]


def checkout_deliveries(nodes: Iterable[dict[str, Any]], window: Window) -> list[Delivery]:
    return [
        Delivery("CHECKOUT_UPDATED", "checkout", _entity(node), node.get("updatedAt"))
        for node in nodes
        if _at_or_after(node.get("updatedAt"), window.bound)
    ]


def shipment_deliveries(nodes: Iterable[dict[str, Any]], window: Window) -> list[Delivery]:
    """Each shipped order created since `created_from` (the query's filter compares days), as
    a tracking number's event, issued at the resume: each catch-up's is a delivery of its own
    (`delivery_jobs`), so a second pause pushes the order again. One changed since the pause is
    left to `order_deliveries`, which the `updatedAt` listing gives it to."""
    issued = (window.until or window.bound).isoformat()
    return [
        Delivery(SHIPMENT_EVENT, "order", _entity(node), issued)
        for node in nodes
        if not _at_or_after(node.get("updatedAt"), window.bound)
        and (window.created_from is None or _at_or_after(node.get("created"), window.created_from))
    ]


def delivery_jobs(
    installation_id: int, deliveries: Iterable[Delivery], definitions: Sequence[WebhookDefinition]
) -> list[NewJob]:
    """Each delivery as the job of each document subscribing to its event."""
    jobs: list[NewJob] = []
    for delivery in deliveries:
        for definition in definitions:
            if delivery.event not in definition.events:
                continue
            body: dict[str, Any] = {delivery.field: delivery.entity}
            if delivery.issued_at is not None:
                body = {"issuedAt": delivery.issued_at, "issuingPrincipal": None, **body}
            digest = json.dumps(body, sort_keys=True, separators=(",", ":"))
            # A replay of the same state is the same delivery: stored once. A creation is
            # stored once whatever its state, so two catch-ups at once (an outage's and a
            # pause's) cannot both replay it as new.
            if delivery.event in CREATIONS:
                digest = delivery.entity_id
            key = f"replay\n{definition.slug}\n{delivery.event}\n{digest}"
            jobs.append(
                NewJob(
                    installation_id,
                    webhook_job_kind(definition.slug),
                    {"event": delivery.event, "body": body, "replayed": True},
                    hashlib.sha256(key.encode()).hexdigest(),
                )
            )
    return jobs


def handled_definitions(installation: Installation, services: Services) -> list[WebhookDefinition]:
    """The documents Saleor would have delivered to, and whose deliveries a handler takes."""
    paused = set(installation.webhooks_paused or ())
    return [
        definition
        for definition in wanted_webhooks(parse_version(installation.saleor_version))
        if definition.slug not in paused
        and services.handlers.get(webhook_job_kind(definition.slug)) is not None
    ]


@dataclass(frozen=True)
class _Read:
    """A source's query, the connection it answers with, and its deliveries."""

    document: str
    connection: str
    build: Callable[[Iterable[dict[str, Any]], Window], list[Delivery]]


_READS = {
    Source.CUSTOMERS: _Read("missed_customers", "customers", customer_deliveries),
    Source.ORDERS: _Read("missed_orders", "orders", order_deliveries),
    Source.CHECKOUTS: _Read("missed_checkouts", "checkouts", checkout_deliveries),
    Source.SHIPMENTS: _Read("missed_shipments", "orders", shipment_deliveries),
}


def _since(source: Source, window: Window) -> str:
    """The query's `$since`: a day for checkouts (`updatedAt`) and shipments (`created`, both
    DateRangeInputs, UTC days as Saleor's), the moment for the others."""
    if source is Source.CHECKOUTS:
        return window.bound.date().isoformat()
    if source is Source.SHIPMENTS and window.created_from is not None:
        return window.created_from.astimezone(UTC).date().isoformat()
    return window.bound.isoformat()


async def handle_replay(job: ClaimedJob, replay: Replay, services: Services) -> None:
    bound = replay.since - MARGIN
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        if installation is None or installation.uninstalled_at is not None:
            return
        # Checkouts and shipments are replayed as updated whatever was delivered.
        delivered = (
            await delivered_creations(session, job.installation_id, bound)
            if replay.source in _CREATING
            else set()
        )
    definitions = handled_definitions(installation, services)
    created_from = None
    if replay.source is Source.SHIPMENTS:
        if not any(SHIPMENT_EVENT in d.events for d in definitions):
            return  # e-commerce's orders document paused: nothing would take them
        # Not before the installation: an order Saleor never delivered may be one the initial
        # sync was not asked to send, and pushed shipped it would reach the shopper's inbox.
        created_from = max(bound - SHIPMENTS_HORIZON, installation.installed_at)
    window = Window(bound, replay.until, frozenset(delivered | set(replay.delivered)), created_from)
    read = _READS[replay.source]
    since = _since(replay.source, window)
    after = replay.after
    if replay.source is Source.CHECKOUTS and replay.ordering != CHECKOUTS_ORDERING:
        after = None
    pager = Pager(
        services.saleor,
        installation.saleor_api_url,
        installation.app_token,
        read.document,
        read.connection,
        {"since": since},
        after=after,
        max_pages=PAGES_PER_JOB,
    )
    async for page in pager:
        # The pager reads a null connection as an empty last page; here it is not this query's
        # answer (a refusal comes with errors: the client raises), and ending would skip the
        # rest: retried, never skipped.
        if page.answer.get(read.connection) is None:
            raise ValueError(f"Saleor answered no {read.connection} to {read.document}")
        deliveries = read.build(page.nodes, window)
        await store_jobs(services, delivery_jobs(installation.id, deliveries, definitions))
    async with services.db.transaction() as session:
        if pager.more:
            ordering = CHECKOUTS_ORDERING if replay.source is Source.CHECKOUTS else None
            rest = replay.model_copy(update={"after": pager.after, "ordering": ordering})
            await JobRepository(session).enqueue(
                installation.id, REPLAY_JOB, rest.model_dump(mode="json")
            )
        await complete_in(session)


async def store_jobs(services: Services, jobs: list[NewJob]) -> None:
    if jobs:
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue_deduplicated(jobs)


__all__ = [
    "REPLAY_JOB",
    "SHIPMENTS_HORIZON",
    "SHIPMENT_EVENT",
    "Delivery",
    "Replay",
    "Source",
    "Window",
    "handle_replay",
    "store_jobs",
]
