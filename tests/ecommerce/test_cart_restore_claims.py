"""A restore link's first exchange claims the cart while it makes the copy (`restore_claims.py`):
before, two exchanges at the same moment (a double click, a mail scanner opening the link as
the shopper does) each made a copy, and the one not handed out became a second cart, with its
own abandoned-cart e-mails, in Mailchimp. The racing exchanges: tests/ecommerce/
test_cart_restore.py. Here: a claim left by an exchange that died expires, and one that
failed is released at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.cart_models import RestoreClaim
from addon.ecommerce.restore_claims import CLAIM_SECONDS
from addon.installations.models import Installation
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop, _link, _restore

pytestmark = pytest.mark.usefixtures("restore_links")


async def _cart(shop: Shop) -> str:
    fig = await shop.product("Fig", "2.00")
    original = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    return str(original.token)


async def _claims(shop: Shop) -> list[RestoreClaim]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(RestoreClaim)))


async def test_a_claim_left_by_an_exchange_that_died_expires(
    shop: Shop, clock: ManualClock
) -> None:
    token = await _cart(shop)
    checkout_id = shop.saleor.store.get_checkout(token).global_id
    async with shop.services.db.transaction() as session:  # its process died mid-exchange
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        session.add(
            RestoreClaim(
                installation_id=installation_id, checkout_id=checkout_id, claimed_at=utcnow()
            )
        )
    link = _link(shop, token)

    waiting = await _restore(shop, link)
    assert waiting.status_code == 409, waiting.text
    assert waiting.json()["error"]["code"] == "RESTORE_IN_PROGRESS"
    clock.advance(CLAIM_SECONDS + 1)
    restored = await _restore(shop, link)
    assert restored.status_code == 200, restored.text
    assert await _claims(shop) == []
    assert len(shop.saleor.store.checkouts) == 2  # the original and its one copy


async def test_a_failed_exchange_releases_its_claim(shop: Shop) -> None:
    token = await _cart(shop)
    link = _link(shop, token)
    original = shop.saleor.store.get_checkout(token)
    await shop.saleor.update_checkout(original, set_quantities={original.lines[0].variant_id: 0})

    for _ in range(2):  # the cart is gone, each time: no claim stands in the way
        answer = await _restore(shop, link)
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "CART_GONE"
    assert await _claims(shop) == []
