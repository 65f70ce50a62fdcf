"""A re-created store's re-send holds its `is_syncing` (`ecommerce/resend.py`); letting go of
the account mid-re-send clears it when the account's data goes (the re-send goes with it), and
keeps it for the reconnection, named, when the data is kept (the re-send's records would
otherwise land with the store's automations on)."""

from __future__ import annotations

from typing import Any

from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_store_state import recreate_deleted_store

LEFT_NOTE = "initial_sync.store_left_syncing"


async def _resending(shop: Shop) -> None:
    """A store re-created with a recorded order: its re-send under way, the store held."""
    product = await shop.product("Leek", "1.50")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)], user=customer, paid=True
    )
    await shop.drain()
    assert "automations are paused" in await recreate_deleted_store(shop)
    worker = Worker(shop.services)
    for _ in range(20):
        if shop.mailchimp.stores(shop.account):
            break
        await worker.run_once()
    [store] = shop.mailchimp.stores(shop.account)
    assert store.is_syncing


async def _notes(shop: Shop) -> list[str]:
    response = await shop.api("GET", "/api/activity")
    assert response.status_code == 200, response.text
    return [i["last_error"] for i in response.json()["items"] if i["kind"] == LEFT_NOTE]


async def test_another_account_connected_mid_resend_releases_the_first_accounts_store(
    shop: Shop,
) -> None:
    await _resending(shop)
    other = shop.mailchimp.create_account("Other shop", "other@example.com")
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert response.status_code == 200, response.text
    assert "no longer marked as syncing" in response.json()["message"]
    await shop.drain()
    [store] = shop.mailchimp.stores(shop.account)
    assert store.is_syncing is False


async def test_a_reset_keeping_the_data_mid_resend_keeps_the_store_held_and_says_so(
    shop: Shop,
) -> None:
    await _resending(shop)
    response = await shop.api("POST", "/api/connection/reset", {"forget_account_data": False})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    [store] = shop.mailchimp.stores(shop.account)
    assert store.is_syncing  # the re-send's records still to go, with the automations held
    assert store.id in answer["message"] and "sent to it again" in answer["message"]
    [note] = await _notes(shop)
    assert store.id in note
