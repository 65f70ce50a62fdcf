"""Checkouts of ``SaleorStore``: created with lines (``LineSpec``), changed, priced from the
checkout's channel, and completed into an order as ``checkoutComplete`` does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .checkout_payments import CheckoutAuthorizeStatus, authorize_status, has_money
from .checkout_vouchers import checkout_prices, order_voucher
from .models import Checkout, CheckoutLine, CheckoutTransaction, Customer, utcnow
from .money import currency_step
from .order_models import Order, OrderStatus
from .payment_actions import adopt_transaction
from .payments import update_order_amounts
from .stock_checks import check_allocation
from .stock_moves import allocate, allocates
from .store_base import NotFound
from .store_customers import keep_in_address_book
from .store_orders import StoreOrders
from .versions import CURRENT_VERSION, shows_own_email

# Saleor's defaults (saleor/settings.py, each an environment variable of that name).
ANONYMOUS_CHECKOUTS_TIMEDELTA = timedelta(days=30)
USER_CHECKOUTS_TIMEDELTA = timedelta(days=90)
EMPTY_CHECKOUTS_TIMEDELTA = timedelta(hours=6)


class CheckoutNotFullyPaid(ValueError):
    """`checkoutComplete` refused with CHECKOUT_NOT_FULLY_PAID (its message is Saleor's)."""

    code = "CHECKOUT_NOT_FULLY_PAID"


def _check_covered(checkout: Checkout, total: Decimal, allow_unpaid_orders: bool) -> None:
    """Refuse to complete a checkout its transactions do not authorize in full, unless the
    channel allows unpaid orders (saleor/checkout/complete_checkout.py `complete_checkout`:
    the transaction flow for a fully authorized checkout, one with transactions, or a channel
    allowing unpaid orders; `_prepare_checkout_with_transactions` refuses the partly
    authorized; with no transaction nor payment, the payment flow's `clean_checkout_payment`
    refuses. The same at 3.20.119 and 723cd4e)."""
    if allow_unpaid_orders:
        return
    if authorize_status(checkout, total) is CheckoutAuthorizeStatus.FULL:
        return
    if checkout.transactions:
        raise CheckoutNotFullyPaid(
            "The authorized amount doesn't cover the checkout's total amount."
        )
    raise CheckoutNotFullyPaid("Provided payment methods can not cover the checkout's total amount")


@dataclass(frozen=True)
class LineSpec:
    """Input for one line of a checkout: a variant and a quantity."""

    variant_id: int
    quantity: int = 1


class StoreCheckouts(StoreOrders):
    """Checkouts, their lines and prices, and their completion into orders."""

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

    def create_checkout_from_order(self, order: Order, customer: Customer) -> Checkout:
        """``checkoutCreateFromOrder`` by the signed-in `customer` ("buy again";
        saleor/graphql/checkout/mutations/checkout_create_from_order.py, the same at 3.20.119
        and main): a checkout in the order's channel, of the customer with their e-mail
        (`create_checkout`), holding the order's lines whose variant is still sold there
        (`clean_order_lines` leaves out the others, as `unavailable_variants`). Saleor sends
        NO webhook for it, neither CHECKOUT_CREATED nor CHECKOUT_UPDATED: nor does this."""
        channel = self.channels[order.channel_id]
        now = utcnow()
        lines = []
        for line in order.lines:
            variant = self.variants.get(line.variant_id) if line.variant_id else None
            if variant is None or variant.listing_for(channel.id) is None:
                continue
            product = self.products[variant.product_id]
            publication = product.publication_in(channel.id)
            if (
                channel.id in product.channel_ids
                and publication.is_published
                and publication.is_available_for_purchase(now)
            ):
                lines.append(LineSpec(variant.id, line.quantity))
        return self.create_checkout(channel.slug, lines, customer=customer)

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

    def checkout_line_undiscounted_price(self, checkout: Checkout, line: CheckoutLine) -> Decimal:
        """`CheckoutLineInfo.undiscounted_unit_price`: the variant's price in the channel
        (saleor/checkout/fetch.py, at 3.20.119 and 723cd4e)."""
        listing = self.get_variant(line.variant_id).listing_for(checkout.channel_id)
        return listing.price if listing else Decimal("0")

    def checkout_line_discount(self, checkout: Checkout, line: CheckoutLine) -> Decimal:
        """The line's catalogue promotion discount (its `CheckoutLineDiscount` of type
        PROMOTION): only while the listing's `discounted_price` differs from its price, the
        best rule's `discount_amount` per unit times the quantity (saleor/discount/utils/
        promotion.py `prepare_line_discount_objects_for_catalogue_promotions`,
        `_is_discounted_line_by_catalogue_promotion`, `_get_rule_discount_amount`). That amount
        is written with the listing's discounted price by the price recalculation
        (saleor/product/utils/variant_prices.py `_handle_discount_rule_id`), so the line
        follows the listing as last recalculated (`promotions.SandboxPromotions.recalculate`),
        not the rules as they are now. The same at 3.20.119 and 723cd4e."""
        listing = self.get_variant(line.variant_id).listing_for(checkout.channel_id)
        if listing is None or listing.discounted_price is None:
            return Decimal("0")
        per_unit = max(listing.price - listing.discounted_price, Decimal("0"))
        return per_unit * line.quantity

    def checkout_line_total(self, checkout: Checkout, line: CheckoutLine) -> Decimal:
        """`calculate_base_line_total_price` (saleor/checkout/base_calculations.py, at 3.20.119
        and 723cd4e): the undiscounted unit price times the quantity less the line's
        discounts, rounded to the currency (no taxes: prices are untaxed here)."""
        undiscounted = self.checkout_line_undiscounted_price(checkout, line) * line.quantity
        total = max(undiscounted - self.checkout_line_discount(checkout, line), Decimal("0"))
        return total.quantize(self._currency_step(checkout))

    def checkout_line_price(self, checkout: Checkout, line: CheckoutLine) -> Decimal:
        """`calculate_base_line_unit_price`: the line's total over its quantity, rounded."""
        total = self.checkout_line_total(checkout, line)
        step = self._currency_step(checkout)
        return (total / max(line.quantity, 1)).quantize(step, ROUND_HALF_UP)

    def _currency_step(self, checkout: Checkout) -> Decimal:
        currency = self.channels[checkout.channel_id].currency_code
        return currency_step(currency)

    def checkout_subtotal(self, checkout: Checkout) -> Decimal:
        """The lines' totals with the checkout's voucher (`checkout_vouchers.checkout_prices`)."""
        return checkout_prices(self, checkout).subtotal

    def checkout_total(self, checkout: Checkout) -> Decimal:
        prices = checkout_prices(self, checkout)
        return max(prices.subtotal + prices.shipping - checkout.gift_card_balance, Decimal(0))

    def complete_checkout(
        self,
        checkout: Checkout,
        paid: bool = True,
        *,
        legacy_payment: bool = False,
        version: str = CURRENT_VERSION,
    ) -> Order:
        """Turn a checkout into an order (removing the checkout), as ``checkoutComplete``.

        Transaction flow (saleor/checkout/complete_checkout.py, at 3.20.119 and 723cd4e):
        ``paid`` on a checkout without transactions stands for a payment app charging its total
        before completion (``SaleorSandbox.complete_checkout`` sends that charge's webhooks);
        otherwise the checkout's own transactions pay, and must authorize (or charge) its total
        unless the channel allows unpaid orders (`complete_checkout` picks the flow,
        `_prepare_checkout_with_transactions` refuses, CHECKOUT_NOT_FULLY_PAID; with no
        transaction the payment flow refuses, `clean_checkout_payment`). The transactions move to
        the order, whose amounts follow (`_create_order_from_checkout`), and it is UNFULFILLED
        when the channel confirms new orders automatically and the checkout had a transaction,
        else UNCONFIRMED. ``legacy_payment``: a legacy gateway's payment (``paid``: captured in
        full) and `_create_order`: UNFULFILLED wherever the channel confirms automatically.
        Lines the stock (or a preorder's thresholds) cannot cover: `InsufficientStock`
        (stock_checks.py), no order, the checkout kept with what paid it; a preorder line adds to
        its listing's sold units (`allocate_preorders`). The buyer's address book keeps the
        order's addresses (`keep_in_address_book`)."""
        current = self.get_checkout(checkout.token)
        if not current.lines:
            raise ValueError("Cannot complete an empty checkout")
        if not current.email:
            raise ValueError("Checkout email must be set")
        channel = self.channels[current.channel_id]
        total = self.checkout_total(current)
        if legacy_payment and current.transactions:
            raise ValueError("The sandbox pays a checkout by transactions or a legacy payment")
        if not legacy_payment:
            if paid and not current.transactions and total > 0:
                current.transactions.append(CheckoutTransaction(charged=total))
            _check_covered(current, total, channel.allow_unpaid_orders)
        now = utcnow()
        variants = [(self.get_variant(line.variant_id), line.quantity) for line in current.lines]
        check_allocation(variants, channel.id, now)  # `InsufficientStock`: stock_checks.py
        confirmed = channel.automatically_confirm_all_new_orders and (
            legacy_payment or bool(current.transactions)
        )
        lines = []
        for line in current.lines:
            variant = self.get_variant(line.variant_id)
            price = self.checkout_line_price(current, line)
            undiscounted = self.checkout_line_undiscounted_price(current, line)
            order_line = self._order_line(variant, line.quantity, price, undiscounted)
            if allocates(variant, now):  # tracked, not on preorder (stock_moves.py)
                allocate(order_line, variant)
            elif variant.is_preorder_active(now):  # `allocate_preorders`: a `PreorderAllocation`
                listing = variant.listing_for(channel.id)
                if listing is not None:
                    listing.preorder_sold += line.quantity
            lines.append(order_line)
        user = self._checkout_user(current)
        prices = checkout_prices(self, current)
        voucher = order_voucher(
            self, current, lines, user.email if user else current.email, version
        )
        order = self.create_order(
            channel=channel.slug,
            lines=lines,
            user=user,
            # `CheckoutInfo.get_customer_email` (saleor/checkout/fetch.py): the buyer's account
            # address before saleor/saleor#17753 (`shows_own_email`), the checkout's since.
            email=current.email if user is None or shows_own_email(version) else user.email,
            shipping_price=voucher.shipping_price,
            discounts=voucher.discounts,
            voucher_code=voucher.code,
            paid=paid and legacy_payment,
            legacy_payment=legacy_payment,
            checkout_token=current.token,
            status=OrderStatus.UNFULFILLED if confirmed else OrderStatus.UNCONFIRMED,
            shipping_address=current.shipping_address,
            billing_address=current.billing_address,
            customer_note=current.customer_note,
            metadata=dict(current.metadata),
            gift_cards_used=min(
                current.gift_card_balance,
                prices.subtotal + prices.shipping,
            ),
        )
        if not legacy_payment:
            for moved in current.transactions:
                adopt_transaction(self.next_id, order, moved)
            update_order_amounts(order)
        if user is not None:  # shipping, then billing, as `_create_order` processes them
            if current.shipping_address is not None:
                keep_in_address_book(user, current.shipping_address, self.next_id, billing=False)
            if current.billing_address is not None:
                keep_in_address_book(user, current.billing_address, self.next_id, billing=True)
        del self.checkouts[current.token]
        current.completed_order_id = order.id
        return order

    def _checkout_user(self, checkout: Checkout) -> Customer | None:
        """The order's user: the checkout's, else the active account holding its e-mail
        (`assign_checkout_user` in saleor/checkout/complete_checkout.py, by
        `retrieve_user_by_email`, without case)."""
        if checkout.user_id:
            return self.customers.get(checkout.user_id)
        found = self.find_customer_by_email(checkout.email) if checkout.email else None
        return found if found is not None and found.is_active else None

    def delete_checkout(self, checkout: Checkout) -> Checkout:
        return self.checkouts.pop(checkout.token)

    def delete_expired_checkouts(self, now: datetime | None = None) -> list[Checkout]:
        """Saleor's periodic clean-up (saleor/checkout/tasks.py `delete_expired_checkouts`, the
        same at 3.20.119 and main): checkouts inactive (`last_change`) for 30 days without an
        e-mail or user, for 90 days with one, or for 6 hours without lines, deleted by
        `checkout.utils.delete_checkouts` with no webhook at all; one with money on its
        transactions (`with_transactions`) is spared, paid or not completed."""
        now = now or utcnow()
        expired = []
        for checkout in list(self.checkouts.values()):
            idle = now - checkout.last_change
            owned = checkout.email is not None or checkout.user_id is not None
            if not has_money(checkout) and (
                (not checkout.lines and idle > EMPTY_CHECKOUTS_TIMEDELTA)
                or (not owned and idle > ANONYMOUS_CHECKOUTS_TIMEDELTA)
                or (owned and idle > USER_CHECKOUTS_TIMEDELTA)
            ):
                expired.append(self.checkouts.pop(checkout.token))
        return expired
