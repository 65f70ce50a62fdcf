"""An uninstall deletes the store's carts in Mailchimp (their abandoned-cart e-mails would carry
restore links that died with the installation), keeps its products and orders, then erases
the installation; Mailchimp failing delays the erasure by at most `FAREWELL_HOURS`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from addon.capabilities import start_up
from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.farewell import _delete_carts
from addon.installations.models import (
    Installation,
    InstallationErasure,
    LifecycleSignal,
    MailchimpCleanup,
)
from addon.installations.schemas import Farewell
from addon.installations.service import UNINSTALL_JOB, InstallationService
from addon.installations.uninstall import FAREWELL_HOURS, MAILCHIMP_FAREWELL
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.mailchimp.ecommerce_models import CartRef, CartRefPage
from addon.services import Services
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import APP_URL
from tests.ecommerce.conftest import Shop


async def _with_carts(shop: Shop) -> None:
    """Two carts the app pushed, one it never knew, and an order."""
    product = await shop.product("Tea", "4.00")
    for email in ("a@example.com", "b@example.com"):
        await shop.saleor.create_checkout(lines=[LineSpec(product.variants[0].id, 1)], email=email)
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email="c@example.com"
    )
    await shop.drain()
    pushed = next(iter(shop.carts().values()))
    unknown = pushed.model_dump(mode="json", exclude_none=True) | {"id": "made-elsewhere"}
    answer = await shop.mailchimp.call(
        shop.account, "POST", f"/ecommerce/stores/{shop.store_id}/carts", body=unknown
    )
    assert answer.status == 200, answer.body
    assert len(shop.carts()) == 3 and len(shop.orders()) == 1


async def _installation(shop: Shop) -> Installation | None:
    async with shop.services.db.session() as session:
        return await session.scalar(select(Installation))


async def _erasures(shop: Shop) -> list[InstallationErasure]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(InstallationErasure)))


async def _jobs(shop: Shop) -> list[tuple[str, JobStatus]]:
    async with shop.services.db.session() as session:
        return [(j.kind, j.status) for j in await session.scalars(select(Job).order_by(Job.id))]


async def test_an_uninstall_deletes_the_carts_keeps_the_history_then_erases(shop: Shop) -> None:
    await _with_carts(shop)
    product = await shop.product("Rice", "1.00")  # its push waits in the queue

    [delivery] = await shop.saleor.uninstall_app(shop.app)

    assert delivery.status_code == 200, delivery.response_body
    uninstalled = await _installation(shop)
    assert uninstalled is not None and uninstalled.uninstalled_at is not None
    assert not uninstalled.is_active
    # Unknown to every request at once, its waiting work dropped.
    answer = await shop.api("GET", "/api/installation")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "UNKNOWN_INSTALLATION"
    assert [kind for kind, status in await _jobs(shop) if status is JobStatus.PENDING] == [
        UNINSTALL_JOB
    ]

    await Worker(shop.services).run_until_idle()

    assert shop.carts() == {}
    assert len(shop.orders()) == 1 and str(product.id) not in shop.products()
    assert await _installation(shop) is None and await _jobs(shop) == []
    [erasure] = await _erasures(shop)
    assert (erasure.mailchimp_cleanup, erasure.carts_deleted) == (MailchimpCleanup.DONE, 3)
    assert erasure.webhooks_deleted == 0  # none: two-way sync was never on


async def test_mailchimp_down_is_retried_then_the_erasure_goes_on_without_it(
    shop: Shop, clock: ManualClock
) -> None:
    await _with_carts(shop)
    shop.services.mailchimp.max_attempts = 1  # each request fails once: no clock to move
    shop.mailchimp.faults.set(shop.account, error_rate=1.0)
    await shop.saleor.uninstall_app(shop.app)

    await Worker(shop.services).run_until_idle()
    assert await _installation(shop) is not None  # waits, with the worker's backoff
    assert len(shop.carts()) == 3

    clock.advance(timedelta(hours=FAREWELL_HOURS, minutes=1).total_seconds())
    await Worker(shop.services).run_until_idle()

    assert await _installation(shop) is None
    [erasure] = await _erasures(shop)
    assert (erasure.mailchimp_cleanup, erasure.carts_deleted) == (MailchimpCleanup.GAVE_UP, None)


async def test_a_short_outage_only_delays_the_cleanup(shop: Shop, clock: ManualClock) -> None:
    await _with_carts(shop)
    shop.services.mailchimp.max_attempts = 1  # each request fails once: no clock to move
    shop.mailchimp.faults.set(shop.account, error_rate=1.0)
    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()
    assert await _installation(shop) is not None

    shop.mailchimp.faults.set(shop.account, error_rate=0.0)
    clock.advance(timedelta(hours=1).total_seconds())
    await Worker(shop.services).run_until_idle()

    assert shop.carts() == {} and await _installation(shop) is None
    [erasure] = await _erasures(shop)
    assert erasure.mailchimp_cleanup is MailchimpCleanup.DONE


async def test_without_mailchimp_credentials_the_erasure_is_at_once(shop: Shop) -> None:
    await _with_carts(shop)
    answer = await shop.api("POST", "/api/connection/reset", {"forget_account_data": False})
    assert answer.status_code == 200, answer.text

    await shop.saleor.uninstall_app(shop.app)
    await Worker(shop.services).run_until_idle()

    assert await _installation(shop) is None and len(shop.carts()) == 3
    [erasure] = await _erasures(shop)
    assert erasure.mailchimp_cleanup is MailchimpCleanup.NOT_CONNECTED


async def test_a_job_still_running_is_waited_for(shop: Shop, clock: ManualClock) -> None:
    await _with_carts(shop)
    async with shop.services.db.transaction() as session:
        installation = await session.scalar(select(Installation))
        assert installation is not None
        running = Job(
            installation_id=installation.id,
            kind="ecommerce.push",
            payload={},
            status=JobStatus.RUNNING,
            locked_by="another-worker",
            locked_until=utcnow() + timedelta(hours=1),  # its worker's heartbeat renews it
        )
        session.add(running)
    await shop.saleor.uninstall_app(shop.app)
    worker = Worker(shop.services)
    lease = shop.services.settings.worker_lease_seconds

    await worker.run_until_idle()
    assert await _installation(shop) is not None and len(shop.carts()) == 3
    clock.advance(lease + 1)
    await worker.run_until_idle()
    assert await _installation(shop) is not None and len(shop.carts()) == 3  # still running

    async with shop.services.db.transaction() as session:
        await session.execute(update(Job).where(Job.id == running.id).values(status=JobStatus.DONE))
    clock.advance(lease + 1)
    await worker.run_until_idle()
    assert await _installation(shop) is None and shop.carts() == {}


async def test_installed_again_before_the_erasure_starts_clean(shop: Shop) -> None:
    await _with_carts(shop)
    await shop.saleor.uninstall_app(shop.app)

    again = await shop.saleor.install_app(f"{APP_URL}/api/manifest")

    installation = await _installation(shop)
    assert installation is not None and installation.app_id == again.global_id
    assert installation.uninstalled_at is None and installation.is_active
    [erasure] = await _erasures(shop)
    assert erasure.mailchimp_cleanup is MailchimpCleanup.REINSTALLED
    assert UNINSTALL_JOB not in [kind for kind, _ in await _jobs(shop)]
    await Worker(shop.services).run_until_idle()
    assert await _installation(shop) is not None
    assert len(shop.carts()) == 3  # the new installation's to keep or replace


async def test_the_last_job_is_never_given_up_before_its_deadline(
    shop: Shop, clock: ManualClock
) -> None:
    """Failures past the kind's usual attempts (a database error, say) keep it waiting: an
    uninstalled installation is always erased in the end."""
    await _with_carts(shop)
    failures = 0

    async def failing(services: Services, installation_id: int) -> Farewell:
        nonlocal failures
        failures += 1
        raise RuntimeError("database is locked")

    ports = shop.services.ports
    working = ports[MAILCHIMP_FAREWELL]
    ports._answers[MAILCHIMP_FAREWELL] = failing
    await shop.saleor.uninstall_app(shop.app)
    worker = Worker(shop.services)
    for _ in range(12):
        await worker.run_until_idle()
        clock.advance(shop.services.settings.worker_backoff_max_seconds)
    assert failures == 12
    assert [status for kind, status in await _jobs(shop) if kind == UNINSTALL_JOB] == [
        JobStatus.PENDING
    ]

    ports._answers[MAILCHIMP_FAREWELL] = working
    clock.advance(shop.services.settings.worker_backoff_max_seconds)
    await worker.run_until_idle()
    assert await _installation(shop) is None and shop.carts() == {}


async def test_a_process_start_queues_a_lost_last_job_again(shop: Shop) -> None:
    await _with_carts(shop)
    await shop.saleor.uninstall_app(shop.app)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == UNINSTALL_JOB).values(status=JobStatus.QUARANTINED)
        )
    await Worker(shop.services).run_until_idle()
    assert await _installation(shop) is not None

    await start_up(shop.services)
    await Worker(shop.services).run_until_idle()
    assert await _installation(shop) is None and shop.carts() == {}


async def test_a_late_status_change_does_not_bring_an_uninstalled_app_back(shop: Shop) -> None:
    await shop.saleor.uninstall_app(shop.app)
    async with shop.services.db.transaction() as session:
        installation = await session.scalar(select(Installation))
        assert installation is not None
        service = InstallationService(session, shop.services.settings, shop.services.saleor)
        changed = await service.set_active(
            installation, True, utcnow() + timedelta(seconds=1), LifecycleSignal.WEBHOOK
        )
        assert not changed and not installation.is_active


class _LaggingList:
    """A Mailchimp whose cart list still shows a cart its DELETE finds gone."""

    def __init__(self) -> None:
        self.lists = 0

    async def cart_refs(self, store_id: str, count: int, offset: int = 0) -> CartRefPage:
        self.lists += 1
        return CartRefPage(carts=[CartRef(id="ghost")], total_items=1)

    async def delete_cart(self, store_id: str, cart_id: str) -> None:
        raise MailchimpNotFound("Resource Not Found", status=404)


async def test_a_cart_listed_but_gone_ends_the_round() -> None:
    lagging = _LaggingList()

    async def go_on() -> bool:
        return True

    deleted = await _delete_carts(lagging, "store", go_on)  # type: ignore[arg-type]
    assert (deleted, lagging.lists) == (0, 1)


async def test_a_disabled_account_is_not_waited_for(shop: Shop) -> None:
    """Mailchimp refuses a disabled account's credentials (403) as it does revoked ones: the
    erasure goes on at once. Before, the uninstall tried again for `FAREWELL_HOURS`."""
    await _with_carts(shop)
    shop.mailchimp.disable(shop.account)
    await shop.saleor.uninstall_app(shop.app)

    await Worker(shop.services).run_until_idle()

    assert await _installation(shop) is None
    [erasure] = await _erasures(shop)
    assert erasure.mailchimp_cleanup is MailchimpCleanup.REVOKED
