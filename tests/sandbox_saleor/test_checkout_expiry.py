"""Saleor deletes inactive checkouts on its own, without a webhook (the sandbox's
`delete_expired_checkouts`, after saleor/checkout/tasks.py)."""

from __future__ import annotations

from datetime import timedelta

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import utcnow
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec


def test_inactive_checkouts_go_by_saleors_rules(sandbox: SaleorSandbox) -> None:
    store = sandbox.store
    mug = store.create_product("Mug", [VariantSpec(sku="MUG", price=5)]).variants[0]
    now = utcnow()

    def idle(days: float, *, email: str | None = None, lines: bool = True) -> str:
        checkout = store.create_checkout(lines=[LineSpec(mug.id)] if lines else [], email=email)
        checkout.last_change = now - timedelta(days=days)
        return str(checkout.token)

    kept = {
        idle(29),  # anonymous, a month not yet over
        idle(89, email="ann@example.com"),  # with an e-mail: 90 days
        idle(0.2, lines=False),  # empty, under 6 hours
    }
    gone = {
        idle(31),
        idle(91, email="bo@example.com"),
        idle(0.3, email="cy@example.com", lines=False),
    }
    expired = store.delete_expired_checkouts(now)
    assert {str(c.token) for c in expired} == gone
    assert {str(t) for t in store.checkouts} == kept
