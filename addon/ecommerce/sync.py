"""Live e-commerce sync: Saleor webhooks → ledger records → Mailchimp pushes. This module owns
the `ecommerce.push` job (one ledger record brought up to date) and registers the kinds.

Every Saleor entity pushed to a channel's Mailchimp store has one ledger row (`SyncRecord`:
installation, channel, kind, Saleor id) holding the Mailchimp id, the fingerprint of what was
last pushed, status, attempts, next attempt time and the last error. The parts:

* `webhooks.py`: a webhook says *what* changed; its handler queues the entity's push.
* `push_queue.py`: one coalesced, laned job per record (a burst becomes one push).
* `context.py`: what a push needs to know about its installation, channel and store.
* `catalog.py` and `pusher.py`: the push itself (store, products; customers, orders, carts),
  reading the entity from Saleor and sending only what changed (`fingerprints.py`).
* `failures.py`: the worker retries transient errors and 429s with backoff, and after
  `ECOMMERCE_MAX_ATTEMPTS` quarantines the job and its record with Mailchimp's reason; other
  records have their own jobs, so they keep flowing.
* `store_state.py`: a store deleted in Mailchimp parks its pushes until the admin re-creates it.
* `channel_presence.py`: so does a channel Saleor no longer has (deleted, or a new slug), until
  it is listed again, or the admin switches it to its new slug (`channel_follow.py`) or stops
  tracking it.
* `cart_sweep.py`: once a day, the carts of checkouts Saleor deleted without a webhook go;
  `product_sweep.py`: so are hidden the products it deleted so (a product type's).
* `offer_dates.py`: a product not yet published or for sale is pushed again at its date.
* `reprice.py`: a catalogue promotion's change re-prices the tracked channels' products.
* `reconnected.py`: reconnecting the same Mailchimp account sends again what found it
  unreachable (revoked, reset) meanwhile.
* `burst.py`: while many pushes wait for one installation, products, customers and orders go
  out as Mailchimp batches (re-read from Saleor a page at a time; orders a batch can carry alone,
  `burst_orders.py`), each record's outcome in the ledger.
"""

from __future__ import annotations

from addon.connection.service import NotConnected, mailchimp_for
from addon.ecommerce import (
    burst,
    burst_poll,
    cart_sweep,
    catalog_names,
    offer_dates,
    price_recheck,
    product_sweep,
    promo_jobs,
    promo_sync,
    reconnected,
    reprice,
    resend,
    store_state,
)
from addon.ecommerce.burst_release import release_unsent
from addon.ecommerce.catalog import DependencyFailed
from addon.ecommerce.channel_presence import ChannelGone, gone_message, mark_gone
from addon.ecommerce.context import Context, load_context
from addon.ecommerce.failures import PUSH_RETRY, record_failure
from addon.ecommerce.models import PUSH_JOB, EntityKind
from addon.ecommerce.promo_sync import PromoPusher
from addon.ecommerce.push_queue import enqueue_push, ledger_key, request_key
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.pusher import Pusher
from addon.ecommerce.webhooks import on_names_written, register_webhooks
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import InvalidCredentials, NotFound
from addon.services import Services
from addon.subscriptions.profile_writeback import NAMES_WRITTEN_KIND, CustomerNamesWritten

# What other modules import from here (the pieces live in the modules named above).
__all__ = [
    "PUSH_JOB",
    "Context",
    "DependencyFailed",
    "Pusher",
    "enqueue_push",
    "ledger_key",
    "load_context",
    "push_job",
    "register",
]


async def push_job(job: ClaimedJob, request: PushRequest, services: Services) -> None:
    """Bring one ledger record up to date. Failures are the worker's to retry (PUSH_RETRY);
    `record_failure` shows them on the record."""
    context = await load_context(services, job.installation_id, request.channel)
    if context is None:
        return
    # Saleor has no channel of this slug: wait until it has one again, or the admin stops
    # tracking it (`channel_presence.py`). Each record says so in the same words (where the
    # channel went is the page's to say: it reads Saleor's channels on every load).
    why = gone_message(context.store_name or request.channel, request.channel)
    if context.channel_missing and request.kind is not EntityKind.CART:
        # A cart still goes when its checkout is gone (`channelDelete` deletes the channel's
        # checkouts, and the daily sweep finds them): no abandoned-cart e-mail for it. One whose
        # checkout Saleor still has waits too (the pusher finds its channel gone).
        await store_state.park(services, job.installation_id, *request_key(request), why)
        return
    if context.store_missing:
        # Deleted in Mailchimp: wait for the admin's re-create (which resends everything).
        await store_state.park(services, job.installation_id, *request_key(request))
        return
    try:
        async with mailchimp_for(services, job.installation_id) as client:
            try:
                if job.attempts > 1:
                    # A rerun: its first run may have led a burst and died (a crashed worker,
                    # a lost lease). What it took over goes back even if no burst applies now.
                    await release_unsent(services, job, keep=request)
                # Many pushes waiting: this one and a group of others go as one batch.
                absorbed = await burst.applies(services, job, request) and await burst.absorb(
                    services, job, request, context, client
                )
                if not absorbed and request.kind is EntityKind.PROMO_RULE:
                    await PromoPusher(services, context, client).push_rule(request.saleor_id)
                elif not absorbed:
                    await Pusher(services, context, client).push(request)
            except ChannelGone:
                await mark_gone(services, job.installation_id, request.channel)
                await store_state.park(services, job.installation_id, *request_key(request), why)
                return
            except (NotFound, DependencyFailed) as exc:
                if not store_state.is_store_404(
                    exc, context.store_id
                ) or not await store_state.confirm_missing(
                    services, client, job.installation_id, request.channel, context.store_id
                ):
                    raise
                await store_state.park(services, job.installation_id, *request_key(request))
                return
    except (NotConnected, InvalidCredentials):
        # Nothing can be sent until Mailchimp is connected again; the record stays pending.
        # Reconnecting the same account queues its push again (`reconnected.py`); connecting
        # another drops the ledger, and the admin runs the initial sync for that one.
        return


def register(registry: HandlerRegistry) -> None:
    register_webhooks(registry)
    registry.register(NAMES_WRITTEN_KIND, on_names_written, payload=CustomerNamesWritten)
    registry.register(
        PUSH_JOB, push_job, payload=PushRequest, retry=PUSH_RETRY, on_failure=record_failure
    )
    burst_poll.register(registry)
    resend.register(registry)
    promo_sync.register(registry)
    promo_jobs.register(registry)
    cart_sweep.register(registry)
    product_sweep.register(registry)
    offer_dates.register(registry)
    reprice.register(registry)
    price_recheck.register(registry)
    catalog_names.register(registry)
    reconnected.register(registry)
