"""The e-commerce rules of erased addresses (`addon.privacy.erased`): the orders placed at one
before its erasure never go to Mailchimp again.

An erasure (`addon.erasure`) deletes the customer in Mailchimp and, by default, keeps their
orders there (the store's revenue history). Saleor keeps a deleted customer's orders with their
address (`Order.user_email`), so a later change of such an order (a refund, a fulfilment), a
resync or a new initial sync would push it, and with it an e-commerce customer carrying the
address, back into the store. Every way an order goes to Mailchimp (its push, a burst, the
initial sync) asks here first: an order placed at an erased address before its erasure stays in
Mailchimp as last sent, or absent. An order placed after it is new business and goes as any
other.
"""

from __future__ import annotations

from datetime import timedelta

from addon.ecommerce.saleor_schemas import SaleorOrder, SaleorUser
from addon.mailchimp import subscriber_hash
from addon.privacy.erased import Erased

# How far apart a sign-in's save sets `lastLogin` and `updatedAt` at most (one save: well
# under a second).
SIGN_IN_SAVE = timedelta(seconds=1)


def order_addresses(order: SaleorOrder) -> list[str]:
    """The addresses an order names: its customer's now (what its payload carries) and the one
    it was placed with (`sale_payloads.order_input`)."""
    return [a for a in (order.user.email if order.user else None, order.user_email) if a]


def unchanged_since_erasure(user: SaleorUser, erased: Erased) -> bool:
    """A customer erased (from the panel: Saleor keeps them) who has not changed since: a
    resync, a burst or a new initial sync must not bring them back. One who changed since
    keeps shopping (docs/email-changes-and-erasure.md, Limits), as do their new orders. A
    sign-in is no change: Saleor saves `updatedAt` with `lastLogin` at every sign-in
    (`update_user_last_login_if_required`, saleor/graphql/account/mutations/authentication/
    utils.py), so an `updatedAt` of a sign-in's save (`_signed_in_since`) counts as before."""
    erased_at = erased.get(subscriber_hash(user.email)) if erased else None
    if erased_at is None:
        return False
    return user.updated_at is None or user.updated_at <= erased_at or _signed_in_since(user)


def _signed_in_since(user: SaleorUser) -> bool:
    """The customer's last save was a sign-in's: `updatedAt` set with `lastLogin` (both taken
    in one save, microseconds apart). A change made before that sign-in is hidden by it; its
    own webhook (`CUSTOMER_UPDATED`, pushed live) is what brings the customer back."""
    if user.updated_at is None or user.last_login is None:
        return False
    return timedelta(0) <= user.updated_at - user.last_login <= SIGN_IN_SAVE


def placed_before_erasure(order: SaleorOrder, erased: Erased) -> bool:
    """The order was placed at an address erased since: it must not reach Mailchimp again.
    Placed when it became an order (`SaleorOrder.placed`): a draft begun before the erasure and
    completed after it (its `created` is the draft's) is a purchase made after it."""
    if not erased:
        return False
    for address in order_addresses(order):
        erased_at = erased.get(subscriber_hash(address))
        if erased_at is not None and order.placed <= erased_at:
            return True
    return False


__all__ = ["order_addresses", "placed_before_erasure", "unchanged_since_erasure"]
