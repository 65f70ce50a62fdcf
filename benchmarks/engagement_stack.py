"""The sandbox side of the engagement benchmark, run in its own process (see
`benchmarks.engagement`): the dev stack of `benchmarks.stack` (150 ms per request to either
sandbox, Mailchimp's inside its connection window) with a Saleor store of `--customers`
customers, plus two controls:

* `POST /_bench/engagement/seed`: the demo account's audience gets `--members` subscribed
  members (the Saleor customers first, guests after), ratings and a tag on a tenth of them,
  `--campaigns` campaigns sent over the last 29 days with opens (20 %) and clicks (5 %) of their
  recipients, and a store with 200 orders attributed to them;
* `POST /_bench/engagement/increment?fraction=0.01`: that fraction of the members opens (and a
  fifth of them clicks) one of the campaigns now.

`GET /_bench/stats` adds the Saleor metadata mutations received to `benchmarks.stack`'s figures.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from benchmarks.stack import BenchStack, arguments, send_json, serve
from sandboxes.devstack import SALEOR_PATH, DevStack
from sandboxes.mailchimp.campaigns import record_activity, send_campaign
from sandboxes.mailchimp.models import MemberTag

DAY = 86_400.0
PRODUCT = {
    "id": "bench-product",
    "title": "Bench product",
    "variants": [{"id": "bench-variant", "title": "Bench variant", "price": 25.0}],
}


def _order(order_id: str, email: str, campaign_id: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "customer": {"id": f"c-{order_id}", "email_address": email, "opt_in_status": False},
        "campaign_id": campaign_id,
        "currency_code": "USD",
        "order_total": 25.0,
        "processed_at_foreign": "2026-01-02T10:00:00+00:00",
        "lines": [
            {
                "id": "l1",
                "product_id": "bench-product",
                "product_variant_id": "bench-variant",
                "quantity": 1,
                "price": 25.0,
            }
        ],
    }


MUTATION = b"updatePrivateMetadata("


class EngagementStack(BenchStack):
    def __init__(self, app: Any, stack: DevStack, latency: float, members: int, campaigns: int):
        super().__init__(app, stack, latency)
        self.members = members
        self.campaigns = campaigns
        self.saleor_mutations = 0
        self.metadata_webhooks = 0
        self.rng = random.Random(19)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/_bench/engagement/"):
            query = dict(
                part.split("=", 1) for part in scope["query_string"].decode().split("&") if part
            )
            started = time.perf_counter()
            if path.endswith("/seed"):
                await self.seed()
            else:
                self.increment(float(query.get("fraction", "0.01")))
            await send_json(send, {"seconds": time.perf_counter() - started})
            return
        if scope["type"] == "http" and path.startswith(SALEOR_PATH + "/graphql"):

            async def counting() -> Message:
                message = await receive()
                self.saleor_mutations += bytes(message.get("body", b"")).count(MUTATION)
                return message

            await super().__call__(scope, counting, send)
            return
        await super().__call__(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        return {
            **super().stats(),
            "saleor_mutations": self.saleor_mutations,
            "metadata_webhooks": self.metadata_webhooks,
        }

    def _audience(self) -> tuple[Any, str]:
        sandbox, account = self.stack.mailchimp, self.stack.demo_account
        [audience] = sandbox.lists(account)
        return account, audience.id

    async def seed(self) -> None:
        sandbox = self.stack.mailchimp
        account, list_id = self._audience()
        customers = [c.email for c in self.stack.saleor.store.customers.values()]
        emails = (customers + [f"guest{i}@bench.example" for i in range(self.members)])[
            : self.members
        ]
        for start in range(0, len(emails), 500):
            members = [
                {"email_address": e, "status": "subscribed"} for e in emails[start : start + 500]
            ]
            result = await sandbox.call(
                account, "POST", f"/lists/{list_id}", body={"members": members}
            )
            assert result.status == 200 and result.body and not result.body["errors"], result.body
        data = sandbox.state.accounts[account.id].lists[list_id]
        data.tag_ids["vip"] = 1
        now = time.time()
        # The audience was filled before its campaigns went out (a month ago), as a store's is:
        # stamped now, every member would be in the margin the app reads again before its last
        # read (15 minutes), and the increment, minutes after the first collection rather than
        # an hour, would read the whole audience again.
        joined = datetime.fromtimestamp(now - 30 * DAY, UTC).isoformat(timespec="seconds")
        for index, member in enumerate(data.members.values()):
            member.member_rating = 1 + index % 5
            member.last_changed = joined
            if index % 10 == 0:
                member.tags = [MemberTag(id=1, name="vip", date_added=joined)]
        sent = []
        for index in range(self.campaigns):
            at = now - 29 * DAY + index * (28 * DAY / max(self.campaigns, 1))
            campaign = send_campaign(sandbox, account, list_id, title=f"Campaign {index + 1}",
                                     sent_at=at)  # fmt: skip
            sent.append((campaign, at))
            events: list[tuple[str, Any, float | None]] = []
            for email in emails:
                roll = self.rng.random()
                if roll < 0.20:
                    opened = min(at + self.rng.uniform(60, DAY), now - 60)
                    events.append((email, "open", opened))
                    if roll < 0.05:
                        events.append((email, "click", opened + 30))
            record_activity(sandbox, account, campaign, events)
        await self._orders(emails[: len(customers)] or emails, sent)

    async def _orders(self, buyers: list[str], sent: list[tuple[str, float]]) -> None:
        sandbox, account = self.stack.mailchimp, self.stack.demo_account
        if not sent:
            return
        _, list_id = self._audience()
        store = "bench-store"
        created = await sandbox.call(account, "POST", "/ecommerce/stores", body={
            "id": store, "list_id": list_id, "name": "Bench store", "currency_code": "USD",
        })  # fmt: skip
        assert created.status == 200, created.body
        await sandbox.call(account, "POST", f"/ecommerce/stores/{store}/products", body=PRODUCT)
        for index in range(min(200, len(buyers))):
            campaign, _ = sent[index % len(sent)]
            body = _order(f"bench-{index}", buyers[index], campaign)
            await sandbox.call(account, "POST", f"/ecommerce/stores/{store}/orders", body=body)

    def increment(self, fraction: float) -> None:
        sandbox = self.stack.mailchimp
        account, _ = self._audience()
        campaigns = list(sandbox.state.accounts[account.id].sent_campaigns.values())
        now = time.time() - 1
        for campaign in campaigns:
            picked = [
                (who, "open", now)
                for who in campaign.recipients
                if self.rng.random() < fraction / max(len(campaigns), 1)
            ]
            picked += [(who, "click", now) for who, _, _ in picked[::5]]
            record_activity(sandbox, account, campaign.id, picked)


# What a customer's metadata write sends (the sandbox's `metadata_events`: CUSTOMER_UPDATED as
# well while Saleor's legacy update emission is on, its default). The benchmark's store has no
# other customer change.
METADATA_WRITE_EVENTS = ("CUSTOMER_METADATA_UPDATED", "CUSTOMER_UPDATED")


def _count_metadata_webhooks(stack: EngagementStack) -> None:
    """Saleor answers each metadata write with CUSTOMER_METADATA_UPDATED and CUSTOMER_UPDATED
    webhooks to the app, sent later from its own workers
    (saleor/webhook/transport/asynchronous/transport.py, `trigger_webhooks_async`); the
    sandbox renders and sends them inside the request, all in this one process. They are
    counted here, not sent: what the app's other capabilities do with them is theirs to
    measure (the figure is printed)."""
    saleor = stack.stack.saleor
    emit = saleor.emit

    async def counted(event_type: str, root_object: Any, **options: Any) -> list[Any]:
        if event_type not in METADATA_WRITE_EVENTS:
            return await emit(event_type, root_object, **options)
        stack.metadata_webhooks += 1
        return []

    saleor.emit = counted  # type: ignore[method-assign]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--campaigns", type=int, required=True)
    parser.add_argument("--customers", type=int, required=True)
    args = parser.parse_args()

    def bench(app: ASGIApp, stack: DevStack) -> EngagementStack:
        engagement = EngagementStack(app, stack, args.latency, args.members, args.campaigns)
        _count_metadata_webhooks(engagement)
        return engagement

    serve(
        bench,
        port=args.port,
        latency=args.latency,
        products=1,
        customers=args.customers,
        orders=0,
    )


if __name__ == "__main__":
    main()
