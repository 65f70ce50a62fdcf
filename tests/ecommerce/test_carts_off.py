"""Abandoned-cart tracking turned off: checkouts send nothing from then on, so the carts Mailchimp
holds are taken away at once; left there, its automation would go on e-mailing them as they
stood."""

from __future__ import annotations

from addon.ecommerce.models import EntityKind, SyncStatus
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def test_turning_carts_off_takes_the_carts_mailchimp_holds_away(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    checkouts = [
        await shop.saleor.create_checkout(
            lines=[LineSpec(fig.variants[0].id, 2)], email=f"guest{n}@example.com"
        )
        for n in range(2)
    ]
    await shop.drain()
    assert set(shop.carts()) == {str(c.token) for c in checkouts}
    start = len(shop.writes())

    answer = await shop.api("PATCH", "/api/ecommerce/settings", {"abandoned_carts_enabled": False})
    assert answer.status_code == 200, answer.text
    await shop.drain()
    assert shop.carts() == {}
    assert sorted(shop.writes()[start:]) == sorted(f"DELETE /carts/{c.token}" for c in checkouts)
    record = await shop.record(EntityKind.CART, checkouts[0].global_id)
    assert record is not None and record.status is SyncStatus.REMOVED
    # Another setting saved meanwhile takes nothing more away.
    again = await shop.api("PATCH", "/api/ecommerce/settings", {"store_email": "shop@example.com"})
    assert again.status_code == 200, again.text
    await shop.drain()
    assert not [w for w in shop.writes()[start:] if "/carts" in w][2:]
