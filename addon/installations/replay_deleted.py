"""Customers deleted while Saleor delivered nothing to the app (deactivated, or an outage):
replayed as their deletion.

A deleted customer is listed by nothing, so the customers the app holds data of
(`KNOWN_CUSTOMERS`, answered by erasure from the contacts, addresses and e-commerce records it
erases) are looked up in Saleor, a page of ids at a time; `customerDelete`,
`customerBulkDelete` and `accountDelete` delete the row (saleor/graphql/core/mutations.py
`ModelDeleteMutation`, account/mutations/account/account_delete.py). Each one Saleor no longer
lists is replayed as CUSTOMER_DELETED, once per customer (erasure finds all their addresses),
unless a customer Saleor has now holds the address (registered again meanwhile).

Only where Saleor sends CUSTOMER_DELETED live (3.23.5 and later, `CUSTOMER_DELETED_SINCE`),
and its document is not paused: there every deletion while the app is active is erased already,
so a customer the app still knows and Saleor does not list was deleted while it was not
listening. Before 3.23.5 a deletion by staff is never erased automatically, and the app cannot
tell it from a customer's own, so nothing is replayed: erase such addresses from the
Subscriptions page.

`customers` lists every user but staff members without orders (saleor/account/models.py
`UserManager.customers`), and `user(id:)` shows staff only to MANAGE_STAFF, which the app does
not hold: a customer the app knows whom `staffCreate` made staff (it promotes the existing user
of that address, saleor/graphql/account/mutations/staff/staff_create.py `get_instance`) and
who has no orders is not listed either. Each one not listed is asked about once more
(`addon.saleor.deleted_users`, a metadata mutation that names no key): only a user Saleor
answers NOT_FOUND for is erased, not a staff member (PermissionDenied).
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
from addon.saleor.customers import address_holder
from addon.saleor.deleted_users import user_deleted
from addon.saleor.global_ids import global_id_type
from addon.services import Services

logger = logging.getLogger(__name__)

DELETED_JOB = "installation.replay_deleted"
EVENT = "CUSTOMER_DELETED"
PAGE = 100  # Saleor's largest `first`


async def _gone(services: Services, installation: Installation, ids: Sequence[str]) -> list[str]:
    """Which of `ids` Saleor no longer lists."""
    data = await services.saleor.execute(
        installation.saleor_api_url,
        installation.app_token,
        "missed_customers_exist",
        {"ids": list(ids)},
    )
    customers = data.get("customers")
    if customers is None:  # no answer is no evidence: retried, nobody erased
        raise ValueError("Saleor answered no customers to missed_customers_exist")
    listed = {edge["node"]["id"] for edge in customers.get("edges") or []}
    return [user_id for user_id in ids if user_id not in listed]


async def _address_taken(services: Services, installation: Installation, email: str) -> bool:
    """Whether a customer Saleor has now holds this address (deleted and registered again,
    by them or another, while the app was not listening): erasing it would erase them."""
    holder = await address_holder(
        services.saleor, installation.saleor_api_url, installation.app_token, email
    )
    return holder is not None


async def handle_deleted(job: ClaimedJob, payload: NoPayload, services: Services) -> None:
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
    if installation is None or installation.uninstalled_at is not None:
        return
    # Subscribed to only from 3.23.5 (`wanted_webhooks`: `CUSTOMER_DELETED_SINCE`), unpaused.
    definitions = [d for d in handled_definitions(installation, services) if EVENT in d.events]
    if not definitions:
        async with services.db.transaction() as session:
            await complete_in(session)
        return
    async with services.db.session() as session:  # read only where there is a use for it
        known = await services.ports[KNOWN_CUSTOMERS](session, job.installation_id)
    ids = sorted(user_id for user_id in known if global_id_type(user_id) == "User")
    gone: list[str] = []
    for start in range(0, len(ids), PAGE):
        gone += await _gone(services, installation, ids[start : start + PAGE])
    gone = [
        id_
        for id_ in gone
        if await user_deleted(
            services.saleor, installation.saleor_api_url, installation.app_token, id_
        )
        and not await _address_taken(services, installation, known[id_])
    ]
    deliveries = [Delivery(EVENT, "user", {"id": id_, "email": known[id_]}) for id_ in gone]
    await store_jobs(services, delivery_jobs(installation.id, deliveries, definitions))
    if gone:
        logger.info("%d known customer(s) were deleted while nothing was delivered", len(gone))
    async with services.db.transaction() as session:
        await complete_in(session)
