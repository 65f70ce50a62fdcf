"""A second tracked channel for multi-channel tests: `eu` (EUR), into an audience of its own."""

from __future__ import annotations

from tests.ecommerce.conftest import Shop
from tests.sandbox_mailchimp.helpers import list_body

EU = "eu"


async def track_eu(shop: Shop, *, added: bool = False) -> str:
    """Track channel `eu` (EUR; `added`: Saleor has it already) into an audience of its own; its
    store's id."""
    if not added:
        await shop.saleor.add_channel(EU, "Europe", "EUR")
    created = await shop.mailchimp.call(shop.account, "POST", "/lists", body=list_body("EU news"))
    body = {"tracked": True, "list_id": str(created.body["id"])}
    response = await shop.api("PUT", f"/api/ecommerce/channels/{EU}", body)
    assert response.status_code == 200, response.text
    await shop.drain()
    [store] = [s for s in shop.mailchimp.stores(shop.account) if s.currency_code == "EUR"]
    return str(store.id)
