"""The in-memory data store behind the Saleor sandbox.

:class:`SaleorStore` holds channels, customers, products, checkouts, orders and apps, and offers
plain synchronous create/read/update/delete operations. It never sends anything: the
:class:`~sandboxes.saleor.sandbox.SaleorSandbox` wraps these operations and emits the
matching webhook events. Listings are ordered by pk, which is also what pagination cursors use.
"""

from __future__ import annotations

import itertools
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from .ids import InvalidGlobalId, from_global_id
from .models import (
    Address,
    Category,
    Channel,
    Checkout,
    CheckoutLine,
    CreationWrites,
    Customer,
    EmailWrites,
    MediaType,
    Order,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    Product,
    ProductAttribute,
    ProductMedia,
    ProductType,
    ProductVariant,
    SandboxApp,
    VariantChannelListing,
    WithMetadata,
    utcnow,
)
from .payment_actions import IdSource, capture_legacy_payment, create_transaction
from .voucher_models import Voucher


class NotFound(LookupError):
    """Raised when an object referenced by pk, slug or global ID does not exist."""


@dataclass(frozen=True)
class VariantSpec:
    """Input for one variant of :meth:`SaleorStore.create_product`."""

    sku: str | None
    name: str = ""
    prices: dict[str, Decimal] | None = None
    """Price per channel slug; ``None`` lists the variant in every channel of the product."""
    price: Decimal = Decimal("10.00")
    quantity: int = 100


@dataclass(frozen=True)
class LineSpec:
    """Input for one line of a checkout: a variant and a quantity."""

    variant_id: int
    quantity: int = 1


# Creation ranges whose orders are kept by pk (a sync reads each of its slices page by page).
RANGES_KEPT = 64
_CREATED = attrgetter("created")
_PK = attrgetter("id")
_JOINED = attrgetter("date_joined")


@dataclass
class _OrderIndex:
    by_channel: dict[int, list[Order]] = field(default_factory=dict)
    by_user: dict[int, list[Order]] = field(default_factory=dict)
    # As Saleor's index on `created_at`: per channel (None: all), by creation time then pk,
    # built when first asked; and the orders of recently asked ranges, by pk.
    by_created: dict[int | None, list[Order]] = field(default_factory=dict)
    ranges: dict[tuple[int | None, datetime, datetime], list[Order]] = field(default_factory=dict)
    creation_writes: int = 0


class SaleorStore:
    """All objects of one sandbox Saleor instance, keyed by integer pk."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.channels: dict[int, Channel] = {}
        self.customers: dict[int, Customer] = {}
        # Customers by date joined then pk (made when first asked, as `_order_index`), with the
        # creation writes it was made at; and recently asked ranges' customers by pk.
        self._customers_joined: tuple[int, list[Customer]] | None = None
        self._joined_ranges: dict[tuple[datetime, datetime], list[Customer]] = {}
        # Customer pks by e-mail (Saleor's unique index on `account_user.email`), with the e-mail
        # writes it was made at: a shop of 50 k customers was generated in quadratic time, each
        # new customer's uniqueness checked by a scan.
        self._by_email: tuple[int, dict[str, int]] | None = None
        self.product_types: dict[int, ProductType] = {}
        self.categories: dict[int, Category] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, ProductVariant] = {}
        self.checkouts: dict[uuid.UUID, Checkout] = {}
        # Change orders only through create_order / update_order / delete_order: they keep the
        # per-channel and per-user lists (Saleor's indexed columns) that listings page through,
        # so a 100 k-order store is not scanned once per page.
        self.orders: dict[int, Order] = {}
        self._order_index: _OrderIndex | None = None
        self.apps: dict[int, SandboxApp] = {}
        self.vouchers: dict[int, Voucher] = {}  # `vouchers.py`
        self._order_numbers = itertools.count(1)

    def next_id(self) -> int:
        """A fresh pk (one sequence for all object kinds keeps pks unique and ordered)."""
        return next(self._ids)

    # -- channels ---------------------------------------------------------------------------

    def add_channel(
        self,
        slug: str,
        name: str | None = None,
        currency_code: str = "USD",
        default_country: str = "US",
        is_active: bool = True,
    ) -> Channel:
        if any(c.slug == slug for c in self.channels.values()):
            raise ValueError(f"Channel with slug {slug!r} already exists")
        channel = Channel(
            id=self.next_id(),
            slug=slug,
            name=name or slug.replace("-", " ").title(),
            currency_code=currency_code,
            default_country=default_country,
            is_active=is_active,
        )
        self.channels[channel.id] = channel
        return channel

    def channel_by_slug(self, slug: str) -> Channel:
        for channel in self.channels.values():
            if channel.slug == slug:
                return channel
        raise NotFound(f"Channel with '{slug}' slug does not exist.")

    def default_channel(self) -> Channel:
        """The first channel; created (``default-channel``, USD) if there is none yet."""
        if not self.channels:
            return self.add_channel("default-channel", "Default Channel")
        return next(iter(self.channels.values()))

    # -- customers ----------------------------------------------------------------------------

    def create_customer(
        self,
        email: str,
        first_name: str = "",
        last_name: str = "",
        addresses: Sequence[Address] = (),
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> Customer:
        email = email.strip().lower()
        if self.find_customer_by_email(email) is not None:
            raise ValueError(f"User with this Email already exists: {email}")
        stored = [a.model_copy(update={"id": a.id or self.next_id()}) for a in addresses]
        customer = Customer(
            id=self.next_id(),
            email=email,
            first_name=first_name,
            last_name=last_name,
            addresses=stored,
            metadata=dict(metadata or {}),
            default_billing_address_id=stored[0].id if stored else None,
            default_shipping_address_id=stored[0].id if stored else None,
            **fields,
        )
        self.customers[customer.id] = customer
        self._customers_joined = None
        self._emails()[email] = customer.id  # after the e-mail's assignment in the model
        return customer

    def new_address(self, **fields: Any) -> Address:
        """An :class:`Address` with a fresh pk (not yet attached to anything)."""
        return Address(id=self.next_id(), **fields)

    def find_customer_by_email(self, email: str) -> Customer | None:
        email = email.strip().lower()
        pk = self._emails().get(email)
        return self.customers[pk] if pk is not None else None

    def _emails(self) -> dict[str, int]:
        """The customers' pks by e-mail, rebuilt if an e-mail was assigned since it was made
        (create and delete keep it up to date themselves)."""
        index = self._by_email
        if index is None or index[0] != EmailWrites.count:
            by_email = {customer.email: pk for pk, customer in self.customers.items()}
            index = self._by_email = (EmailWrites.count, by_email)
        return index[1]

    def get_customer(self, pk: int) -> Customer:
        try:
            return self.customers[pk]
        except KeyError:
            raise NotFound(f"User {pk} does not exist") from None

    def update_customer(self, customer: Customer | int, **changes: Any) -> Customer:
        current = self.get_customer(customer if isinstance(customer, int) else customer.id)
        if "email" in changes:
            changes["email"] = str(changes["email"]).strip().lower()
        for key, value in changes.items():
            setattr(current, key, value)
        current.updated_at = utcnow()
        return current

    def delete_customer(self, customer: Customer | int) -> Customer:
        pk = customer if isinstance(customer, int) else customer.id
        self._customers_joined = None
        removed = self.customers.pop(pk)
        self._emails().pop(removed.email, None)
        return removed

    def customers_joined_in(self, low: datetime, high: datetime) -> list[Customer]:
        """The users who joined in `[low, high)`, by pk, bisected from the users sorted by date
        joined (see `orders_created_in`): the index's own list, not to be changed."""
        joined = self._customers_joined
        if joined is None or joined[0] != CreationWrites.count:
            dated = sorted(self.customers.values(), key=_joined_then_pk)
            joined = self._customers_joined = (CreationWrites.count, dated)
            self._joined_ranges = {}
        kept = self._joined_ranges.get((low, high))
        if kept is None:
            dated = joined[1]
            start = bisect_left(dated, low, key=_JOINED)
            stop = bisect_left(dated, high, lo=start, key=_JOINED)
            kept = sorted(dated[start:stop], key=_PK)
            if len(self._joined_ranges) >= RANGES_KEPT:
                del self._joined_ranges[next(iter(self._joined_ranges))]
            self._joined_ranges[(low, high)] = kept
        return kept

    # -- catalogue ------------------------------------------------------------------------------

    def get_or_create_product_type(self, name: str) -> ProductType:
        for product_type in self.product_types.values():
            if product_type.name == name:
                return product_type
        product_type = ProductType(id=self.next_id(), name=name, slug=_slugify(name))
        self.product_types[product_type.id] = product_type
        return product_type

    def get_or_create_category(self, name: str) -> Category:
        for category in self.categories.values():
            if category.name == name:
                return category
        category = Category(id=self.next_id(), name=name, slug=_slugify(name))
        self.categories[category.id] = category
        return category

    def create_product(
        self,
        name: str,
        variants: Sequence[VariantSpec] = (),
        *,
        slug: str | None = None,
        description: str | None = None,
        product_type: str = "Default Type",
        category: str | None = "Default Category",
        channels: Sequence[str] | None = None,
        image_urls: Sequence[str] = (),
        metadata: dict[str, str] | None = None,
        attributes: Sequence[ProductAttribute] = (),
    ) -> Product:
        """Create a product listed in ``channels`` (default: all) with the given variants."""
        listed = (
            [self.channel_by_slug(s) for s in channels]
            if channels is not None
            else list(self.channels.values()) or [self.default_channel()]
        )
        product = Product(
            id=self.next_id(),
            name=name,
            slug=slug or _slugify(name),
            description=description,
            product_type_id=self.get_or_create_product_type(product_type).id,
            category_id=self.get_or_create_category(category).id if category else None,
            channel_ids=[c.id for c in listed],
            metadata=dict(metadata or {}),
            attributes=list(attributes),
            media=[
                ProductMedia(
                    id=self.next_id(), url=url, alt=name, type=MediaType.IMAGE, sort_order=i
                )
                for i, url in enumerate(image_urls)
            ],
        )
        self.products[product.id] = product
        for spec in variants or [VariantSpec(sku=None, name="")]:
            self.add_variant(product, spec, listed)
        return product

    def add_variant(
        self, product: Product, spec: VariantSpec, channels: Iterable[Channel] | None = None
    ) -> ProductVariant:
        listed = list(channels) if channels is not None else self.product_channels(product)
        listings = []
        for channel in listed:
            price = spec.prices.get(channel.slug) if spec.prices is not None else spec.price
            if price is None:
                continue
            listings.append(
                VariantChannelListing(
                    id=self.next_id(),
                    channel_id=channel.id,
                    price=Decimal(price),
                    currency=channel.currency_code,
                )
            )
        variant = ProductVariant(
            id=self.next_id(),
            product_id=product.id,
            name=spec.name,
            sku=spec.sku,
            channel_listings=listings,
            quantity=spec.quantity,
        )
        product.variants.append(variant)
        self.variants[variant.id] = variant
        return variant

    def product_channels(self, product: Product) -> list[Channel]:
        return [self.channels[pk] for pk in product.channel_ids if pk in self.channels]

    def get_product(self, pk: int) -> Product:
        try:
            return self.products[pk]
        except KeyError:
            raise NotFound(f"Product {pk} does not exist") from None

    def get_variant(self, pk: int) -> ProductVariant:
        try:
            return self.variants[pk]
        except KeyError:
            raise NotFound(f"ProductVariant {pk} does not exist") from None

    def update_product(self, product: Product | int, **changes: Any) -> Product:
        current = self.get_product(product if isinstance(product, int) else product.id)
        for key, value in changes.items():
            setattr(current, key, value)
        current.updated_at = utcnow()
        return current

    def update_variant(self, variant: ProductVariant | int, **changes: Any) -> ProductVariant:
        current = self.get_variant(variant if isinstance(variant, int) else variant.id)
        for key, value in changes.items():
            setattr(current, key, value)
        now = utcnow()
        current.updated_at = now
        self.products[current.product_id].updated_at = now
        return current

    def delete_product(self, product: Product | int) -> Product:
        removed = self.products.pop(product if isinstance(product, int) else product.id)
        for variant in removed.variants:
            self.variants.pop(variant.id, None)
        # A checkout line dies with its variant (saleor/checkout/models.py `CheckoutLine.variant`,
        # on_delete=CASCADE), silently: no CHECKOUT_UPDATED. Order lines lose the variant
        # (saleor/order/models.py `OrderLine.variant`, on_delete=SET_NULL) and keep their copies:
        # names, SKU, prices and `product_variant_id`.
        gone = {variant.id for variant in removed.variants}
        for checkout in self.checkouts.values():
            checkout.lines = [line for line in checkout.lines if line.variant_id not in gone]
        for order in self.orders.values():
            for line in order.lines:
                if line.variant_id in gone:
                    line.variant_id = None
        return removed

    # -- checkouts ------------------------------------------------------------------------------

    def create_checkout(
        self,
        channel: str | None = None,
        lines: Sequence[LineSpec] = (),
        email: str | None = None,
        customer: Customer | None = None,
        shipping_price: Decimal = Decimal("0"),
        metadata: dict[str, str] | None = None,
    ) -> Checkout:
        chan = self.channel_by_slug(channel) if channel else self.default_channel()
        checkout = Checkout(
            id=self.next_id(),
            email=email or (customer.email if customer else None),
            user_id=customer.id if customer else None,
            channel_id=chan.id,
            shipping_price=shipping_price,
            metadata=dict(metadata or {}),
        )
        for spec in lines:
            self._add_checkout_line(checkout, spec)
        self.checkouts[checkout.token] = checkout
        return checkout

    def _add_checkout_line(self, checkout: Checkout, spec: LineSpec) -> None:
        variant = self.get_variant(spec.variant_id)
        if variant.listing_for(checkout.channel_id) is None:
            raise ValueError(f"Variant {variant.id} is not available in the checkout's channel")
        for line in checkout.lines:
            if line.variant_id == spec.variant_id:
                line.quantity += spec.quantity
                return
        checkout.lines.append(
            CheckoutLine(id=self.next_id(), variant_id=spec.variant_id, quantity=spec.quantity)
        )

    def get_checkout(self, token: uuid.UUID | str) -> Checkout:
        try:
            return self.checkouts[token if isinstance(token, uuid.UUID) else uuid.UUID(token)]
        except (KeyError, ValueError):
            raise NotFound(f"Checkout {token} does not exist") from None

    def update_checkout(
        self,
        checkout: Checkout,
        *,
        add_lines: Sequence[LineSpec] = (),
        set_quantities: dict[int, int] | None = None,
        **changes: Any,
    ) -> Checkout:
        """Add lines, set quantities (0 removes a line; keys are variant pks) or change fields."""
        current = self.get_checkout(checkout.token)
        for spec in add_lines:
            self._add_checkout_line(current, spec)
        for variant_id, quantity in (set_quantities or {}).items():
            current.lines = [ln for ln in current.lines if ln.variant_id != variant_id]
            if quantity > 0:
                self._add_checkout_line(current, LineSpec(variant_id, quantity))
        for key, value in changes.items():
            setattr(current, key, value)
        now = utcnow()
        current.updated_at = now
        current.last_change = now
        return current

    def checkout_line_price(self, checkout: Checkout, line: CheckoutLine) -> Decimal:
        listing = self.get_variant(line.variant_id).listing_for(checkout.channel_id)
        return listing.price if listing else Decimal("0")

    def checkout_subtotal(self, checkout: Checkout) -> Decimal:
        return sum(
            (self.checkout_line_price(checkout, ln) * ln.quantity for ln in checkout.lines),
            Decimal("0"),
        )

    def checkout_total(self, checkout: Checkout) -> Decimal:
        return self.checkout_subtotal(checkout) + checkout.shipping_price

    def complete_checkout(
        self, checkout: Checkout, paid: bool = True, *, legacy_payment: bool = False
    ) -> Order:
        """Turn a checkout into an order (removing the checkout), as ``checkoutComplete``.

        ``paid``: the checkout was paid in full, through a payment app's transaction or, with
        ``legacy_payment``, a legacy payment gateway."""
        current = self.get_checkout(checkout.token)
        if not current.lines:
            raise ValueError("Cannot complete an empty checkout")
        if not current.email:
            raise ValueError("Checkout email must be set")
        channel = self.channels[current.channel_id]
        lines = []
        for line in current.lines:
            variant = self.get_variant(line.variant_id)
            price = self.checkout_line_price(current, line)
            order_line = self._order_line(variant, line.quantity, price, price)
            order_line.quantity_allocated = line.quantity
            lines.append(order_line)
            variant.quantity_allocated += line.quantity
        order = self.create_order(
            channel=channel.slug,
            lines=lines,
            user=self.customers.get(current.user_id) if current.user_id else None,
            email=current.email,
            shipping_price=current.shipping_price,
            paid=paid,
            legacy_payment=legacy_payment,
            checkout_token=current.token,
            shipping_address=current.shipping_address,
            billing_address=current.billing_address,
            customer_note=current.customer_note,
            metadata=dict(current.metadata),
        )
        del self.checkouts[current.token]
        current.completed_order_id = order.id
        return order

    def delete_checkout(self, checkout: Checkout) -> Checkout:
        return self.checkouts.pop(checkout.token)

    # -- orders ---------------------------------------------------------------------------------

    def _order_line(
        self,
        variant: ProductVariant,
        quantity: int,
        unit_price: Decimal,
        undiscounted_unit_price: Decimal,
        tax_rate: Decimal = Decimal("0"),
    ) -> OrderLine:
        product = self.products.get(variant.product_id)
        net = (unit_price / (1 + tax_rate)).quantize(Decimal("0.01"))
        return OrderLine(
            id=self.next_id(),
            variant_id=variant.id,
            product_variant_id=variant.global_id,
            product_id=variant.product_id,
            product_name=product.name if product else "",
            variant_name=variant.name,
            product_sku=variant.sku,
            quantity=quantity,
            unit_price_net=net,
            unit_price_gross=unit_price,
            undiscounted_unit_price_gross=undiscounted_unit_price,
            tax_rate=tax_rate,
        )

    def order_line_for(
        self,
        variant: ProductVariant | int,
        quantity: int = 1,
        channel: str | None = None,
        *,
        unit_price: Decimal | None = None,
        discount: Decimal = Decimal("0"),
        tax_rate: Decimal = Decimal("0"),
    ) -> OrderLine:
        """Build an order line for ``variant`` priced from its channel listing (gross prices)."""
        var = self.get_variant(variant) if isinstance(variant, int) else variant
        chan = self.channel_by_slug(channel) if channel else self.default_channel()
        listing = var.listing_for(chan.id)
        base = unit_price if unit_price is not None else (listing.price if listing else Decimal(0))
        return self._order_line(var, quantity, base - discount, base, tax_rate)

    def create_order(
        self,
        channel: str | None = None,
        lines: Sequence[OrderLine] = (),
        *,
        user: Customer | None = None,
        email: str | None = None,
        shipping_price: Decimal = Decimal("0"),
        shipping_tax_rate: Decimal = Decimal("0"),
        shipping_method_name: str | None = "Standard",
        discounts: Sequence[OrderDiscount] = (),
        voucher_code: str | None = None,
        status: OrderStatus = OrderStatus.UNFULFILLED,
        paid: bool = True,
        legacy_payment: bool = False,
        checkout_token: uuid.UUID | None = None,
        shipping_address: Address | None = None,
        billing_address: Address | None = None,
        customer_note: str = "",
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> Order:
        chan = self.channel_by_slug(channel) if channel else self.default_channel()
        order = Order(
            id=self.next_id(),
            number=next(self._order_numbers),
            channel_id=chan.id,
            user_id=user.id if user else None,
            user_email=email or (user.email if user else None),
            lines=list(lines),
            currency=chan.currency_code,
            shipping_price_gross=shipping_price,
            shipping_price_net=(shipping_price / (1 + shipping_tax_rate)).quantize(Decimal("0.01")),
            shipping_method_name=shipping_method_name,
            discounts=list(discounts),
            voucher_code=voucher_code,
            voucher_id=next(
                (v.id for v in self.vouchers.values() if v.code_named(voucher_code)), None
            )
            if voucher_code
            else None,
            status=status,
            checkout_token=checkout_token,
            shipping_address=shipping_address,
            billing_address=billing_address,
            customer_note=customer_note,
            metadata=dict(metadata or {}),
            **fields,
        )
        if paid:
            mark_paid(order, self.next_id, legacy_payment=legacy_payment)
        self.orders[order.id] = order
        self._order_index = None
        return order

    def new_discount(self, amount: Decimal, **fields: Any) -> OrderDiscount:
        return OrderDiscount(
            id=self.next_id(), value=fields.pop("value", amount), amount=amount, **fields
        )

    def get_order(self, pk: int) -> Order:
        try:
            return self.orders[pk]
        except KeyError:
            raise NotFound(f"Order {pk} does not exist") from None

    def update_order(self, order: Order | int, **changes: Any) -> Order:
        current = self.get_order(order if isinstance(order, int) else order.id)
        for key, value in changes.items():
            setattr(current, key, value)
        current.updated_at = utcnow()
        if changes.keys() & {"channel_id", "user_id"}:
            self._order_index = None
        return current

    def delete_order(self, order: Order | int) -> Order:
        self._order_index = None
        return self.orders.pop(order if isinstance(order, int) else order.id)

    def _orders_indexed(self) -> _OrderIndex:
        if self._order_index is None or self._order_index.creation_writes != CreationWrites.count:
            index = _OrderIndex(creation_writes=CreationWrites.count)
            for order in self.orders.values():  # pk order, kept in each list
                index.by_channel.setdefault(order.channel_id, []).append(order)
                if order.user_id is not None:
                    index.by_user.setdefault(order.user_id, []).append(order)
            self._order_index = index
        return self._order_index

    def orders_in_channel(self, channel_id: int) -> list[Order]:
        """The channel's orders by pk (a copy: callers filter it further)."""
        return list(self._orders_indexed().by_channel.get(channel_id, ()))

    def orders_created_in(
        self, channel_id: int | None, low: datetime, high: datetime
    ) -> list[Order]:
        """The orders (of the channel, or all) created in `[low, high)`, by pk: the index's own
        list, not to be changed (a page reads it, it is not copied per page). Found by bisecting
        the orders sorted by creation time, so each page of a slice of a 100 k-order store looks
        at its slice only, not at every order."""
        index = self._orders_indexed()
        key = (channel_id, low, high)
        kept = index.ranges.get(key)
        if kept is None:
            dated = index.by_created.get(channel_id)
            if dated is None:
                source = (
                    self.orders.values()
                    if channel_id is None
                    else index.by_channel.get(channel_id, ())
                )
                dated = index.by_created[channel_id] = sorted(source, key=_created_then_pk)
            start = bisect_left(dated, low, key=_CREATED)
            stop = bisect_left(dated, high, lo=start, key=_CREATED)
            kept = sorted(dated[start:stop], key=_PK)
            if len(index.ranges) >= RANGES_KEPT:
                del index.ranges[next(iter(index.ranges))]  # the oldest asked
            index.ranges[key] = kept
        return kept

    def orders_of(self, user_id: int) -> list[Order]:
        """The user's orders by pk."""
        return list(self._orders_indexed().by_user.get(user_id, ()))

    def has_orders(self, user_id: int) -> bool:
        return user_id in self._orders_indexed().by_user

    # -- lookup by global ID --------------------------------------------------------------------

    def resolve_global_id(self, global_id: str) -> WithMetadata | None:
        """The object a global ID names (objects that carry metadata), or None."""
        try:
            type_name, pk = from_global_id(global_id)
        except InvalidGlobalId:
            return None
        if type_name == "Checkout":
            try:
                return self.checkouts.get(uuid.UUID(pk))
            except ValueError:
                return None
        if not pk.isdigit():
            return None
        tables: dict[str, dict[int, Any]] = {
            "User": self.customers,
            "Order": self.orders,
            "Product": self.products,
            "ProductVariant": self.variants,
            "Channel": self.channels,
            "App": self.apps,
            "Voucher": self.vouchers,
        }
        table = tables.get(type_name)
        found = table.get(int(pk)) if table is not None else None
        return found if isinstance(found, WithMetadata) else None


def _created_then_pk(order: Order) -> tuple[datetime, int]:
    return order.created, order.id


def _joined_then_pk(customer: Customer) -> tuple[datetime, int]:
    return customer.date_joined, customer.id


def mark_paid(order: Order, ids: IdSource, *, legacy_payment: bool = False) -> list[str]:
    """Charge ``order``'s total at once (``checkoutComplete`` of a paid checkout,
    ``orderMarkAsPaid``): a payment app's transaction or, with ``legacy_payment``, a legacy
    payment. Refused, as ``clean_mark_order_as_paid`` does (saleor/order/actions.py), once the
    order has payments or transactions. Returns the order webhooks Saleor fires for it."""
    if order.payments:
        raise ValueError("Orders with payments can not be manually marked as paid.")
    if order.transactions:
        raise ValueError("Orders with transactions can not be manually marked as paid.")
    if order.total_gross <= 0:
        return []
    if legacy_payment:
        return capture_legacy_payment(ids, order, order.total_gross)
    return create_transaction(ids, order, charged=order.total_gross)[1]


def _slugify(value: str) -> str:
    chars = [c.lower() if c.isalnum() else "-" for c in value.strip()]
    return "-".join(part for part in "".join(chars).split("-") if part) or "item"
