"""A tracked channel Saleor no longer has (addon/ecommerce/channel_presence.py): its slug changed,
or it was deleted. Saleor answers a query in a slug no channel has with nothing, so read at its
word every product would be hidden in Mailchimp and every cart dropped; instead the channel's
pushes wait, the page says what happened and offers Stop tracking, and what waited is sent once
the channel is listed under its slug again. A channel that took the slug, and stores tracked
before the app kept channel ids: tests/ecommerce/test_channel_identity.py."""

from __future__ import annotations

from typing import Any

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.push_queue import enqueue_push
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop, choose, store_row, visibility
from tests.ecommerce.test_burst import (  # noqa: F401
    batch_calls,
    bursty,
    direct_writes,
    settle,
)
from tests.ecommerce.test_store_state import channel as card
from tests.ecommerce.test_store_state import page


async def parked_change_sent(shop: Shop, kale: Any) -> None:
    """The channel is unmarked and the change its push parked reaches Mailchimp."""
    await shop.drain()
    assert (await store_row(shop)).channel_missing_since is None
    assert shop.products()[str(kale.id)].title == "Curly kale"


async def test_a_new_slug_hides_nothing_and_the_channels_pushes_wait(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    assert visibility(shop, kale.id) == ["visible"]
    assert (await store_row(shop)).channel_id == shop.saleor.store.channel_by_slug(
        CHANNEL
    ).global_id

    await shop.saleor.channels.rename(CHANNEL, "greens")
    await shop.saleor.update_product(kale, name="Curly kale")
    await shop.drain()
    # `product(channel: "default-channel")` is null now: not a reason to hide it.
    held = shop.products()[str(kale.id)]
    assert (held.title, visibility(shop, kale.id)) == ("Kale", ["visible"])
    assert (await store_row(shop)).channel_missing_since is not None
    # What is made meanwhile is recorded and waits too (sent once the channel is back).
    okra = await shop.product("Okra", "3.00")
    customer = await shop.saleor.create_customer("kim@example.com", "Kim", "Lee")
    await shop.drain()
    for kind, saleor_id in (
        (EntityKind.PRODUCT, okra.global_id),
        (EntityKind.CUSTOMER, customer.global_id),
    ):
        waiting = await shop.record(kind, saleor_id)
        assert waiting is not None and waiting.status is SyncStatus.PENDING
    record = await shop.record(EntityKind.PRODUCT, kale.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    assert record.attempts == 0  # waiting, not failing towards quarantine
    assert record.last_error == (
        "Saleor has no channel 'default-channel' (Default Channel) any more: it was deleted, "
        "or its slug changed. Its changes are not sent to Mailchimp."
    )
    listed = (await shop.api("GET", "/api/ecommerce/records?kind=product")).json()
    row = next(r for r in listed if r["saleor_id"] == kale.global_id)
    assert row["reason"] == (
        "Saleor has no channel 'default-channel' (Default Channel) any more: it was deleted, "
        "or its slug changed. The channel's card on the E-commerce page says what to do."
    )
    assert row["action"] is None

    body = await page(shop)
    gone = card(body)
    assert gone["tracked"] is True
    assert gone["next_action"] == {
        "code": "follow_channel",
        "label": "Switch to 'greens'",
        "hint": "This channel's slug changed in Saleor to 'greens', so its changes are not "
        "sent to Mailchimp. Switch to the new slug: the same Mailchimp store goes on.",
    }
    assert card(body, "greens")["tracked"] is False
    # Sending it cannot work: refused with the reason, not queued to wait.
    for method, path in (
        ("POST", f"/api/ecommerce/channels/{CHANNEL}/resync"),
        ("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync"),
        ("POST", f"/api/ecommerce/records/{record.id}/retry"),
    ):
        refused = await shop.api(method, path)
        assert refused.status_code == 409, (path, refused.text)
        assert refused.json()["error"]["code"] == "CHANNEL_MISSING"

    # The slug changed back: the page sees it listed again and what waited goes.
    await shop.saleor.channels.rename("greens", CHANNEL)
    assert card(await page(shop))["next_action"]["code"] == "start_initial_sync"
    await shop.drain()
    assert (await store_row(shop)).channel_missing_since is None
    assert shop.products()[str(kale.id)].title == "Curly kale"
    assert str(okra.id) in shop.products()
    assert str(customer.id) in {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    record = await shop.record(EntityKind.PRODUCT, kale.global_id)
    assert record is not None and (record.status, record.last_error) == (SyncStatus.SYNCED, None)


async def test_a_cart_of_a_channel_with_a_new_slug_is_kept(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    checkout = await shop.saleor.create_checkout(
        CHANNEL, [LineSpec(kale.variants[0].id, 2)], email="ann@example.com"
    )
    await shop.drain()
    assert str(checkout.token) in shop.carts()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    # A push queued before the change runs after it: the checkout is in "greens" now.
    store = await store_row(shop)
    async with shop.services.db.transaction() as session:
        await enqueue_push(
            session, store.installation_id, CHANNEL, EntityKind.CART, checkout.global_id
        )
    await shop.drain()
    assert str(checkout.token) in shop.carts()
    assert (await store_row(shop)).channel_missing_since is not None


async def test_a_deleted_channel_keeps_its_store_until_tracking_stops(shop: Shop) -> None:
    await shop.saleor.add_channel("outlet", "Outlet", "USD")
    kale = await shop.product("Kale", "2.00")
    order = await shop.saleor.create_order(
        CHANNEL, [shop.saleor.order_line(kale.variants[0], 1)], email="kim@example.com"
    )
    checkout = await shop.saleor.create_checkout(
        CHANNEL, [LineSpec(kale.variants[0].id, 1)], email="ann@example.com"
    )
    await shop.drain()
    orders_before = shop.orders()
    assert len(orders_before) == 1 and str(checkout.token) in shop.carts()
    await shop.saleor.channels.delete(CHANNEL, move_orders_to="outlet")
    # Nothing was sent about it (Saleor sends CHANNEL_DELETED only to MANAGE_CHANNELS); a
    # push queued before, and a product's change, run after.
    store = await store_row(shop)
    async with shop.services.db.transaction() as session:
        await enqueue_push(
            session, store.installation_id, CHANNEL, EntityKind.ORDER, order.global_id
        )
    await shop.saleor.update_product(kale, name="Curly kale")
    await shop.drain()
    assert shop.orders() == orders_before  # the order moved channel: kept as it was
    assert visibility(shop, kale.id) == ["visible"]
    # Its checkouts went with it: their carts go too (as the daily sweep finds them), so no
    # abandoned-cart e-mail is sent for them.
    async with shop.services.db.transaction() as session:
        await enqueue_push(
            session, store.installation_id, CHANNEL, EntityKind.CART, checkout.global_id
        )
    await shop.drain()
    assert shop.carts() == {}
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    assert record.last_error is not None and "it was deleted, or" in record.last_error

    gone = card(await page(shop))
    assert gone["next_action"]["code"] == "stop_tracking"
    # The store's own push waits like the rest: not a store Mailchimp refused.
    assert (gone["store_status"], gone["store_message"], gone["store_error"]) == (
        "ready",
        None,
        None,
    )
    assert gone["next_action"]["hint"].startswith("This channel was deleted in Saleor, so")
    stopped = await shop.api("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": False})
    assert stopped.status_code == 200, stopped.text
    kept = card(stopped.json())
    assert (kept["tracked"], kept["next_action"]["code"]) == (False, "none")
    assert kept["next_action"]["hint"] == (
        "This channel was deleted in Saleor. Its Mailchimp store keeps what it holds."
    )
    assert shop.mailchimp.stores(shop.account) != []


async def test_a_burst_in_a_channel_with_a_new_slug_hides_nothing(bursty: Shop) -> None:  # noqa: F811
    shop = bursty
    products = [await shop.product(f"Herb {i}", "2.00") for i in range(6)]
    await settle(shop)
    assert batch_calls(shop) >= 1
    await shop.saleor.channels.rename(CHANNEL, "greens")
    for product in products:
        await shop.saleor.update_product(product, name=product.name + " (new)")
    start = len(shop.mailchimp.requests)
    asked: list[str] = []
    execute = shop.services.saleor.execute

    async def recorded(api_url: str, token: Any, document: str, *args: Any, **kw: Any) -> Any:
        asked.append(document)
        return await execute(api_url, token, document, *args, **kw)

    shop.services.saleor.execute = recorded  # type: ignore[method-assign]
    await settle(shop)
    # The batch's page of products came back empty: each product's own push (the burst's
    # plan leaves an absent one to it) hides nothing. The first asks about the channel; the
    # others wait without asking again.
    assert batch_calls(shop, start) == 0 and direct_writes(shop, start) == []
    assert asked.count("ecommerce_products_by_ids") == 1
    assert asked.count("ecommerce_channels") == 1
    assert all(visibility(shop, p.id) == ["visible"] for p in products)
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.PENDING
        assert record.last_error is not None
        assert record.last_error.startswith("Saleor has no channel 'default-channel'")


async def test_a_store_whose_channel_went_before_it_was_created_is_not_called_refused(
    shop: Shop,
) -> None:
    await shop.saleor.add_channel("pop-up", "Pop-up shop", "USD")
    tracked = await shop.api(
        "PUT", "/api/ecommerce/channels/pop-up", {"tracked": True, "list_id": shop.list_id}
    )
    assert tracked.status_code == 200, tracked.text
    await shop.saleor.channels.delete("pop-up")
    await shop.drain()  # the store's push finds the channel gone
    record = await shop.record(EntityKind.STORE, "pop-up")
    assert record is not None and record.last_error is not None
    gone = card(await page(shop), "pop-up")
    assert (gone["store_status"], gone["store_message"], gone["store_error"]) == (
        "not_created",
        None,
        None,
    )
    assert gone["next_action"]["code"] == "stop_tracking"


async def test_a_voucher_of_a_channel_with_a_new_slug_keeps_its_rule(shop: Shop) -> None:
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create("Spring", ["SPRING"], channels={CHANNEL: 10})
    await shop.drain()
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules/{voucher.id}"
    assert (await shop.mailchimp.call(shop.account, "GET", path)).status == 200
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await shop.saleor.vouchers.update(voucher, name="Spring!")
    await shop.drain()
    # Read without a channel, the voucher's listing is under "greens": no reason to delete.
    assert (await shop.mailchimp.call(shop.account, "GET", path)).status == 200
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    assert (await store_row(shop)).channel_missing_since is not None


async def test_a_channel_back_while_untracked_is_checked_again_once_tracked(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await page(shop)  # marked
    await shop.saleor.update_product(kale, name="Curly kale")
    await shop.drain()  # parked
    stopped = await shop.api("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": False})
    assert stopped.status_code == 200, stopped.text
    await shop.saleor.channels.rename("greens", CHANNEL)
    await page(shop)
    assert (await store_row(shop)).channel_missing_since is not None  # untracked: kept
    tracked = await shop.api(
        "PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": shop.list_id}
    )
    assert tracked.status_code == 200, tracked.text
    await parked_change_sent(shop, kale)


async def test_nothing_waits_without_a_job_when_the_channel_is_back_while_sending_is_off(
    shop: Shop,
) -> None:
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await shop.saleor.update_product(kale, name="Curly kale")
    await shop.drain()  # parked
    paused = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": False})
    assert paused.status_code == 200, paused.text
    await shop.saleor.channels.rename("greens", CHANNEL)
    await page(shop)
    await shop.drain()
    # A push now would be dropped: the channel stays marked until sending is on again.
    assert (await store_row(shop)).channel_missing_since is not None
    resumed = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": True})
    assert resumed.status_code == 200, resumed.text
    await parked_change_sent(shop, kale)


async def test_a_voucher_made_before_the_channel_was_found_gone_waits_for_it(shop: Shop) -> None:
    await choose(shop, "all")
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    voucher = await shop.saleor.vouchers.create("Spring", ["SPRING"], channels={"greens": 10})
    await shop.drain()
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    await page(shop)
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    await shop.drain()
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules/{voucher.id}"
    assert (await shop.mailchimp.call(shop.account, "GET", path)).status == 200
