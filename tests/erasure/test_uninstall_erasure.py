"""A customer's erasure still waiting when the store uninstalls the app is carried out by the
uninstall's last job, before its farewell: the shopper asked to be deleted (or staff were told
"will be erased in a moment"), and nothing could do it once the installation is erased."""

from __future__ import annotations

from sqlalchemy import select, update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.db.types import utcnow
from addon.erasure.deletions import WEBHOOK_SLUGS
from addon.erasure.jobs import ERASE_JOB
from addon.installations.models import Installation, InstallationErasure, MailchimpCleanup
from addon.installations.service import ERASURE_KINDS
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job, JobStatus
from tests.conftest import APP_URL, dashboard_headers
from tests.ecommerce.conftest import Shop
from tests.erasure.test_erasure import ANN, _customer_with_history
from tests.erasure.test_reinstall_erased import _set_up_again


def test_the_uninstall_keeps_every_kind_of_the_erasure_capability() -> None:
    assert set(ERASURE_KINDS) == {ERASE_JOB, *(webhook_job_kind(s) for s in WEBHOOK_SLUGS)}


async def _pending_kinds(shop: Shop) -> list[str]:
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.status == JobStatus.PENDING))
        return sorted(job.kind for job in jobs)


async def _uninstall_and_drain(shop: Shop) -> InstallationErasure:
    [delivery] = await shop.saleor.uninstall_app(shop.app)  # APP_DELETED
    assert delivery.status_code == 200, delivery.response_body
    await shop.drain()
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Installation)) is None  # erased
        [erasure] = await session.scalars(select(InstallationErasure))
    return erasure


async def test_an_account_deleted_just_before_the_uninstall_is_erased(shop: Shop) -> None:
    """ACCOUNT_DELETED received, its job not yet run: Saleor refuses the uninstalled app's
    token, so the deletion is erased on what the verified delivery says."""
    customer, order, checkout = await _customer_with_history(shop)
    await shop.saleor.delete_account(customer)
    assert "webhook.erasure-account-deleted" in await _pending_kinds(shop)
    erasure = await _uninstall_and_drain(shop)
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert str(checkout.token) not in shop.carts()
    assert str(order.id) in shop.orders()  # kept by default, as in any erasure
    assert erasure.mailchimp_cleanup is MailchimpCleanup.DONE


async def test_an_erasure_staff_asked_for_just_before_the_uninstall_is_done(shop: Shop) -> None:
    customer, _, _ = await _customer_with_history(shop)
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    erased = await shop.client.post(f"/api/erasure/customers/{customer.global_id}", headers=headers)
    assert erased.status_code == 202, erased.text
    assert ERASE_JOB in await _pending_kinds(shop)
    await _uninstall_and_drain(shop)
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []


async def test_a_disconnected_account_does_not_hold_up_the_uninstall(shop: Shop) -> None:
    """An erasure waits up to 30 days for Mailchimp to be connected again; nobody can connect
    an uninstalled app's, so its erasure ends at once and the installation is erased."""
    customer, _, _ = await _customer_with_history(shop)
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=ConnectionStatus.REVOKED))
    await shop.saleor.delete_account(customer)
    erasure = await _uninstall_and_drain(shop)
    assert erasure.mailchimp_cleanup is MailchimpCleanup.NOT_CONNECTED
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is not None


async def test_an_erasure_waiting_when_the_app_is_installed_again_goes_to_the_new_one(
    shop: Shop,
) -> None:
    """Mailchimp down: the uninstall's last job waits to carry out a deleted account's erasure,
    and the admin installs the app again meanwhile. The old installation is erased at once; its
    erasure goes to the new one, where it waits for the account to be connected and its
    audiences read (before, the erasure was dropped with the old installation), then deletes
    the contact."""
    customer, _, _ = await _customer_with_history(shop)
    shop.mailchimp.faults.outage(account=shop.account)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    await shop.saleor.uninstall_app(shop.app)
    await shop.drain()  # the last job waits for Mailchimp
    async with shop.services.db.session() as session:
        old = await session.scalar(select(Installation))
    assert old is not None and old.uninstalled_at is not None
    assert ERASE_JOB in await _pending_kinds(shop)
    shop.mailchimp.faults.reset()

    shop.app = await shop.saleor.install_app(f"{APP_URL}/api/manifest")
    await shop.drain()  # not connected yet: the erasure waits, it does not end
    assert ERASE_JOB in await _pending_kinds(shop)
    await _set_up_again(shop, install=False)  # connected, the audiences read
    # An hour later (`RECONNECT_RETRY_SECONDS`; the job moved, not the clock: Mailchimp's
    # client waits on the clock between its own retries).
    async with shop.services.db.transaction() as session:
        await session.execute(update(Job).where(Job.kind == ERASE_JOB).values(run_after=utcnow()))
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, ANN) is None
    async with shop.services.db.session() as session:
        new = await session.scalar(select(Installation))
    assert new is not None and new.uninstalled_at is None
