"""A tracked channel is its Saleor channel, known by its id (addon/ecommerce/channel_presence.py),
not by the slug alone: a channel that takes a freed slug is not the store's (its products are not
sent, the store's push tells it apart), one made again under the slug is tracked anew, and a store
tracked before the app kept channel ids learns its own."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from addon.ecommerce.models import EntityKind, MailchimpStore
from addon.ecommerce.push_queue import enqueue_push
from sandboxes.saleor.models import VariantChannelListing
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop, store_row, visibility
from tests.ecommerce.test_store_state import channel as card
from tests.ecommerce.test_store_state import page


async def test_a_store_tracked_before_the_app_kept_channel_ids_learns_its_own(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpStore).values(channel_id=None))
    await shop.saleor.channels.rename(CHANNEL, "greens")
    hint = card(await page(shop))["next_action"]["hint"]
    assert hint.startswith("This channel is no longer in Saleor (deleted, or its slug changed)")
    await shop.saleor.channels.rename("greens", CHANNEL)
    await page(shop)
    assert (await store_row(shop)).channel_id == shop.saleor.store.channel_by_slug(
        CHANNEL
    ).global_id


async def test_a_slug_another_channel_took_is_not_the_stores_channel(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    # Another channel takes the freed slug: its products are not the store's.
    await shop.saleor.add_channel(CHANNEL, "Euro shop", "EUR")
    await shop.saleor.update_product(kale, name="Curly kale")
    await shop.drain()
    assert visibility(shop, kale.id) == ["visible"]
    body = await page(shop)
    assert card(body)["next_action"]["code"] == "follow_channel"
    greens = shop.saleor.store.channel_by_slug("greens").global_id
    assert (await store_row(shop)).channel_id == greens  # not the newcomer's
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    await shop.drain()
    assert shop.products()[str(kale.id)].title == "Curly kale"
    assert card(await page(shop))["tracked"] is False  # the newcomer's card: not tracked


async def test_a_push_teaches_an_older_store_its_channels_id(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpStore).values(channel_id=None))
    await shop.product("Kale", "2.00")
    await shop.drain()
    assert (await store_row(shop)).channel_id == shop.saleor.store.channel_by_slug(
        CHANNEL
    ).global_id


async def test_an_older_stores_cart_of_a_deleted_channel_still_goes(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    checkout = await shop.saleor.create_checkout(
        CHANNEL, [LineSpec(kale.variants[0].id, 1)], email="ann@example.com"
    )
    await shop.drain()
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpStore).values(channel_id=None))
    await shop.saleor.channels.delete(CHANNEL)
    store = await store_row(shop)
    async with shop.services.db.transaction() as session:
        await enqueue_push(
            session, store.installation_id, CHANNEL, EntityKind.CART, checkout.global_id
        )
    await shop.drain()
    assert shop.carts() == {}


async def test_the_stores_push_tells_a_newcomer_on_its_slug_from_its_channel(shop: Shop) -> None:
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await shop.saleor.add_channel(CHANNEL, "Euro shop", "EUR")
    store = await store_row(shop)
    async with shop.services.db.transaction() as session:
        await enqueue_push(session, store.installation_id, CHANNEL, EntityKind.STORE, CHANNEL)
    await shop.drain()
    assert (await store_row(shop)).channel_missing_since is not None
    [held] = shop.mailchimp.stores(shop.account)
    assert (held.name, held.currency_code) == ("Default Channel", "USD")


async def test_a_channel_made_again_under_the_slug_can_be_tracked_again(shop: Shop) -> None:
    await shop.drain()
    await shop.saleor.channels.delete(CHANNEL)
    made = await shop.saleor.add_channel(CHANNEL, "Default Channel", "USD")
    assert card(await page(shop))["next_action"]["code"] == "stop_tracking"
    stopped = await shop.api("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": False})
    assert stopped.status_code == 200, stopped.text
    assert card(stopped.json())["next_action"]["code"] == "track"
    tracked = await shop.api(
        "PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": shop.list_id}
    )
    assert tracked.status_code == 200, tracked.text
    assert card(tracked.json())["next_action"]["code"] == "start_initial_sync"
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    store = await store_row(shop)
    assert (store.channel_id, store.channel_missing_since) == (made.global_id, None)
    assert str(kale.id) in shop.products()


async def test_a_product_listed_by_the_channel_that_took_the_slug_is_not_sent(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    euro = await shop.saleor.add_channel(CHANNEL, "Euro shop", "EUR")
    # The newcomer lists the same product (productChannelListingUpdate and the variant's price).
    store = shop.saleor.store
    store.products[kale.id].channel_ids.append(euro.id)
    store.variants[kale.variants[0].id].channel_listings.append(
        VariantChannelListing(
            id=store.next_id(), channel_id=euro.id, price=Decimal("99.00"), currency="EUR"
        )
    )
    await shop.saleor.update_product(kale, name="Kale (euro)")
    await shop.drain()
    held = shop.products()[str(kale.id)]
    assert (held.title, held.variants[0].price) == ("Kale", 2.0)
    assert (await store_row(shop)).channel_missing_since is not None
