"""A service's outage is retried for hours, not minutes: a push gave up after
`ECOMMERCE_MAX_ATTEMPTS` runs (about half a minute of backoff) whatever failed, so a Mailchimp
outage of a few minutes quarantined every record changed meanwhile, each then waiting for an
admin's Retry. Errors of the work itself (a refused payload) still give up as before
(`jobs.retry.in_outage`, `WORKER_OUTAGE_MAX_ATTEMPTS`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.failures import PUSH_RETRY
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.push_ledger import DependencyFailed
from addon.jobs.retry import DEFAULT_POLICY, in_outage
from addon.mailchimp import RateLimited, TransientError, ValidationFailed
from addon.saleor.client import SaleorQueryError, SaleorUnavailable
from tests.ecommerce.conftest import CHANNEL, Shop, choose, run_all

OUTAGE_ATTEMPTS = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The production default of the outage limit (the suite's default turns it off)."""
    default = Settings.model_fields["worker_outage_max_attempts"].default
    assert default == OUTAGE_ATTEMPTS
    return settings.model_copy(update={"worker_outage_max_attempts": default})


def _dependency(cause: Exception) -> DependencyFailed:
    try:
        raise DependencyFailed("The Mailchimp store could not be updated") from cause
    except DependencyFailed as failed:
        return failed


def test_outages_are_told_from_refusals() -> None:
    assert in_outage(TransientError("bad gateway", status=502))
    assert in_outage(RateLimited("slow down", status=429))
    assert in_outage(SaleorUnavailable("Saleor is unavailable"))
    assert in_outage(_dependency(TransientError("bad gateway", status=502)))
    assert not in_outage(ValidationFailed("Invalid Resource", status=400))
    assert not in_outage(SaleorQueryError("no such field", [], None))
    assert not in_outage(_dependency(ValidationFailed("Invalid Resource", status=400)))
    assert not in_outage(RuntimeError("a bug"))


def test_an_outage_is_retried_up_to_the_outage_limit(settings: Settings) -> None:
    now = utcnow()
    limit = settings.ecommerce_max_attempts
    outage = TransientError("Service Unavailable", status=503)
    assert not PUSH_RETRY.decide(limit, outage, settings, now).gave_up
    assert not PUSH_RETRY.decide(OUTAGE_ATTEMPTS - 1, outage, settings, now).gave_up
    assert PUSH_RETRY.decide(OUTAGE_ATTEMPTS, outage, settings, now).gave_up
    # A refusal of the payload repeats whatever the wait: given up as before.
    refused = ValidationFailed("Invalid Resource", status=400)
    assert PUSH_RETRY.decide(limit, refused, settings, now).gave_up
    # Every kind alike (the worker's default policy: `WORKER_MAX_ATTEMPTS`), Saleor's too.
    saleor_down = SaleorUnavailable("Saleor is unavailable")
    decided = DEFAULT_POLICY.decide(settings.worker_max_attempts, saleor_down, settings, now)
    assert not decided.gave_up
    # Within the backoff's cap: the retries of an outage of hours are an hour apart at most.
    late = PUSH_RETRY.decide(OUTAGE_ATTEMPTS - 1, outage, settings, now)
    assert late.retry_at is not None
    assert late.retry_at <= now + timedelta(seconds=settings.worker_backoff_max_seconds)


def test_no_outage_limit_keeps_the_kinds_own(settings: Settings) -> None:
    off = settings.model_copy(update={"worker_outage_max_attempts": 0})
    outage = TransientError("Service Unavailable", status=503)
    assert PUSH_RETRY.decide(off.ecommerce_max_attempts, outage, off, utcnow()).gave_up


async def test_a_push_through_a_mailchimp_outage_is_sent_once_it_ends(shop: Shop) -> None:
    """Before: quarantined after its fifth run, the outage not over yet."""
    product = await shop.product("Bean", "1.00")
    tries = shop.services.settings.mailchimp_max_attempts  # each run retries a call this often
    runs = shop.services.settings.ecommerce_max_attempts + 3
    shop.mailchimp.faults.fail_next(tries * runs, 503, account=shop.account)
    await shop.drain()
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None
    assert record.status is SyncStatus.SYNCED, record.last_error
    assert str(product.id) in shop.products()


async def test_promo_codes_refused_by_an_outage_inside_their_batch_are_sent_again(
    shop: Shop,
) -> None:
    """Mailchimp's 503s inside a code batch (the batch itself ran): before, the voucher was
    quarantined after `ECOMMERCE_MAX_ATTEMPTS` rounds, the outage limit never applied there
    (found by a review of the outage retries)."""
    await choose(shop, "all")
    settings = shop.services.settings
    rounds = settings.ecommerce_max_attempts + 1
    assert rounds < settings.worker_outage_max_attempts
    names = [f"OUT{i:03}" for i in range(60)]  # a batch (as test_promos does)
    voucher = await shop.saleor.vouchers.create("Outage", names, channels={CHANNEL: 3})
    ops = [f"code:{mailchimp_id(c.global_id)}" for c in voucher.codes]
    shop.mailchimp.faults.fail_batch_operations(ops, times=rounds, status=503)
    for _ in range(4):
        await run_all(shop)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None
    assert record.status is SyncStatus.SYNCED, record.last_error
    assert len(record.children) == len(names)
