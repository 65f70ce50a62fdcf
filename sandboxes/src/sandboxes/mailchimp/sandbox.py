"""``MailchimpSandbox``: the in-process fake of Mailchimp used by tests and local tools.

The class is assembled here from its parts, one module each: ``sandbox_accounts`` (shared state,
URLs, accounts and credentials) and ``sandbox_observation`` (what tests read of its state); this
module builds it (its router and ASGI app) and holds the setup helpers, direct API calls, list
webhooks and the control of batch processing.
"""

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
    carts,
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
from .models import MemberStatus
from .routing import ApiRequest, ApiResult, Router
from .sandbox_accounts import AccountRef
from .sandbox_observation import SandboxObservation
from .state import SandboxClock, SandboxState, subscriber_hash
from .webhooks import fire_list_webhook, redeliver_list_webhooks


class MailchimpSandbox(SandboxObservation):
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
        # Whether `GET /batches/{id}` signs a finished batch's results URL afresh: Mailchimp's
        # docs do not say so, so off (the stricter reading) unless a test turns it on.
        self.batch_url_renewed_on_get = False
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
            carts,
            promos,
            sites,
            campaigns,
            batches,
        ):
            self.router.include(module.router)
        self.app: Starlette = build_app(self)

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

    def set_member_status(
        self, account: AccountRef, list_id: str, email: str, status: MemberStatus
    ) -> None:
        """A change Mailchimp makes by itself or through its own pages (a bounce cleans the
        contact, one unsubscribes from a campaign's link), which the API cannot make; its
        webhook is `fire_list_webhook`'s."""
        with self.state.lock:
            audience = self._list(account, list_id)
            member = audience.members[subscriber_hash(email)]
            member.status = status
            member.last_changed = self.clock.iso()
            if status == "unsubscribed":
                audience.unsubscribed_at[member.id] = member.last_changed

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

    async def redeliver_list_webhooks(
        self, account: AccountRef, list_id: str
    ) -> list[httpx.Response]:
        """Mailchimp's next try of the list's deliveries its receivers did not take (no
        answer, or neither 2xx nor 410), as first sent; returns the receivers' responses."""
        return await redeliver_list_webhooks(self, self._list(account, list_id))

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
