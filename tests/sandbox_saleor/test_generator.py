"""The deterministic store generator."""

from __future__ import annotations

from sandboxes.saleor import SaleorSandbox, SigningKey


def snapshot(sandbox: SaleorSandbox) -> list[object]:
    store = sandbox.store
    return [
        [
            (p.name, [(v.sku, v.channel_listings[0].price) for v in p.variants])
            for p in store.products.values()
        ],
        [(c.email, c.date_joined) for c in store.customers.values()],
        [
            (o.number, o.user_email, o.total_gross, o.created, o.token)
            for o in store.orders.values()
        ],
        [(c.token, c.email) for c in store.checkouts.values()],
    ]


def test_same_seed_same_store(signing_key: SigningKey):
    first = SaleorSandbox(signing_key=signing_key)
    second = SaleorSandbox(signing_key=signing_key)
    first.generate_store(products=10, customers=20, orders=30, checkouts=5, seed=42)
    second.generate_store(products=10, customers=20, orders=30, checkouts=5, seed=42)
    assert snapshot(first) == snapshot(second)
    assert len(first.store.products) == 10 and len(first.store.customers) == 20
    assert len(first.store.orders) == 30 and len(first.store.checkouts) == 5

    other = SaleorSandbox(signing_key=signing_key)
    other.generate_store(products=10, customers=20, orders=30, checkouts=5, seed=43)
    assert snapshot(other) != snapshot(first)


def test_large_store_is_cheap(signing_key: SigningKey):
    sandbox = SaleorSandbox(signing_key=signing_key)
    sandbox.generate_store(products=200, customers=5000, orders=2000, seed=1)
    assert len(sandbox.store.customers) == 5000
    assert all(o.lines for o in sandbox.store.orders.values())
