"""Vouchers in the sandbox: what the dashboard's voucher mutations do, with their webhooks, and
orders placed with a voucher code (`SaleorSandbox.vouchers`).

Webhooks as Saleor fires them (saleor/graphql/discount/mutations/voucher/): `voucherCreate`
VOUCHER_CREATED then VOUCHER_CODES_CREATED; `voucherUpdate` VOUCHER_UPDATED and, with
`addCodes`, VOUCHER_CODES_CREATED; `voucherChannelListingUpdate` VOUCHER_UPDATED;
`voucherCodeBulkDelete` VOUCHER_CODES_DELETED only; `voucherDelete` VOUCHER_DELETED (its codes go
with it, no codes event); metadata changes VOUCHER_METADATA_UPDATED. All need MANAGE_DISCOUNTS
(saleor/webhook/event_types.py). A code is unique across vouchers ("Promo code already exists.",
ALREADY_EXISTS); a percentage value is at most 100; the end date must follow the start.

Orders (saleor/discount/utils/voucher.py): an ENTIRE_ORDER voucher is one OrderDiscount (type
VOUCHER) off the subtotal; a SHIPPING voucher's OrderDiscount lowers the shipping price; a
SPECIFIC_PRODUCT (or apply-once-per-order) voucher lowers the unit prices of the lines it applies
to, which carry its `voucherCode`, and shows in `order.discounts` only with the channel's legacy
propagation. A code's `used` grows only for a voucher with a usage limit, and a single-use code is
deactivated instead (`increase_voucher_usage`); no voucher webhook fires for either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .models import DiscountValueType, Order, OrderDiscount, OrderDiscountType, OrderLine
from .voucher_models import Voucher, VoucherChannelListing, VoucherCode, VoucherType

if TYPE_CHECKING:
    from .sandbox import SaleorSandbox

CENT = Decimal("0.01")


class VoucherRefused(ValueError):
    """What Saleor's mutation answers with `errors` (field, code, message)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code = field, code


def _discount(value_type: DiscountValueType, value: Decimal, base: Decimal) -> Decimal:
    """`Voucher.get_discount_amount_for`: never more than the price it applies to."""
    if value_type is DiscountValueType.PERCENTAGE:
        amount = (base * value / 100).quantize(CENT)
    else:
        amount = value
    return min(max(amount, Decimal(0)), base)


class SandboxVouchers:
    def __init__(self, sandbox: SaleorSandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    # -- lookups ---------------------------------------------------------------------------

    def _all_codes(self) -> dict[str, VoucherCode]:
        return {c.code: c for v in self.store.vouchers.values() for c in v.codes}

    def voucher_of(self, code: str) -> Voucher:
        for voucher in self.store.vouchers.values():
            if voucher.code_named(code) is not None:
                return voucher
        raise VoucherRefused("code", "NOT_FOUND", f"Voucher with code {code!r} does not exist.")

    def _new_codes(self, voucher: Voucher, codes: Iterable[str]) -> list[VoucherCode]:
        wanted = [c.strip() for c in codes]
        if len(set(wanted)) != len(wanted):
            raise VoucherRefused("addCodes", "DUPLICATED_INPUT_ITEM", "Codes must be unique.")
        taken = [c for c in wanted if c in self._all_codes()]
        if taken:
            raise VoucherRefused("codes", "ALREADY_EXISTS", "Promo code already exists.")
        return [VoucherCode(id=self.store.next_id(), voucher_id=voucher.id, code=c) for c in wanted]

    def _listing(
        self, voucher: Voucher, channel: str, value: Decimal, min_spent: Decimal | None
    ) -> VoucherChannelListing:
        chan = self.store.channel_by_slug(channel)
        if voucher.discount_value_type is DiscountValueType.PERCENTAGE and value > 100:
            raise VoucherRefused(
                "discountValue", "INVALID", "Invalid discount value (must be at most 100)."
            )
        return VoucherChannelListing(
            id=self.store.next_id(),
            channel_id=chan.id,
            discount_value=value,
            currency=chan.currency_code,
            min_spent=min_spent,
        )

    @staticmethod
    def _check_dates(voucher: Voucher) -> None:
        if voucher.end_date is not None and voucher.end_date <= voucher.start_date:
            raise VoucherRefused("endDate", "INVALID", "End date must be after the start date.")

    # -- mutations (each emits what Saleor's does) ---------------------------------------------

    async def create(
        self,
        name: str,
        codes: Sequence[str],
        *,
        channels: Mapping[str, Decimal | int | str],
        type: VoucherType = VoucherType.ENTIRE_ORDER,
        value_type: DiscountValueType = DiscountValueType.FIXED,
        min_spent: Mapping[str, Decimal] | None = None,
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> Voucher:
        """`voucherCreate` + `voucherChannelListingUpdate` (channel slug → discount value)."""
        voucher = Voucher(
            id=self.store.next_id(),
            name=name,
            type=type,
            discount_value_type=value_type,
            metadata=dict(metadata or {}),
            **fields,
        )
        self._check_dates(voucher)
        voucher.codes = self._new_codes(voucher, codes)
        voucher.channel_listings = [
            self._listing(voucher, slug, Decimal(str(value)), (min_spent or {}).get(slug))
            for slug, value in channels.items()
        ]
        self.store.vouchers[voucher.id] = voucher
        await self.sandbox.emit("VOUCHER_CREATED", voucher)
        if voucher.codes:
            await self.sandbox.emit("VOUCHER_CODES_CREATED", list(voucher.codes))
        return voucher

    async def update(self, voucher: Voucher, **changes: Any) -> Voucher:
        """`voucherUpdate` of the voucher's own fields (name, dates, value type, ...)."""
        current = self.store.vouchers[voucher.id]
        trial = current.model_copy(update=changes)
        self._check_dates(trial)
        for key, value in changes.items():
            setattr(current, key, value)
        await self.sandbox.emit("VOUCHER_UPDATED", current)
        return current

    async def set_channel(
        self,
        voucher: Voucher,
        channel: str,
        value: Decimal | int | str | None,
        min_spent: Decimal | None = None,
    ) -> Voucher:
        """`voucherChannelListingUpdate`: add or change a channel's value; None removes it."""
        current = self.store.vouchers[voucher.id]
        chan = self.store.channel_by_slug(channel)
        kept = [lst for lst in current.channel_listings if lst.channel_id != chan.id]
        if value is not None:
            kept.append(self._listing(current, channel, Decimal(str(value)), min_spent))
        current.channel_listings = kept
        await self.sandbox.emit("VOUCHER_UPDATED", current)
        return current

    async def add_codes(self, voucher: Voucher, codes: Sequence[str]) -> list[VoucherCode]:
        """`voucherUpdate(input: {addCodes})`: VOUCHER_UPDATED, then VOUCHER_CODES_CREATED."""
        current = self.store.vouchers[voucher.id]
        added = self._new_codes(current, codes)
        current.codes = [*current.codes, *added]
        await self.sandbox.emit("VOUCHER_UPDATED", current)
        await self.sandbox.emit("VOUCHER_CODES_CREATED", added)
        return added

    async def delete_codes(self, codes: Sequence[VoucherCode]) -> None:
        """`voucherCodeBulkDelete`: VOUCHER_CODES_DELETED only (no VOUCHER_UPDATED)."""
        gone = {c.id for c in codes}
        deleted = []
        for voucher in self.store.vouchers.values():
            deleted += [c for c in voucher.codes if c.id in gone]
            voucher.codes = [c for c in voucher.codes if c.id not in gone]
        if deleted:
            await self.sandbox.emit("VOUCHER_CODES_DELETED", deleted)

    async def delete(self, voucher: Voucher) -> Voucher:
        """`voucherDelete`: VOUCHER_DELETED, rendered from the deleted voucher."""
        removed = self.store.vouchers.pop(voucher.id)
        await self.sandbox.emit("VOUCHER_DELETED", removed)
        return removed

    async def update_metadata(self, voucher: Voucher, metadata: dict[str, str]) -> Voucher:
        """`updateMetadata` on a voucher: VOUCHER_METADATA_UPDATED (not VOUCHER_UPDATED)."""
        current = self.store.vouchers[voucher.id]
        current.metadata = {**current.metadata, **metadata}
        await self.sandbox.emit("VOUCHER_METADATA_UPDATED", current)
        return current

    # -- orders ----------------------------------------------------------------------------

    async def create_order(
        self,
        code: str,
        channel: str | None = None,
        lines: Sequence[OrderLine] = (),
        *,
        shipping_price: Decimal = Decimal("0"),
        product_ids: Iterable[int] | None = None,
        legacy_propagation: bool = False,
        discounts: Sequence[OrderDiscount] = (),
        **fields: Any,
    ) -> Order:
        """An order placed with `code` (`checkoutComplete`): the voucher's discount applied as
        Saleor records it, the code's usage counted, ORDER_CREATED etc. emitted.
        `product_ids`: the products a SPECIFIC_PRODUCT voucher applies to (all if None);
        `discounts`: the order's other discounts (a manual order discount drops an order-level
        voucher's, as `create_or_update_discount_object_from_order_level_voucher` does)."""
        voucher = self.voucher_of(code)
        voucher_code = voucher.code_named(code)
        assert voucher_code is not None
        chan = self.store.channel_by_slug(channel) if channel else self.store.default_channel()
        listing = voucher.listing_for(chan.id)
        if listing is None or not voucher_code.is_active:
            raise VoucherRefused("promoCode", "VOUCHER_NOT_APPLICABLE", "Voucher not applicable")
        value, kind = listing.discount_value, voucher.discount_value_type
        others = list(discounts)
        discounts = []
        manual = any(d.type is OrderDiscountType.MANUAL for d in others)
        lines = [line.model_copy() for line in lines]
        common: dict[str, Any] = {
            "type": OrderDiscountType.VOUCHER,
            "name": voucher.name,
            "value_type": kind,
            "value": value,
            "reason": f"Voucher code: {code}",
        }
        if voucher.type is VoucherType.ENTIRE_ORDER and not voucher.apply_once_per_order:
            subtotal = sum((ln.unit_price_gross * ln.quantity for ln in lines), Decimal(0))
            if not manual:  # a manual order discount replaces the voucher's
                amount = _discount(kind, value, subtotal)
                discounts.append(self.store.new_discount(amount, **common))
        elif voucher.type is VoucherType.SHIPPING:
            amount = _discount(kind, value, shipping_price)
            shipping_price -= amount
            discounts.append(
                self.store.new_discount(amount, in_prices=True, shipping=True, **common)
            )
        else:
            amount = self._line_level(voucher, code, kind, value, lines, product_ids)
            if legacy_propagation:
                discounts.append(self.store.new_discount(amount, in_prices=True, **common))
        if voucher.usage_limit:
            voucher_code.used += 1
        if voucher.single_use:
            voucher_code.is_active = False
        return await self.sandbox.create_order(
            chan.slug,
            lines,
            shipping_price=shipping_price,
            discounts=[*others, *discounts],
            voucher_code=code,
            **fields,
        )

    @staticmethod
    def _line_level(
        voucher: Voucher,
        code: str,
        kind: DiscountValueType,
        value: Decimal,
        lines: list[OrderLine],
        product_ids: Iterable[int] | None,
    ) -> Decimal:
        """Lower the unit prices of the lines the voucher applies to (only the cheapest unit
        with apply-once-per-order); the lines carry the code. Returns the total discount."""
        wanted = set(product_ids) if product_ids is not None else None
        eligible = [ln for ln in lines if wanted is None or ln.product_id in wanted]
        total = Decimal(0)
        if voucher.apply_once_per_order and eligible:
            cheapest = min(eligible, key=lambda ln: ln.unit_price_gross)
            off = _discount(kind, value, cheapest.unit_price_gross)
            # One unit discounted, spread over the line's units as Saleor's unit price does.
            per_unit = (off / cheapest.quantity).quantize(CENT)
            _lower(cheapest, per_unit, code)
            return per_unit * cheapest.quantity
        for line in eligible:
            per_unit = _discount(kind, value, line.unit_price_gross)
            _lower(line, per_unit, code)
            total += per_unit * line.quantity
        return total


def _lower(line: OrderLine, per_unit: Decimal, code: str) -> None:
    gross = line.unit_price_gross - per_unit
    line.unit_price_gross = gross
    line.unit_price_net = (gross / (1 + line.tax_rate)).quantize(CENT)
    line.voucher_code = code
