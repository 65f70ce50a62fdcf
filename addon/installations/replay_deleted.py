"""Customers deleted while the app was deactivated: replayed as their deletion.

A deleted customer is listed by nothing, so the customers the app holds data of
(`KNOWN_CUSTOMERS`: e-commerce's records, subscriptions' contacts) are looked up in Saleor, a
page of ids at a time; `customerDelete`, `customerBulkDelete` and `accountDelete` delete the
row (saleor/graphql/core/mutations.py `ModelDeleteMutation`, account_delete.py). `customers`
lists every user but staff members without orders (saleor/account/models.py
`UserManager.customers`), and the app cannot ask for those (`user(id:)` shows staff only to
MANAGE_STAFF): a customer made staff meanwhile (`staffCreate` with their address promotes the
existing user) who has ordered nothing is taken for deleted too.

Each one gone is replayed as CUSTOMER_DELETED with each address the app knows for it, to the
documents subscribing to that event (erasure: its data leaves Mailchimp). A Saleor older than
3.23.5 has no subscription for CUSTOMER_DELETED (`CUSTOMER_DELETED_SINCE`), and the app cannot
tell a customer who deleted their account from one staff deleted, so there it is replayed as
ACCOUNT_DELETED, the customer's own deletion, which is erased on every version.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from addon.installations.models import Installation
from addon.installations.replay import Delivery, delivery_jobs, handled_definitions, store_jobs
from addon.installations.repository import InstallationRepository
from addon.installations.resume_ports import KNOWN_CUSTOMERS
from addon.jobs.completion import complete_in
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.saleor.global_ids import global_id_type
from addon.services import Services

logger = logging.getLogger(__name__)

DELETED_JOB = "installation.replay_deleted"
PAGE = 100  # Saleor's largest `first`


async def known_customers(services: Services, installation_id: int) -> dict[str, set[str]]:
    """User id → the addresses the app knows for it, from every capability."""
    known: dict[str, set[str]] = {}
    async with services.db.session() as session:
        for answer in services.ports[KNOWN_CUSTOMERS]:
            for customer in await answer(session, installation_id):
                if global_id_type(customer.user_id) == "User" and "@" in customer.email:
                    known.setdefault(customer.user_id, set()).add(customer.email.lower())
    return known


async def _gone(services: Services, installation: Installation, ids: Sequence[str]) -> list[str]:
    """Which of `ids` Saleor no longer lists."""
    data = await services.saleor.execute(
        installation.saleor_api_url,
        installation.app_token,
        "missed_customers_exist",
        {"ids": list(ids)},
    )
    listed = {edge["node"]["id"] for edge in (data.get("customers") or {}).get("edges") or []}
    return [user_id for user_id in ids if user_id not in listed]


async def handle_deleted(job: ClaimedJob, payload: NoPayload, services: Services) -> None:
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
    if installation is None or installation.uninstalled_at is not None:
        return
    definitions = handled_definitions(installation, services)
    event = (
        "CUSTOMER_DELETED"
        if any("CUSTOMER_DELETED" in d.events for d in definitions)
        else "ACCOUNT_DELETED"
    )
    known = await known_customers(services, installation.id)
    ids = sorted(known)
    gone: list[str] = []
    for start in range(0, len(ids), PAGE):
        gone += await _gone(services, installation, ids[start : start + PAGE])
    deliveries = [
        Delivery(event, "user", {"id": user_id, "email": email})
        for user_id in gone
        for email in sorted(known[user_id])
    ]
    await store_jobs(services, delivery_jobs(installation.id, deliveries, definitions))
    if gone:
        logger.info("%d known customer(s) were deleted while the app was deactivated", len(gone))
    async with services.db.transaction() as session:
        await complete_in(session)
