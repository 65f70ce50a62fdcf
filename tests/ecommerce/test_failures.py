"""Transient failures retry, poison records are quarantined while others flow; Retry, Resync."""

from __future__ import annotations

from datetime import timedelta

from addon.config import Settings
from addon.db.types import utcnow
from addon.ecommerce.failures import PUSH_RETRY
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.push_ledger import DependencyFailed
from addon.mailchimp import RateLimited
from tests.ecommerce.conftest import Shop


async def test_transient_errors_and_throttling_back_off_and_retry(shop: Shop) -> None:
    product = await shop.product("Bean", "1.00")
    shop.mailchimp.faults.fail_next(1, 503, account=shop.account)
    shop.mailchimp.faults.fail_next(1, 429, account=shop.account)
    await shop.drain()
    assert str(product.id) in shop.products()
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED and record.attempts == 0


def test_a_throttled_dependency_carries_the_wait_mailchimp_asked_for(settings: Settings) -> None:
    """A record whose store Mailchimp throttled retries after the 429's Retry-After, as after
    its own request's (before, after the worker's backoff whatever Mailchimp asked)."""
    try:
        try:
            raise RateLimited("slow down", status=429, retry_after=45.0)
        except RateLimited as exc:
            raise DependencyFailed("The Mailchimp store could not be updated") from exc
    except DependencyFailed as failed:
        now = utcnow()
        decided = PUSH_RETRY.decide(1, failed, settings, now)
        assert failed.retry_after == 45.0 and decided.retry_at == now + timedelta(seconds=45)
    assert DependencyFailed("The channel no longer exists").retry_after is None


async def test_a_poison_record_is_quarantined_while_others_flow(shop: Shop) -> None:
    poison = await shop.saleor.create_customer("not-an-address", "Bad", "Data")
    good = await shop.saleor.create_customer("good@example.com", "Good", "Data")
    product = await shop.product("Corn", "2.00")
    await shop.drain()
    record = await shop.record(EntityKind.CUSTOMER, poison.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.attempts == shop.services.settings.ecommerce_max_attempts
    assert record.last_error and "valid email" in record.last_error
    customers = {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers == {str(good.id)}
    assert str(product.id) in shop.products()

    page = (await shop.api("GET", "/api/ecommerce")).json()
    counts = page["channels"][0]["counts"]["customer"]
    assert (counts["synced"], counts["quarantined"]) == (1, 1)
    assert page["channels"][0]["last_push_at"] is not None
    listed = (await shop.api("GET", "/api/ecommerce/records?status=quarantined")).json()
    assert [r["id"] for r in listed] == [record.id]

    # The admin fixes the address in Saleor; Retry sends it again.
    shop.saleor.store.update_customer(poison, email="fixed@example.com")
    response = await shop.api("POST", f"/api/ecommerce/records/{record.id}/retry")
    assert response.status_code == 200, response.text
    await shop.drain()
    customers = {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert customers == {str(good.id), str(poison.id)}
    fixed = await shop.record(EntityKind.CUSTOMER, poison.global_id)
    assert fixed is not None and fixed.status is SyncStatus.SYNCED


async def test_resync_sends_a_channels_records_again(shop: Shop) -> None:
    product = await shop.product("Oat", "2.00")
    await shop.drain()
    await shop.mailchimp.call(
        shop.account, "DELETE", f"/ecommerce/stores/{shop.store_id}/products/{product.id}"
    )
    response = await shop.api(
        "POST", "/api/ecommerce/channels/default-channel/resync", {"kind": "product"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "queued": 1,
        "message": "1 product record of channel 'default-channel' will be sent to Mailchimp again.",
    }
    await shop.drain()
    assert str(product.id) in shop.products()  # 404 on update → created again

    for name in ("Rye", "Spelt"):
        await shop.product(name, "3.00")
    await shop.drain()
    response = await shop.api(
        "POST", "/api/ecommerce/channels/default-channel/resync", {"kind": "product"}
    )
    assert response.json()["message"] == (
        "3 product records of channel 'default-channel' will be sent to Mailchimp again."
    )


async def test_retry_of_an_unknown_record_is_a_readable_404(shop: Shop) -> None:
    response = await shop.api("POST", "/api/ecommerce/records/999999/retry")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "There is no such e-commerce record."


async def test_an_order_whose_address_mailchimp_finds_fake_is_quarantined_with_why(
    shop: Shop,
) -> None:
    """Mailchimp refuses a new customer at an address it finds fake (mailchimp/mc-magento2#578):
    the order is quarantined with Mailchimp's reason, the others flow."""
    product = await shop.product("Rye", "2.00")
    await shop.drain()
    shop.mailchimp.refuse_address(shop.account, "bot@example.com")
    line = shop.saleor.order_line(product.variants[0], 1)
    bad = await shop.saleor.create_order(lines=[line], email="bot@example.com")
    good = await shop.saleor.create_order(lines=[line], email="ann@example.com")
    await shop.drain()
    held = shop.orders()
    assert str(good.id) in held and str(bad.id) not in held
    record = await shop.record(EntityKind.ORDER, bad.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.last_error and "looks fake or invalid" in record.last_error
    emails = {c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert emails == {"ann@example.com"}


async def test_a_product_deleted_in_mailchimp_is_created_again_when_a_variant_changes(
    shop: Shop,
) -> None:
    """Only a variant changed, so only the variant is sent (a PUT): Mailchimp refuses it for
    want of its product ("The parent product must already exists in order to use PUT on the
    variants endpoint", mailchimp/mc-magento#254), and the product is created again, variants
    and all, rather than the record failing for good."""
    product = await shop.product("Oat", "2.00", "3.00")
    await shop.drain()
    await shop.mailchimp.call(
        shop.account, "DELETE", f"/ecommerce/stores/{shop.store_id}/products/{product.id}"
    )
    await shop.saleor.update_variant(product.variants[1], quantity=7)
    await shop.drain()
    held = shop.products()[str(product.id)]
    assert {v.id: (v.price, v.inventory_quantity) for v in held.variants} == {
        str(product.variants[0].id): (2.0, 100),
        str(product.variants[1].id): (3.0, 7),
    }
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
