"""Staff deleting a customer in Saleor (CUSTOMER_DELETED): on a Saleor that has the event's
subscription type (3.23.5 and later) the app registers the webhook itself and erases the
customer; on an older one (the oldest supported, 3.20) the manifest cannot carry it, nothing is
registered, and a deletion reaches the app only when the customer deletes their own account."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from addon.db.types import utcnow
from addon.installations.checks import CHECK_KIND
from addon.installations.models import Installation, LifecycleSignal
from addon.installations.service import InstallationService, queue_webhook_upkeep
from addon.jobs.models import Job
from addon.saleor.manifest import webhook_definitions
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests.conftest import SALEOR_API_URL
from tests.deliveries import post_signed
from tests.ecommerce.conftest import Shop
from tests.erasure.scan import rows_naming

BO = "bo@example.com"
SLUG = "erasure-customer-deleted"


@pytest.fixture
def saleor(request: pytest.FixtureRequest, network: Any, saleor_signing_key: Any) -> SaleorSandbox:
    version = getattr(request, "param", CURRENT_VERSION)
    sandbox = SaleorSandbox(
        SALEOR_API_URL, transport=network, signing_key=saleor_signing_key, version=version
    )
    network.add("saleor.test", sandbox.app)
    return sandbox


async def _installation_id(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        return int((await session.execute(select(Installation.id))).scalar_one())


def _registered(shop: Shop) -> list[Any]:
    return [h for h in shop.app.webhooks if h.target_url.endswith("/api/webhooks/" + SLUG)]


async def _subscribed_customer(shop: Shop) -> Any:
    response = await shop.api(
        "PUT",
        "/api/audiences/settings",
        {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id},
    )
    assert response.status_code == 200, response.text
    customer = await shop.saleor.create_customer(BO, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, BO).status == "subscribed"
    return customer


def test_the_manifest_never_carries_the_customer_deleted_subscription() -> None:
    """Saleor validates the manifest's subscriptions at installation: 3.20 would refuse it."""
    assert all("CUSTOMER_DELETED" not in d.events for d in webhook_definitions())


async def test_on_a_saleor_that_has_it_the_app_registers_it_and_erases(shop: Shop) -> None:
    await shop.drain()
    [hook] = _registered(shop)
    assert hook.async_events == ["CUSTOMER_DELETED"] and hook.is_active
    # Another upkeep (a later lifecycle check's) registers nothing more.
    async with shop.services.db.transaction() as session:
        await queue_webhook_upkeep(session, await _installation_id(shop))
    await shop.drain()
    assert len(_registered(shop)) == 1
    customer = await _subscribed_customer(shop)
    await shop.saleor.delete_customer(customer)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is None
    assert shop.mailchimp.customers(shop.account, shop.store_id) == []
    assert await rows_naming(shop.services, BO) == []


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_on_saleor_3_20_nothing_is_registered(shop: Shop) -> None:
    await shop.drain()
    assert _registered(shop) == []
    customer = await _subscribed_customer(shop)
    await shop.saleor.delete_customer(customer)
    await shop.drain()
    # No webhook tells the app: the member stays (docs: erase from the panel before deleting).
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is not None


async def _deactivated_while(shop: Shop, change: Any) -> None:
    """`change` made while the app is deactivated, then activated again (as the dashboard's
    view or a check would notice where no lifecycle webhook tells)."""
    await shop.saleor.set_app_active(shop.app, False)
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        service = InstallationService(session, shop.services.settings, shop.services.saleor)
        await service.set_active(installation, False, utcnow(), LifecycleSignal.DASHBOARD)
    await change()
    await shop.drain()
    await shop.saleor.set_app_active(shop.app, True)
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        service = InstallationService(session, shop.services.settings, shop.services.saleor)
        await service.set_active(installation, True, utcnow(), LifecycleSignal.DASHBOARD)
    await shop.drain()


async def test_a_customer_deleted_while_the_app_was_deactivated_is_erased_once_activated(
    shop: Shop,
) -> None:
    """Saleor sends nothing to an inactive app: once activated, the app looks for the customers
    it knows and erases those Saleor no longer lists; the others are left alone."""
    await shop.drain()
    customer = await _subscribed_customer(shop)
    await shop.saleor.create_customer("cy@example.com", "Cy")
    await shop.drain()
    mailchimp_customers = shop.mailchimp.customers(shop.account, shop.store_id)
    assert {c.email_address for c in mailchimp_customers} == {BO, "cy@example.com"}

    async def delete() -> None:
        await shop.saleor.delete_customer(customer)
        assert shop.mailchimp.member(shop.account, shop.list_id, BO) is not None  # paused

    await _deactivated_while(shop, delete)
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is None
    assert [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)] == [
        "cy@example.com"
    ]
    assert await rows_naming(shop.services, BO) == []


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_before_3_23_5_a_deletion_while_deactivated_is_not_replayed(shop: Shop) -> None:
    """Saleor 3.20 has no CUSTOMER_DELETED subscription: a deletion by staff is never erased on
    its own, and the app cannot tell one from the customer's own, so nothing is replayed."""
    await shop.drain()
    customer = await _subscribed_customer(shop)
    await _deactivated_while(shop, lambda: shop.saleor.delete_customer(customer))
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is not None


async def test_with_its_webhook_paused_in_saleor_no_deletion_is_replayed(shop: Shop) -> None:
    await shop.drain()
    customer = await _subscribed_customer(shop)
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        installation.webhooks_paused = [SLUG]
    await _deactivated_while(shop, lambda: shop.saleor.delete_customer(customer))
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is not None


async def test_an_address_registered_again_while_deactivated_is_not_erased(shop: Shop) -> None:
    """Deleted, and the address registered again before the app was back: erasing the old
    customer would erase the new one's subscription and data."""
    await shop.drain()
    customer = await _subscribed_customer(shop)

    async def register_again() -> None:
        await shop.saleor.delete_customer(customer)
        await shop.saleor.create_customer(BO, "Bo")

    await _deactivated_while(shop, register_again)
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is not None


async def _checks_after_a_refused_call(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        payloads = (await session.execute(select(Job.payload).where(Job.kind == CHECK_KIND))).all()
    return sum(1 for (p,) in payloads if p.get("signal") == LifecycleSignal.SALEOR_CALL.value)


async def test_a_customer_made_staff_while_deactivated_is_not_erased(shop: Shop) -> None:
    """`staffCreate` with a customer's address makes that customer staff; Saleor lists staff
    members without orders only to MANAGE_STAFF, which the app does not hold, so the customer
    is missing from the listing as a deleted one is. Asked about alone, Saleor answers that it
    has them (PermissionDenied, not NOT_FOUND): their subscription and records stay, and the
    expected refusal is not taken for the app's token being refused."""
    await shop.drain()
    customer = await _subscribed_customer(shop)
    gone = await shop.saleor.create_customer("cy@example.com", "Cy")
    await shop.drain()

    async def promote_one_delete_other() -> None:
        await shop.saleor.make_staff(customer)
        await shop.saleor.delete_customer(gone)

    await _deactivated_while(shop, promote_one_delete_other)
    assert shop.mailchimp.member(shop.account, shop.list_id, BO).status == "subscribed"
    assert [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)] == [BO]
    assert await rows_naming(shop.services, "cy@example.com") == []
    assert await _checks_after_a_refused_call(shop) == 0


async def test_a_deletion_of_a_customer_saleor_still_has_erases_nothing(shop: Shop) -> None:
    """The signature covers the body alone: a body about the customer (a CUSTOMER_UPDATED's, as
    any app subscribed to it receives one) verifies when posted as CUSTOMER_DELETED. Saleor sends
    the deletion once the customer is gone, so one it still has is not erased."""
    customer = await _subscribed_customer(shop)
    body = json.dumps({"user": {"id": customer.global_id, "email": BO}}).encode()
    response = await post_signed(shop.client, shop.saleor, SLUG, "CUSTOMER_DELETED", body)
    assert response.status_code == 200, response.text
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, BO).status == "subscribed"


async def test_an_old_deletion_body_never_erases_the_address_another_customer_holds_now(
    shop: Shop,
) -> None:
    """Bo changed address and deleted their account; Vera registered with Bo's old address
    since. A body about Bo from before (their registration's, as any app subscribed to it
    receives one), posted as ACCOUNT_DELETED, names Bo, who is gone, and an address Vera holds."""
    bo = await _subscribed_customer(shop)
    [then] = [
        d.body
        for d in shop.saleor.deliveries
        if d.target_url.endswith("/api/webhooks/subscriptions-customer-created")
    ]
    await shop.saleor.confirm_email_change(bo, "bo.new@example.com")
    await shop.drain()
    await shop.saleor.create_customer(BO, "Vera", metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.saleor.delete_account(bo)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, "bo.new@example.com") is None
    assert shop.mailchimp.member(shop.account, shop.list_id, BO).status == "subscribed"
    response = await post_signed(
        shop.client, shop.saleor, "erasure-account-deleted", "ACCOUNT_DELETED", then
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, BO).status == "subscribed"
