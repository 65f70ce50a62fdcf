"""Who owns the customer address an ADDRESS_UPDATED or ADDRESS_DELETED names.

Saleor sends those events alone, with no CUSTOMER_UPDATED, for `addressUpdate`,
`accountAddressUpdate`, `addressDelete` and `accountAddressDelete`, and their `address` has no
user (saleor/graphql/account/mutations/base.py; saleor/graphql/webhook/subscription_types.py,
`AddressBase`). The same mutations save the owner's `updated_at` (`update_fields=[...,
"updated_at"]` in `BaseAddressUpdate` and `BaseAddressDelete`, in 3.20 as today), so the owner
is among the customers changed since the event was issued, less a margin for the clocks of
Saleor's processes:

* an edited address is matched by id in those customers' address books: exactly its owner;
* a deleted one is gone from every book, so each customer changed since that moment is a
  candidate. Their reactions only send what changed, so a candidate that is not the owner
  costs a read and nothing more.

The e-commerce and newsletter capabilities each subscribe to the events and ask here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from addon.db.types import utcnow
from addon.saleor.client import SaleorClient, SaleorError
from addon.saleor.paging import Pager

__all__ = ["AddressEvent", "AddressOwner", "address_owners", "is_deletion"]

logger = logging.getLogger(__name__)

DOCUMENT = "address_owners"
# Saleor's processes (API, Celery workers generating deferred payloads) may disagree on the time.
CLOCK_MARGIN = timedelta(minutes=1)
PAGE = 100  # Saleor's largest page
# A busy store changes many customers a minute (orders, logins); an owner not found in this
# many pages is given up, and logged.
MAX_PAGES = 20


class _Saleor(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class _Ref(_Saleor):
    id: str


class AddressEvent(_Saleor):
    """What the subscribing documents select of AddressUpdated and AddressDeleted."""

    issued_at: datetime | None = Field(None, alias="issuedAt")
    address: _Ref | None = None


class AddressOwner(_Saleor):
    id: str
    email: str  # `User.email: String!`


class _Customer(AddressOwner):
    addresses: list[_Ref] = []


_CUSTOMERS = TypeAdapter(list[_Customer])


def is_deletion(event_name: str) -> bool:
    """Whether a delivery's event (its `Saleor-Event`, any case) is ADDRESS_DELETED."""
    return event_name.upper() == "ADDRESS_DELETED"


def _parse(nodes: list[dict[str, Any]]) -> list[_Customer]:
    try:
        return _CUSTOMERS.validate_python(nodes)
    except ValidationError as exc:
        raise SaleorError(
            f"Saleor's answer to {DOCUMENT} did not have the expected shape "
            f"({exc.error_count()} problems)."
        ) from exc


async def address_owners(
    saleor: SaleorClient,
    api_url: str,
    token: SecretStr,
    event: AddressEvent,
    *,
    deleted: bool,
) -> list[AddressOwner]:
    """The customer owning `event`'s address (none: not a customer's, or no longer found);
    for a deleted address, every customer changed around it (see the module's docstring).
    Saleor's failures are raised (`SaleorError`): the job's retries know them."""
    if event.address is None:
        return []
    issued = event.issued_at or utcnow()
    since = issued - CLOCK_MARGIN
    # No upper bound: the owner may have changed again since (a sign-in saves `updated_at`:
    # saleor/graphql/account/mutations/authentication/create_token.py), and a job may run
    # late. Those changed first come first: the owner is among the first pages.
    found: list[AddressOwner] = []
    # `customers` is nullable in Saleor's schema: the pager reads null as an empty last page.
    pager = Pager(
        saleor,
        api_url,
        token,
        DOCUMENT,
        "customers",
        {"first": PAGE, "since": since.isoformat()},
        max_pages=MAX_PAGES,
    )
    async for page in pager:
        for node in _parse(page.nodes):
            owner = AddressOwner(id=node.id, email=node.email)
            if deleted:
                found.append(owner)
            elif any(a.id == event.address.id for a in node.addresses):
                return [owner]
    if not pager.more:
        return found
    logger.warning(
        "The owner of a Saleor address was not found among the customers changed since %s "
        "(%d pages read)",
        since.isoformat(),
        MAX_PAGES,
    )
    return found
