"""A channel's slug changed, a channel deactivated or activated again, and a channel deleted, as
Saleor does them (`SaleorSandbox.channels`).

Checked against saleor/graphql/channel/mutations/channel_update.py and channel_delete.py
(tag 3.20.119 and commit 723cd4e alike):

* ``channelUpdate(input: {slug})`` slugifies the new slug and keeps it unique (the model's
  ``SlugField(unique=True)``); everything else refers to the channel by its pk, so products,
  orders and checkouts stay where they were. CHANNEL_UPDATED.
* ``channelDelete(id, input: {channelId})`` moves the channel's orders to the target channel,
  which must be another channel of the same currency (``CHANNELS_CURRENCY_MUST_BE_THE_SAME``),
  by a queryset ``update`` (no order webhooks, ``updated_at`` untouched); without a target it
  refuses a channel that has orders (``CHANNEL_WITH_ORDERS``). It deletes the channel's
  checkouts by a queryset ``delete`` (no checkout webhooks), and the database cascades the
  product, variant and voucher listings, the promotion rules' channel links and the tax
  configuration of the channel (``on_delete=models.CASCADE`` in saleor/product/models.py,
  saleor/discount/models.py and saleor/tax/models.py),
  again without webhooks. CHANNEL_DELETED comes last, after the delete
  (`ModelDeleteMutation.perform_mutation`: `instance.delete()`, then `post_save_action`).

* ``channelDeactivate(id)`` and ``channelActivate(id)`` (channel_deactivate.py,
  channel_activate.py) refuse a channel already in that state (``INVALID``), save
  ``is_active`` alone and send CHANNEL_STATUS_CHANGED. Customers then see no product of an
  inactive channel (saleor/product/managers.py `ProductsQueryset.published` and
  `ProductVariantQueryset.visible_to_user`: ``if not channel or not channel.is_active``), while
  an app with MANAGE_PRODUCTS still reads them all (`visible_to_user`'s first branch).

The CHANNEL_* events reach only apps with MANAGE_CHANNELS (saleor/webhook/event_types.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .models import Channel
from .store_base import NotFound

if TYPE_CHECKING:
    from .sandbox import SaleorSandbox


class ChannelRefused(ValueError):
    """The mutation's validation error: ``code`` is Saleor's ``ChannelErrorCode``."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _slugify(value: str) -> str:
    """Django's ``slugify`` for ASCII input (what the sandbox's tests give)."""
    value = re.sub(r"[^\w\s-]", "", value.lower())
    return re.sub(r"[-\s]+", "-", value).strip("-_")


class SandboxChannels:
    def __init__(self, sandbox: SaleorSandbox) -> None:
        self.sandbox = sandbox

    async def rename(self, slug: str, new_slug: str) -> Channel:
        """``channelUpdate(id, input: {slug: new_slug})``."""
        store = self.sandbox.store
        channel = store.channel_by_slug(slug)
        cleaned = _slugify(new_slug)
        if any(c.slug == cleaned and c.id != channel.id for c in store.channels.values()):
            raise ChannelRefused("Channel with this Slug already exists.", "UNIQUE")
        channel.slug = cleaned
        await self.sandbox.emit("CHANNEL_UPDATED", channel)
        return channel

    async def set_active(self, slug: str, active: bool) -> Channel:
        """``channelActivate(id)`` (``active``) or ``channelDeactivate(id)``."""
        channel = self.sandbox.store.channel_by_slug(slug)
        if channel.is_active is active:
            state = "activated" if active else "deactivated"
            raise ChannelRefused(f"This channel is already {state}.", "INVALID")
        channel.is_active = active
        await self.sandbox.emit("CHANNEL_STATUS_CHANGED", channel)
        return channel

    async def delete(self, slug: str, move_orders_to: str | None = None) -> None:
        """``channelDelete(id, input: {channelId})``, the target given by its slug."""
        store = self.sandbox.store
        channel = store.channel_by_slug(slug)
        orders = store.orders_in_channel(channel.id)
        if move_orders_to is not None:
            try:
                target = store.channel_by_slug(move_orders_to)
            except NotFound as exc:
                raise ChannelRefused(str(exc), "NOT_FOUND") from exc
            if target.id == channel.id:
                raise ChannelRefused(
                    "Cannot migrate data to the channel that is being removed.", "INVALID"
                )
            if target.currency_code != channel.currency_code:
                raise ChannelRefused(
                    f"Cannot migrate from {channel.currency_code} to {target.currency_code}. "
                    "Migration are allowed between the same currency",
                    "CHANNELS_CURRENCY_MUST_BE_THE_SAME",
                )
            for order in orders:
                order.channel_id = target.id
            store.forget_order_index()
        elif orders:
            raise ChannelRefused(
                "Cannot remove channel with orders. Try to migrate orders to another channel "
                "by passing `targetChannel` param.",
                "CHANNEL_WITH_ORDERS",
            )
        for token in [t for t, c in store.checkouts.items() if c.channel_id == channel.id]:
            del store.checkouts[token]
        for product in store.products.values():
            if channel.id in product.channel_ids:
                product.channel_ids.remove(channel.id)
            product.publications.pop(channel.id, None)
        for variant in store.variants.values():
            variant.channel_listings = [
                cl for cl in variant.channel_listings if cl.channel_id != channel.id
            ]
        for voucher in store.vouchers.values():
            voucher.channel_listings = [
                cl for cl in voucher.channel_listings if cl.channel_id != channel.id
            ]
        for promotion in self.sandbox.promotions.promotions.values():
            for rule in promotion.rules:
                if channel.id in rule.channel_ids:
                    rule.channel_ids.remove(channel.id)
        # Its tax configuration goes with it (saleor/tax/models.py `TaxConfiguration.channel`,
        # on_delete=CASCADE).
        store.tax_configurations.pop(channel.id, None)
        del store.channels[channel.id]
        await self.sandbox.emit("CHANNEL_DELETED", channel)
