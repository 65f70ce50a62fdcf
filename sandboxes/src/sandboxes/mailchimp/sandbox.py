"""``MailchimpSandbox``: the in-process fake of Mailchimp used by tests and local tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx
from starlette.applications import Starlette
from starlette.responses import Response

from . import (
    batch_subscribe,
    batches,
    campaigns,
    core,
    customers,
    interests,
    list_webhooks,
    lists,
    members,
    merge_fields,
    order_lines,
    orders,
    products,
    promos,
    sites,
    stores,
)
from .app import build_app
from .faults import Faults
from .models import (
    AudienceList,
    Batch,
    Cart,
    Customer,
    ListWebhook,
    LoggedRequest,
    Member,
    MemberStatus,
    OAuthClient,
    Order,
    Product,
    SandboxAccount,
    Store,
)
from .routing import ApiRequest, ApiResult, Router
from .state import (
    AccountData,
    ConfirmationEmail,
    ListData,
    SandboxClock,
    SandboxState,
    StoreData,
    subscriber_hash,
)
from .webhooks import fire_list_webhook

AccountRef = SandboxAccount | str


class MailchimpSandbox:
    """A fake Mailchimp (Marketing API, OAuth, sign-up) as an ASGI app plus test helpers.

    ``public_base_url`` is where the app is reachable (API base for datacenter ``dc`` is
    ``{public_base_url}/{dc}/3.0``); ``transport`` carries the sandbox's own outgoing requests
    (webhook URL checks and webhook deliveries).
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        public_base_url: str = "http://mailchimp.test",
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        oauth_code_ttl: float = 300.0,
        batch_start_delay: float = 0.0,
        batch_operation_latency: float = 0.0,
        batch_result_ttl: float = 600.0,
        verify_webhook_urls: bool = True,
    ) -> None:
        self.seed = seed
        self.public_base_url = public_base_url.rstrip("/")
        self.transport = transport
        self.clock = SandboxClock(clock) if clock else SandboxClock()
        self.state = SandboxState(self.clock, seed)
        self.faults = Faults(seed, self.clock)
        self.oauth_code_ttl = oauth_code_ttl
        self.batch_start_delay = batch_start_delay
        self.batch_operation_latency = batch_operation_latency
        self.batch_result_ttl = batch_result_ttl
        # While True, submitted batches stay "pending" (tests order them against other calls).
        self.batches_paused = False
        # While paused, this many waiting batches may still start, one each (release_batches):
        # a plain counter, read and taken under the state lock (tests run in another thread).
        self.batch_releases = 0
        self.verify_webhook_urls = verify_webhook_urls
        self.batch_runner = batches.BatchRunner(self)
        self.router = Router()
        for module in (
            core,
            lists,
            merge_fields,
            interests,
            list_webhooks,
            members,
            batch_subscribe,
            stores,
            customers,
            products,
            orders,
            order_lines,
            promos,
            sites,
            campaigns,
            batches,
        ):
            self.router.include(module.router)
        self.app: Starlette = build_app(self)

    # --- URLs --------------------------------------------------------------------------

    def api_endpoint(self, dc: str) -> str:
        """What ``/oauth2/metadata`` reports as ``api_endpoint`` (append ``/3.0``)."""
        return f"{self.public_base_url}/{dc}"

    def api_base_url(self, dc: str) -> str:
        return f"{self.api_endpoint(dc)}/3.0"

    # --- accounts and credentials --------------------------------------------------------

    def create_account(
        self,
        name: str,
        login_email: str,
        dc: str = "us21",
        role: str = "owner",
        *,
        first_name: str = "",
        last_name: str = "",
    ) -> SandboxAccount:
        """Create an account with one API key (``<32 hex>-<dc>``)."""
        state = self.state
        with state.lock:
            account = SandboxAccount(
                id=state.new_id(25),
                name=name,
                login_email=login_email,
                dc=dc,
                role=role,
                api_key=f"{state.new_id(32)}-{dc}",
                user_id=state.next_user_id(),
                login_id=str(state.next_user_id()),
                first_name=first_name,
                last_name=last_name,
                created_at=self.clock.iso(),
            )
            state.accounts[account.id] = AccountData(account=account)
            state.api_keys[account.api_key] = account.id
        return account

    def add_api_key(self, account: AccountRef) -> str:
        """Issue an additional API key for the account."""
        data = self._data(account)
        with self.state.lock:
            key = f"{self.state.new_id(32)}-{data.account.dc}"
            self.state.api_keys[key] = data.account.id
        return key

    def register_oauth_client(
        self, client_id: str, client_secret: str, redirect_uri: str | None = None
    ) -> OAuthClient:
        """Register an OAuth app; with ``redirect_uri`` set, only that URI is accepted."""
        client = OAuthClient(
            client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
        )
        with self.state.lock:
            self.state.oauth_clients[client_id] = client
        return client

    def issue_oauth_token(self, account: AccountRef) -> str:
        """An OAuth access token for the account (what the token endpoint hands out)."""
        data = self._data(account)
        with self.state.lock:
            token = self.state.new_id(32)
            self.state.tokens[token] = data.account.id
        return token

    def revoke(self, target: AccountRef) -> None:
        """Revoke an API key or OAuth token, or (given an account) all of its credentials."""
        state = self.state
        with state.lock:
            if isinstance(target, str) and (target in state.api_keys or target in state.tokens):
                state.revoked.add(target)
                return
            account_id = self._data(target).account.id
            for table in (state.api_keys, state.tokens):
                state.revoked.update(k for k, v in table.items() if v == account_id)

    def reinstate(self, key: str) -> None:
        """Credentials refused for a while are accepted again: a 401 that passed (an outage
        of Mailchimp's sign-in, an account suspended then restored), which the app took for
        a revocation until its next check. A key its owner revoked never comes back ("Once
        you've revoked an API key, it can't be reactivated", mailchimp.com/help/about-api-keys):
        the tests that model one never call this."""
        with self.state.lock:
            self.state.revoked.discard(key)

    @property
    def accounts(self) -> list[SandboxAccount]:
        with self.state.lock:
            return [d.account for d in self.state.accounts.values()]

    def account(self, account_id: str) -> SandboxAccount:
        return self._data(account_id).account

    def _data(self, account: AccountRef) -> AccountData:
        account_id = account.id if isinstance(account, SandboxAccount) else account
        try:
            return self.state.accounts[account_id]
        except KeyError:
            raise KeyError(f"No sandbox account {account_id!r}") from None

    # --- observation ---------------------------------------------------------------------

    def peak_concurrency(self, account: AccountRef) -> int:
        """Most simultaneous requests the account ever had in flight (rejected ones excluded)."""
        return self._data(account).peak_concurrency

    def in_flight(self, account: AccountRef) -> int:
        return self._data(account).in_flight

    def reset_peak_concurrency(self, account: AccountRef) -> None:
        data = self._data(account)
        with self.state.lock:
            data.peak_concurrency = data.in_flight

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every Marketing API request seen so far (HTTP and batch operations)."""
        with self.state.lock:
            return list(self.state.request_log)

    @property
    def confirmations(self) -> list[ConfirmationEmail]:
        """Double opt-in confirmation e-mails "sent" (member set to ``pending``)."""
        with self.state.lock:
            return list(self.state.confirmations)

    def _list(self, account: AccountRef, list_id: str) -> ListData:
        return self._data(account).lists[list_id]

    def _store(self, account: AccountRef, store_id: str) -> StoreData:
        return self._data(account).stores[store_id]

    def lists(self, account: AccountRef) -> list[AudienceList]:
        with self.state.lock:
            return [d.info.model_copy(deep=True) for d in self._data(account).lists.values()]

    def members(self, account: AccountRef, list_id: str) -> list[Member]:
        with self.state.lock:
            return [m.model_copy(deep=True) for m in self._list(account, list_id).members.values()]

    def member(self, account: AccountRef, list_id: str, email: str) -> Member | None:
        with self.state.lock:
            found = self._list(account, list_id).members.get(subscriber_hash(email))
            return found.model_copy(deep=True) if found else None

    def set_member_status(
        self, account: AccountRef, list_id: str, email: str, status: MemberStatus
    ) -> None:
        """A change Mailchimp makes by itself or through its own pages (a bounce cleans the
        contact, one unsubscribes from a campaign's link), which the API cannot make; its
        webhook is `fire_list_webhook`'s."""
        with self.state.lock:
            member = self._list(account, list_id).members[subscriber_hash(email)]
            member.status = status
            member.last_changed = self.clock.iso()

    def webhooks(self, account: AccountRef, list_id: str) -> list[ListWebhook]:
        with self.state.lock:
            return [w.model_copy() for w in self._list(account, list_id).webhooks.values()]

    def stores(self, account: AccountRef) -> list[Store]:
        with self.state.lock:
            return [d.info.model_copy(deep=True) for d in self._data(account).stores.values()]

    def customers(self, account: AccountRef, store_id: str) -> list[Customer]:
        with self.state.lock:
            return [
                c.model_copy(deep=True) for c in self._store(account, store_id).customers.values()
            ]

    def products(self, account: AccountRef, store_id: str) -> list[Product]:
        with self.state.lock:
            return [
                p.model_copy(deep=True) for p in self._store(account, store_id).products.values()
            ]

    def orders(self, account: AccountRef, store_id: str) -> list[Order]:
        with self.state.lock:
            return [o.model_copy(deep=True) for o in self._store(account, store_id).orders.values()]

    def notifications(self, account: AccountRef, store_id: str) -> list[tuple[str, str]]:
        """The order notifications the store sent, as (order id, e-mail) (`orders.notify`)."""
        with self.state.lock:
            return list(self._store(account, store_id).notifications)

    def carts(self, account: AccountRef, store_id: str) -> list[Cart]:
        with self.state.lock:
            return [c.model_copy(deep=True) for c in self._store(account, store_id).carts.values()]

    def batches(self, account: AccountRef) -> list[Batch]:
        with self.state.lock:
            return [b.model_copy(deep=True) for b in self._data(account).batches.values()]

    # --- setup helpers -------------------------------------------------------------------

    def add_campaign(
        self, account: AccountRef, list_id: str, campaign_id: str | None = None
    ) -> str:
        """Make a campaign sent to `list_id` known (the orders and carts of that audience's
        stores may reference it)."""
        data = self._data(account)
        with self.state.lock:
            cid = campaign_id or self.state.new_id(10)
            data.campaigns[cid] = list_id
        return cid

    def refuse_address(
        self, account: AccountRef, email: str, why: Literal["fake", "signups"] | None = "fake"
    ) -> None:
        """Mailchimp refuses `email` as a new contact of the account's lists, as it refuses an
        address that "looks fake or invalid" (or one that signed up to many lists very
        recently: `member_rules.check_address_accepted`); `None`: it takes it again."""
        data = self._data(account)
        with self.state.lock:
            if why is None:
                data.refused_addresses.pop(email.strip().lower(), None)
            else:
                data.refused_addresses[email.strip().lower()] = why

    async def call(
        self,
        account: AccountRef,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> ApiResult:
        """Run one Marketing API operation directly (no HTTP, no faults, no concurrency cap)."""
        request = ApiRequest(
            sandbox=self,
            account=self._data(account),
            method=method.upper(),
            path=path,
            query=query or {},
            body=body,
            via="batch",
        )
        return await self.router.call(request)

    # --- webhooks ------------------------------------------------------------------------

    async def fire_list_webhook(
        self,
        account: AccountRef,
        list_id: str,
        event: str,
        data: dict[str, Any],
        *,
        source: str = "user",
        fired_at: str | None = None,
    ) -> list[httpx.Response]:
        """POST Mailchimp's form-encoded webhook for ``event`` to every webhook of the list
        subscribed to that event and source; returns the receivers' responses."""
        return await fire_list_webhook(
            self, self._list(account, list_id), event, data, source=source, fired_at=fired_at
        )

    # --- batches -------------------------------------------------------------------------

    def serve_batch_archive(self, name: str, expires: str | None) -> Response:
        return self.batch_runner.serve_archive(name, expires)

    def release_batches(self, n: int = 1) -> None:
        """While ``batches_paused``, let ``n`` more waiting batches start (any ``n`` of them;
        a batch submitted later takes a release nobody waits for), so a test can step through
        batches one at a time. Safe from any thread."""
        if n < 0:
            raise ValueError("n must be >= 0")
        with self.state.lock:
            self.batch_releases += n

    def take_batch_release(self) -> bool:
        """A waiting batch's ticket to start while paused: True (and one fewer left) if any."""
        with self.state.lock:
            if self.batch_releases <= 0:
                return False
            self.batch_releases -= 1
            return True

    async def drain_batches(self) -> None:
        """Wait until every submitted batch has finished processing."""
        await self.batch_runner.drain()

    async def aclose(self) -> None:
        """Cancel background batch processing."""
        await self.batch_runner.close()

    def __repr__(self) -> str:
        return f"MailchimpSandbox(seed={self.seed}, public_base_url={self.public_base_url!r})"


__all__ = ["MailchimpSandbox"]
