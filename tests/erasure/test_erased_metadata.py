"""A customer erased from the customer panel stays in Saleor, but what the app wrote on them
goes: their status, groups and address in each audience (public and private metadata) and
their campaign engagement (private). Before, it stayed on the customer for good. The
storefront's consent keys and other apps' keys stay."""

from __future__ import annotations

from addon.engagement.metadata import SUMMARY_KEY, TAGS_PREFIX
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE, STATUS_PREFIX
from tests.ecommerce.conftest import Shop
from tests.erasure.test_erasure import _customer_with_history, _users_only


async def test_the_app_s_metadata_leaves_a_customer_erased_from_the_panel(shop: Shop) -> None:
    customer, _, _ = await _customer_with_history(shop)
    stored = shop.saleor.store.customers[customer.id]
    assert stored.metadata[STATUS_PREFIX + shop.list_id] == "subscribed"  # written back
    stored.metadata["loyalty.tier"] = "gold"  # another app's
    engagement = {SUMMARY_KEY: '{"opens":3}', TAGS_PREFIX + shop.list_id: '["vip"]'}
    stored.private_metadata.update({**engagement, "crm.id": "42"})

    erased = await shop.client.post(
        f"/api/erasure/customers/{customer.global_id}", headers=_users_only(shop)
    )
    assert erased.status_code == 202, erased.text
    await shop.drain()

    stored = shop.saleor.store.customers[customer.id]
    assert not [k for k in stored.metadata if k.startswith("mailchimp.") and "consent" not in k]
    assert stored.metadata[CONSENT_SUBSCRIBE] == "true"  # the storefront's record
    assert stored.metadata["loyalty.tier"] == "gold"
    assert dict(stored.private_metadata) == {"crm.id": "42"}
