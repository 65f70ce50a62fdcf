"""The base of ``SaleorStore`` (store.py), whose parts are the ``store_*`` modules: the state
they share (every table, and the indexes kept beside them), the pk sequence, the channels, and
``NotFound``."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

from .models import (
    Category,
    Channel,
    Checkout,
    Customer,
    EmailWrites,
    Product,
    ProductType,
    ProductVariant,
    SandboxApp,
)
from .order_models import Order
from .voucher_models import Voucher


class NotFound(LookupError):
    """Raised when an object referenced by pk, slug or global ID does not exist."""


T = TypeVar("T")

# Listings kept sorted (a sync reads each of its slices page by page, in one ordering).
RANGES_KEPT = 64
CREATED_KEY = attrgetter("created")
JOINED_KEY = attrgetter("date_joined")


class SortedViews:
    """Lists of a table's items, each in an ordering (orderings.py), made when first asked and
    kept while the stamp they were made at holds (the table's writes, and those of the fields
    they are sorted by): as Saleor's database indexes, so a page does not sort a listing. The
    `RANGES_KEPT` last made are kept, the oldest dropped first."""

    def __init__(self) -> None:
        self._stamp: Hashable = None
        self._views: dict[Hashable, list[Any]] = {}

    def get(self, stamp: Hashable, name: Hashable, make: Callable[[], list[T]]) -> list[T]:
        if stamp != self._stamp:
            self._stamp, self._views = stamp, {}
        view = self._views.get(name)
        if view is None:
            if len(self._views) >= RANGES_KEPT:
                del self._views[next(iter(self._views))]
            view = self._views[name] = make()
        return view


@dataclass
class OrderIndex:
    by_channel: dict[int, list[Order]] = field(default_factory=dict)
    by_user: dict[int, list[Order]] = field(default_factory=dict)
    # As Saleor's index on `created_at`: per channel (None: all), by creation time then pk,
    # built when first asked; and recently asked creation ranges, each in an ordering.
    by_created: dict[int | None, list[Order]] = field(default_factory=dict)
    views: SortedViews = field(default_factory=SortedViews)
    creation_writes: int = 0


class StoreBase:
    """The store's state, its sequence of pks, and its channels."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.channels: dict[int, Channel] = {}
        self.customers: dict[int, Customer] = {}
        # Customers by date joined then pk, and recently asked ranges of it in an ordering
        # (made when first asked, as `_order_index`); `_customer_writes` counts creations and
        # deletions (the views' stamp, with the writes of the fields they are sorted by).
        self._customer_views = SortedViews()
        self._customer_writes = 0
        # Customer pks by e-mail (Saleor's unique index on `account_user.email`), with the e-mail
        # writes it was made at: a shop of 50 k customers was generated in quadratic time, each
        # new customer's uniqueness checked by a scan.
        self._by_email: tuple[int, dict[str, int]] | None = None
        self.product_types: dict[int, ProductType] = {}
        self.categories: dict[int, Category] = {}
        self.products: dict[int, Product] = {}
        self._product_views = SortedViews()  # products in an ordering (as customers')
        self._product_writes = 0
        self.variants: dict[int, ProductVariant] = {}
        self.checkouts: dict[uuid.UUID, Checkout] = {}
        # Change orders only through create_order / update_order / delete_order: they keep the
        # per-channel and per-user lists (Saleor's indexed columns) that listings page through,
        # so a 100 k-order store is not scanned once per page.
        self.orders: dict[int, Order] = {}
        self.order_tokens: dict[uuid.UUID, int] = {}  # an order's UUID (its global id) -> pk
        self._order_index: OrderIndex | None = None
        self.apps: dict[int, SandboxApp] = {}
        self.vouchers: dict[int, Voucher] = {}  # `vouchers.py`
        self._order_numbers = itertools.count(1)
        # The site setting `use_legacy_update_webhook_emission` (since 3.22; on unless an admin
        # turns it off: site/models.py `db_default=True`), see `metadata_schema.metadata_events`.
        self.legacy_update_webhook_emission = True

    def prices_entered_with_tax(self, channel_id: int) -> bool:
        """Whether the channel's prices are entered with tax (`StoreTaxes` answers its tax
        configuration's; Saleor's default, true, without one)."""
        return True

    def find_customer_by_email(self, email: str) -> Customer | None:
        email = email.strip().lower()
        pk = self._emails().get(email)
        return self.customers[pk] if pk is not None else None

    def _emails(self) -> dict[str, int]:
        """The customers' pks by e-mail, rebuilt if an e-mail was assigned since it was made
        (create and delete keep it up to date themselves)."""
        index = self._by_email
        if index is None or index[0] != EmailWrites.count:
            by_email = {customer.email: pk for pk, customer in self.customers.items()}
            index = self._by_email = (EmailWrites.count, by_email)
        return index[1]

    def next_id(self) -> int:
        """A fresh pk (one sequence for all object kinds keeps pks unique and ordered)."""
        return next(self._ids)

    # -- channels ---------------------------------------------------------------------------

    def add_channel(
        self,
        slug: str,
        name: str | None = None,
        currency_code: str = "USD",
        default_country: str = "US",
        is_active: bool = True,
    ) -> Channel:
        if any(c.slug == slug for c in self.channels.values()):
            raise ValueError(f"Channel with slug {slug!r} already exists")
        channel = Channel(
            id=self.next_id(),
            slug=slug,
            name=name or slug.replace("-", " ").title(),
            currency_code=currency_code,
            default_country=default_country,
            is_active=is_active,
        )
        self.channels[channel.id] = channel
        return channel

    def channel_by_slug(self, slug: str) -> Channel:
        for channel in self.channels.values():
            if channel.slug == slug:
                return channel
        raise NotFound(f"Channel with '{slug}' slug does not exist.")

    def default_channel(self) -> Channel:
        """The first channel; created (``default-channel``, USD) if there is none yet."""
        if not self.channels:
            return self.add_channel("default-channel", "Default Channel")
        return next(iter(self.channels.values()))
