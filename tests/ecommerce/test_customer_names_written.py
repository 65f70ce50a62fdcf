"""A customer's names written from Mailchimp reach its e-commerce record.

The app's one write on a customer besides metadata is its names, from a Mailchimp profile
(subscriptions.profile_writeback). Saleor's echo of it, CUSTOMER_UPDATED naming the app as
`issuingPrincipal`, is the app's own and recorded, not handled (`OWN_ECHO_EVENTS`), like every
echo of its metadata writes while the store keeps Saleor's legacy update emission. So the write
queues `subscriptions.customer_names_written`, on which the customer's record is pushed.
"""

from __future__ import annotations

import json

from addon.installations.repository import InstallationRepository
from addon.jobs.repository import JobRepository
from addon.saleor.documents import printed_document
from addon.subscriptions.profile_writeback import NAMES_WRITTEN_KIND, CustomerNamesWritten
from tests.conftest import APP_URL
from tests.ecommerce.conftest import Shop


async def test_names_written_by_the_app_are_pushed_without_handling_the_echo(shop: Shop) -> None:
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    [record] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert record.first_name == "Ann"
    before = len(shop.saleor.deliveries)

    # The write-back's mutation, as the app makes it.
    answer = await shop.saleor.execute(
        printed_document("subscriptions_update_customer_names"),
        {"id": customer.global_id, "input": {"firstName": "Annie"}},
        app=shop.app,
    )
    assert answer["data"]["customerUpdate"]["errors"] == []
    await shop.drain()
    echoes = [
        json.loads(d.response_body)["outcome"]
        for d in shop.saleor.deliveries[before:]
        if d.target_url.endswith("/ecommerce-customers")
    ]
    assert echoes == ["own_echo"]
    [record] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert record.first_name == "Ann"  # the echo started nothing

    async with shop.services.db.transaction() as session:
        [installation] = await InstallationRepository(session).list_all()
        await JobRepository(session).enqueue(
            installation.id,
            NAMES_WRITTEN_KIND,
            CustomerNamesWritten(user_id=customer.global_id).model_dump(),
        )
    await shop.drain()
    [record] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert record.first_name == "Annie" and record.last_name == "Lee"


async def test_a_staff_members_change_of_names_is_handled(shop: Shop) -> None:
    customer = await shop.saleor.create_customer("bo@example.com", "Bo", "Lee")
    await shop.drain()
    await shop.saleor.update_customer(customer, first_name="Bob")
    await shop.drain()
    [record] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert record.first_name == "Bob"


async def test_a_reinstalled_app_knows_its_own_echoes_at_once(shop: Shop) -> None:
    """The new app has a new id: the keys cached with the old one are read afresh."""
    customer = await shop.saleor.create_customer("cy@example.com", "Cy", "Lee")
    await shop.drain()  # this process has cached the installation's keys and app id
    shop.saleor.store.apps.pop(shop.app.id)  # gone from Saleor (its APP_DELETED lost)
    app = await shop.saleor.install_app(f"{APP_URL}/api/manifest")
    before = len(shop.saleor.deliveries)
    answer = await shop.saleor.execute(
        printed_document("subscriptions_update_customer_names"),
        {"id": customer.global_id, "input": {"firstName": "Cyril"}},
        app=app,
    )
    assert answer["data"]["customerUpdate"]["errors"] == []
    echoes = [
        json.loads(d.response_body)["outcome"]
        for d in shop.saleor.deliveries[before:]
        if d.target_url.endswith("/ecommerce-customers")
    ]
    assert echoes == ["own_echo"]
