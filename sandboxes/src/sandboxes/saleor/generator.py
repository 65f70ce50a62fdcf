"""A seeded, deterministic generator of sandbox store data.

``generate_store(store, products=..., customers=..., orders=..., seed=...)`` fills a
:class:`~sandboxes.saleor.store.SaleorStore` with plausible channels, products (with
variants, prices and images), customers (with addresses), orders and open checkouts. The same
seed always yields the same data (names, emails, prices, dates, tokens). No events are sent.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .fulfillments import create_fulfillment
from .models import Address, Customer, ProductVariant
from .order_models import OrderStatus
from .payment_actions import refund_legacy_payment, request_refund
from .store import SaleorStore
from .store_base import NotFound
from .store_catalog import VariantSpec
from .store_checkouts import LineSpec

FIRST_NAMES = (
    "Ava", "Ben", "Chloe", "Dan", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kira",
    "Leo", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
    "Will", "Xena", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Brown", "Garcia", "Miller", "Davis", "Kowalski", "Nowak", "Martin",
    "Lopez", "Wilson", "Moore", "Taylor", "Anderson", "Thomas", "Lee", "Walker", "Young",
)  # fmt: skip
ADJECTIVES = (
    "Classic", "Organic", "Vintage", "Modern", "Cozy", "Bold", "Everyday", "Premium", "Rustic",
    "Sleek", "Handmade", "Bright",
)  # fmt: skip
NOUNS = (
    "T-Shirt", "Hoodie", "Mug", "Backpack", "Sneakers", "Notebook", "Candle", "Scarf", "Cap",
    "Water Bottle", "Jacket", "Socks",
)  # fmt: skip
CATEGORIES = ("Apparel", "Accessories", "Home", "Stationery")
SIZES = ("S", "M", "L", "XL")
CITIES = (("New York", "10001"), ("Austin", "73301"), ("Seattle", "98101"), ("Denver", "80201"))
DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


def generate_store(
    store: SaleorStore,
    *,
    products: int = 20,
    customers: int = 50,
    orders: int = 100,
    checkouts: int = 0,
    seed: int = 0,
    channels: Sequence[tuple[str, str]] = (("default-channel", "USD"),),
    start: datetime | None = None,
) -> None:
    """Add deterministic data to ``store`` (existing objects are kept)."""
    rng = random.Random(seed)
    origin = start or DEFAULT_START
    chans = []
    for slug, currency in channels:
        try:
            chans.append(store.channel_by_slug(slug))
        except NotFound:
            chans.append(store.add_channel(slug, currency_code=currency))
    slugs = [c.slug for c in chans]

    variants: list[ProductVariant] = []
    for index in range(products):
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index + 1}"
        base = Decimal(rng.randrange(500, 15000)) / 100
        sizes = SIZES[: rng.randint(1, len(SIZES))]
        specs = [
            VariantSpec(
                sku=f"SKU-{index + 1:05d}-{size}",
                name=size,
                prices={slug: base + Decimal(i) for slug in slugs},
                quantity=rng.randint(0, 200),
            )
            for i, size in enumerate(sizes)
        ]
        product = store.create_product(
            name,
            specs,
            slug=f"product-{index + 1}",
            description=_editorjs(f"{name}: a sandbox product."),
            category=rng.choice(CATEGORIES),
            channels=slugs,
            image_urls=[f"https://images.example.com/products/{index + 1}.jpg"],
        )
        created = origin + timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        product.created = product.updated_at = created
        variants.extend(product.variants)

    people: list[Customer] = []
    for index in range(customers):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, postal = rng.choice(CITIES)
        address = Address(
            id=store.next_id(),
            first_name=first,
            last_name=last,
            street_address_1=f"{rng.randint(1, 999)} Main St",
            city=city.upper(),
            postal_code=postal,
            country="US",
            phone=f"+1202555{rng.randint(1000, 9999)}",
        )
        customer = store.create_customer(
            f"{first}.{last}.{index + 1}@example.com".lower(),
            first,
            last,
            addresses=[address],
            is_confirmed=rng.random() > 0.1,
        )
        joined = origin + timedelta(minutes=rng.randint(0, 60 * 24 * 180))
        customer.date_joined = customer.updated_at = joined
        people.append(customer)

    if variants:
        for _ in range(orders):
            channel = rng.choice(chans)
            buyer = rng.choice(people) if people and rng.random() > 0.15 else None
            picked = rng.sample(variants, k=min(len(variants), rng.randint(1, 4)))
            lines = [
                store.order_line_for(v, rng.randint(1, 3), channel.slug)
                for v in picked
                if v.listing_for(channel.id) is not None
            ]
            if not lines:
                continue
            legacy = rng.random() < 0.2  # paid through a legacy payment, not a transaction
            order = store.create_order(
                channel.slug,
                lines,
                user=buyer,
                email=buyer.email if buyer else f"guest{rng.randint(1, 10**6)}@example.com",
                shipping_price=Decimal(rng.choice((0, 5, 10))),
                status=rng.choice((OrderStatus.UNFULFILLED, OrderStatus.FULFILLED)),
                paid=rng.random() > 0.1,
                legacy_payment=legacy,
                shipping_address=buyer.addresses[0] if buyer and buyer.addresses else None,
                billing_address=buyer.addresses[0] if buyer and buyer.addresses else None,
            )
            if order.status is OrderStatus.FULFILLED:
                # Shipped as Saleor records it: one fulfilment of every line, with a number
                # (taken from the order's, so the random sequence stays the same).
                order.status = OrderStatus.UNFULFILLED
                create_fulfillment(store.next_id, order, f"TRK{order.number:08d}")
            if order.total_charged > 0 and rng.random() < 0.1:  # refunded, in part or fully
                amount = order.total_charged if rng.random() < 0.5 else Decimal("1.00")
                if legacy:
                    refund_legacy_payment(store.next_id, order, amount)
                else:
                    request_refund(store.next_id, order, amount)
            order.token = uuid.UUID(int=rng.getrandbits(128), version=4)
            order.created = order.updated_at = origin + timedelta(
                minutes=rng.randint(0, 60 * 24 * 365)
            )

        for _ in range(checkouts):
            channel = rng.choice(chans)
            buyer = rng.choice(people) if people else None
            picked = rng.sample(variants, k=min(len(variants), rng.randint(1, 3)))
            checkout = store.create_checkout(
                channel.slug,
                [LineSpec(v.id, rng.randint(1, 2)) for v in picked],
                email=buyer.email if buyer else None,
                customer=buyer,
            )
            del store.checkouts[checkout.token]
            checkout.token = uuid.UUID(int=rng.getrandbits(128), version=4)
            store.checkouts[checkout.token] = checkout
            stamp = origin + timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            checkout.created = checkout.updated_at = checkout.last_change = stamp


def _editorjs(text: str) -> str:
    """A one-paragraph Editor.js document, the format of Saleor's rich-text fields."""
    import json

    return json.dumps(
        {"time": 0, "blocks": [{"id": "p1", "type": "paragraph", "data": {"text": text}}],
         "version": "2.24.3"}
    )  # fmt: skip
