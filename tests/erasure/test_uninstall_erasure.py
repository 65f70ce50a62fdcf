"""A customer's erasure still waiting when the store uninstalls the app is carried out by the
uninstall's last job, before its farewell: the shopper asked to be deleted (or staff were told
"will be erased in a moment"), and nothing could do it once the installation is erased."""

from __future__ import annotations

from sqlalchemy import select, update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.erasure.deletions import WEBHOOK_SLUGS
from addon.erasure.jobs import ERASE_JOB
from addon.installations.models import Installation, InstallationErasure, MailchimpCleanup
from addon.installations.service import ERASURE_KINDS
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job, JobStatus
from tests.conftest import dashboard_headers
from tests.ecommerce.conftest import Shop
from tests.erasure.test_erasure import ANN, _customer_with_history


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
