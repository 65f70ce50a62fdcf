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
* `since` is moved back by `MARGIN` for the difference between Saleor's clock and the app's.
  So a creation delivered live just before the pause may come again: one whose delivery the
  app stored is replayed as an update (the consent of an order must not subscribe again a
  shopper who has unsubscribed since).
* Checkouts are listed by the day of their `last_change` (`missed_checkouts.graphql`) and
  narrowed by `updatedAt`, which shows it.
* Customers the app knows that Saleor no longer has: `replay_deleted.py`, a job of its own.

Documents a staff member paused in Saleor (`Installation.webhooks_paused`) get nothing, as they
would have received nothing. What changes no listed date is not replayed: a fulfilment's
tracking number (`fulfillmentUpdateTracking` saves the fulfilment only), and, before Saleor
3.23, a change of metadata alone (`versions.METADATA_DATES_UPDATED_SINCE`); each reaches
Mailchimp with the entity's next change. An address edit saves its owner's `updated_at`
(saleor/graphql/account/mutations/base.py), so it is replayed with the customer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import select

from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.webhooks import webhook_job_kind
from addon.jobs.completion import complete_in
from addon.jobs.inserts import NewJob
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.saleor.manifest import WebhookDefinition, wanted_webhooks
from addon.saleor.versions import parse_version
from addon.services import Services

logger = logging.getLogger(__name__)

REPLAY_JOB = "installation.replay"
# Saleor's clock and the app's may differ, and an event raised just before the deactivation
# may still have been in Saleor's queue: replayed from this much earlier.
MARGIN = timedelta(minutes=10)


class Source(StrEnum):
    """What one replay job reads from Saleor."""

    CUSTOMERS = "customers"
    ORDERS = "orders"
    CHECKOUTS = "checkouts"


class Replay(BaseModel):
    model_config = ConfigDict(frozen=True)
    since: AwareDatetime
    source: Source


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
_OWN_FIELDS = ("dateJoined", "created", "updatedAt")
# Creations whose live delivery, when stored, are replayed as updates (the module's docstring).
_CREATIONS = frozenset({"CUSTOMER_CREATED", "ORDER_CREATED"})


def _entity(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in _OWN_FIELDS}


def _at_or_after(value: str | None, bound: datetime) -> bool:
    return value is not None and datetime.fromisoformat(value) >= bound


def _created_or_updated(entity: str, created: str | None, bound: datetime) -> str:
    return f"{entity}_CREATED" if _at_or_after(created, bound) else f"{entity}_UPDATED"


def customer_deliveries(nodes: Iterable[dict[str, Any]], bound: datetime) -> list[Delivery]:
    return [
        Delivery(
            _created_or_updated("CUSTOMER", node.get("dateJoined"), bound),
            "user",
            _entity(node),
            node.get("updatedAt"),
        )
        for node in nodes
    ]


def order_deliveries(nodes: Iterable[dict[str, Any]], bound: datetime) -> list[Delivery]:
    return [
        Delivery(
            _created_or_updated("ORDER", node.get("created"), bound),
            "order",
            _entity(node),
            node.get("updatedAt"),
        )
        for node in nodes
    ]


def checkout_deliveries(nodes: Iterable[dict[str, Any]], bound: datetime) -> list[Delivery]:
    return [
        Delivery("CHECKOUT_UPDATED", "checkout", _entity(node), node.get("updatedAt"))
        for node in nodes
        if _at_or_after(node.get("updatedAt"), bound)
    ]


def not_delivered(
    deliveries: Iterable[Delivery], delivered: set[tuple[str, str]]
) -> list[Delivery]:
    """A creation whose live delivery the app stored (`delivered`: event, entity id) is
    replayed as an update: only its later changes were missed."""
    return [
        replace(d, event=d.event.replace("_CREATED", "_UPDATED"))
        if (d.event, d.entity_id) in delivered
        else d
        for d in deliveries
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
            kind = webhook_job_kind(definition.slug)
            body: dict[str, Any] = {delivery.field: delivery.entity}
            if delivery.issued_at is not None:
                body = {"issuedAt": delivery.issued_at, "issuingPrincipal": None, **body}
            digest = json.dumps(body, sort_keys=True, separators=(",", ":"))
            # A replay of the same state is the same delivery: stored once.
            key = f"replay\n{definition.slug}\n{delivery.event}\n{digest}"
            jobs.append(
                NewJob(
                    installation_id,
                    kind,
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


async def pages(
    services: Services,
    installation: Installation,
    document: str,
    field: str,
    variables: dict[str, Any],
) -> AsyncIterator[list[dict[str, Any]]]:
    """Each page's nodes of the connection `field` of `document`."""
    after: str | None = None
    while True:
        data = await services.saleor.execute(
            installation.saleor_api_url,
            installation.app_token,
            document,
            {**variables, "after": after},
        )
        connection = data.get(field) or {}
        yield [edge["node"] for edge in connection.get("edges") or []]
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after = info.get("endCursor")


async def _delivered_creations(
    services: Services, installation_id: int, kinds: Sequence[str], bound: datetime
) -> set[tuple[str, str]]:
    """(event, entity id) of the creations stored as deliveries since `bound`."""
    found: set[tuple[str, str]] = set()
    if not kinds:
        return found
    async with services.db.session() as session:
        rows = await session.execute(
            select(Job.payload).where(
                Job.installation_id == installation_id,
                Job.kind.in_(kinds),
                Job.created_at >= bound,
            )
        )
        for payload in rows.scalars():
            event = str(payload.get("event", "")).upper()
            if event not in _CREATIONS or payload.get("replayed"):
                continue
            body = payload.get("body") or {}
            entity = body.get("user") or body.get("order") or {}
            if entity.get("id"):
                found.add((event, str(entity["id"])))
    return found


_READS = {
    Source.CUSTOMERS: ("missed_customers", "customers", customer_deliveries),
    Source.ORDERS: ("missed_orders", "orders", order_deliveries),
    Source.CHECKOUTS: ("missed_checkouts", "checkouts", checkout_deliveries),
}


async def handle_replay(job: ClaimedJob, replay: Replay, services: Services) -> None:
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
    if installation is None or installation.uninstalled_at is not None:
        return
    definitions = handled_definitions(installation, services)
    bound = replay.since - MARGIN
    document, field, build = _READS[replay.source]
    since = bound.date().isoformat() if replay.source is Source.CHECKOUTS else bound.isoformat()
    kinds = [webhook_job_kind(d.slug) for d in definitions if _CREATIONS & set(d.events)]
    delivered = await _delivered_creations(services, installation.id, kinds, bound)
    count = 0
    async for nodes in pages(services, installation, document, field, {"since": since}):
        count += len(nodes)
        deliveries = not_delivered(build(nodes, bound), delivered)
        await store_jobs(services, delivery_jobs(installation.id, deliveries, definitions))
    logger.info("Replayed %d %s changed since %s", count, replay.source.value, bound.isoformat())
    async with services.db.transaction() as session:
        await complete_in(session)


async def store_jobs(services: Services, jobs: list[NewJob]) -> None:
    if jobs:
        async with services.db.transaction() as session:
            await JobRepository(session).enqueue_deduplicated(jobs)


__all__ = ["MARGIN", "REPLAY_JOB", "Delivery", "Replay", "Source", "handle_replay", "store_jobs"]
