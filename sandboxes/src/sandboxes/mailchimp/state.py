"""In-memory state of the Mailchimp sandbox: accounts, credentials, audiences, stores, batches.

Everything sits behind one re-entrant lock (:attr:`SandboxState.lock`); request handlers are
synchronous and run while holding it, so concurrent requests never see a half-applied change.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from .batch_models import Batch
from .models import (
    AudienceList,
    Cart,
    Customer,
    Interest,
    InterestCategory,
    ListWebhook,
    LoggedRequest,
    MarketingPermission,
    Member,
    MergeField,
    OAuthClient,
    Order,
    Product,
    SandboxAccount,
    Store,
)


class SandboxClock:
    """Wall clock with an adjustable offset, so tests can make codes and URLs expire."""

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        # The last ISO string and the whole second it is of: `iso` is asked for several times
        # per operation (created_at, updated_at, last_changed, timestamp_signup…), and building
        # a datetime for each was 3-4 % of this sandbox's CPU in an initial sync.
        # One tuple, read and replaced whole: another thread never sees half of it.
        self._iso: tuple[float, str] = (math.nan, "")

    def now(self) -> float:
        return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def iso(self) -> str:
        now = self.now()
        second = math.floor(now)
        # Within a whole second the text (to the second) cannot change; in the last microsecond
        # of one, `fromtimestamp` may round up into the next, so that is not taken from the cache.
        reusable = now - second < 0.999999
        cached_second, cached_text = self._iso
        if reusable and second == cached_second:
            return cached_text
        text = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        if reusable:
            self._iso = (second, text)
        return text


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 hex digest of the lower-cased e-mail address."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


@dataclass
class WebhookDelivery:
    """A list webhook's delivery its receiver did not take, to be sent again (`webhooks.py`)."""

    hook_id: str
    url: str
    body: bytes
    tries: int = 0


@dataclass
class ListData:
    """An audience together with everything that hangs off it."""

    info: AudienceList
    merge_fields: dict[int, MergeField] = field(default_factory=dict)
    categories: dict[str, InterestCategory] = field(default_factory=dict)
    interests: dict[str, Interest] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)
    webhooks: dict[str, ListWebhook] = field(default_factory=dict)
    # Webhooks a receiver answered 410: Mailchimp disables them for good ("Returning a 410 from
    # an audience webhook will disable it", release notes 2021-04-05). The API shows no such
    # field (`List_Webhooks`); only the audience's settings page does.
    disabled_webhooks: set[str] = field(default_factory=set)
    # Deliveries not taken, which Mailchimp sends again (`webhooks.redeliver_list_webhooks`).
    undelivered: list[WebhookDelivery] = field(default_factory=list)
    permissions: list[MarketingPermission] = field(default_factory=list)
    # A tag's id and its first spelling, by its name case-folded (`member_rules.set_tag`).
    tag_ids: dict[str, tuple[int, str]] = field(default_factory=dict)
    # When each member last became unsubscribed, by member id (`member_query`'s
    # `unsubscribed_since`); the API shows it on no member.
    unsubscribed_at: dict[str, str] = field(default_factory=dict)
    next_merge_id: int = 1


@dataclass
class StoreData:
    """An e-commerce store and its customers, products, orders and carts."""

    info: Store
    customers: dict[str, Customer] = field(default_factory=dict)
    # lower-cased e-mail address -> the id of the customer holding it (`customers.py`)
    customer_emails: dict[str, str] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    carts: dict[str, Cart] = field(default_factory=dict)
    # customer id -> ids of their orders, in creation order (totals without a full scan)
    customer_orders: dict[str, dict[str, None]] = field(default_factory=dict)
    # promo rule id -> the rule and its codes (`promos.py`), deleted with the store
    promo_rules: dict[str, Any] = field(default_factory=dict)
    # The store's abandoned-cart automation as `automations.abandoned_cart` reports it
    # (`sites.py`): built in Mailchimp's UI, so only the sandbox's controls change it.
    abandoned_cart: dict[str, object] = field(default_factory=lambda: {"is_supported": True})
    # The order notifications the store's automations would send, as (order id, e-mail), in
    # order (`orders.notify`): what a merchant who turned them on sees shoppers receive.
    notifications: list[tuple[str, str]] = field(default_factory=list)

    def email_holder(self, email: str) -> str | None:
        """The id of the customer holding this address, compared without case."""
        return self.customer_emails.get(email.lower())

    def put_customer(self, customer: Customer) -> None:
        self.customers[customer.id] = customer
        self.customer_emails[customer.email_address.lower()] = customer.id

    def delete_customer(self, customer_id: str) -> None:
        customer = self.customers.pop(customer_id)
        if self.customer_emails.get(customer.email_address.lower()) == customer_id:
            del self.customer_emails[customer.email_address.lower()]

    def save_order(self, order: Order) -> None:
        previous = self.orders.get(order.id)
        if previous is not None and previous.customer.id != order.customer.id:
            self.customer_orders.get(previous.customer.id, {}).pop(order.id, None)
        self.orders[order.id] = order
        self.customer_orders.setdefault(order.customer.id, {})[order.id] = None

    def delete_order(self, order_id: str) -> None:
        order = self.orders.pop(order_id)
        self.customer_orders.get(order.customer.id, {}).pop(order_id, None)

    def orders_of(self, customer_id: str) -> list[Order]:
        return [self.orders[i] for i in self.customer_orders.get(customer_id, {})]


@dataclass
class ConnectedSiteData:
    """A connected site (`sites.py`): its script, and whether the site really serves it."""

    foreign_id: str
    store_id: str
    platform: str
    domain: str
    script_url: str
    created_at: str
    updated_at: str
    script_installed: bool = False  # a sandbox control: the storefront's pages load the script


@dataclass
class AccountData:
    """Everything one account owns."""

    account: SandboxAccount
    lists: dict[str, ListData] = field(default_factory=dict)
    stores: dict[str, StoreData] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    campaigns: dict[str, str] = field(default_factory=dict)  # id -> the audience it was sent to
    sites: dict[str, ConnectedSiteData] = field(default_factory=dict)  # by foreign id
    sent_campaigns: dict[str, Any] = field(default_factory=dict)  # `campaigns.py`, by id
    # Addresses Mailchimp refuses to add (`member_rules.check_address_accepted`), lower-cased:
    # "fake" (it looks fake or invalid) or "signups" (signed up to many lists very recently).
    refused_addresses: dict[str, Literal["fake", "signups"]] = field(default_factory=dict)
    in_flight: int = 0
    peak_concurrency: int = 0


@dataclass
class ConfirmationEmail:
    """A double opt-in confirmation the sandbox "sent" when a member was set to pending."""

    account_id: str
    list_id: str
    email_address: str
    sent_at: float


@dataclass
class OAuthCode:
    code: str
    client_id: str
    redirect_uri: str
    account_id: str
    expires_at: float
    used: bool = False


class SandboxState:
    """All sandbox data plus the credential tables."""

    def __init__(self, clock: SandboxClock, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(seed)
        self.accounts: dict[str, AccountData] = {}
        self.api_keys: dict[str, str] = {}  # key -> account id
        self.tokens: dict[str, str] = {}  # oauth access token -> account id
        self.revoked: set[str] = set()
        self.disabled: set[str] = set()  # account ids (`MailchimpSandbox.disable`)
        self.oauth_clients: dict[str, OAuthClient] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.request_log: list[LoggedRequest] = []
        self.confirmations: list[ConfirmationEmail] = []
        self._next_user_id = 100_000

    def new_id(self, length: int = 10) -> str:
        """A random lowercase hex id (seeded, so runs are reproducible)."""
        with self.lock:
            return f"{self.rng.getrandbits(4 * length):0{length}x}"

    def next_user_id(self) -> int:
        with self.lock:
            self._next_user_id += 1
            return self._next_user_id

    def account_data(self, account_id: str) -> AccountData:
        return self.accounts[account_id]
