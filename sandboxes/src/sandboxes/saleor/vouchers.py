"""Vouchers in the sandbox: what the dashboard's voucher mutations do, with their webhooks, and
orders placed with a voucher code (`SaleorSandbox.vouchers`). Checked against Saleor's source
(3.20.119 and 3.24 behave alike here); each rule names where it comes from. The mutations'
input cleaning and their errors are in `voucher_input.py`.

Webhooks (saleor/graphql/discount/mutations/voucher/, `post_save_action`; all need
MANAGE_DISCOUNTS, saleor/webhook/event_types.py): `voucherCreate` VOUCHER_CODES_CREATED *then*
VOUCHER_CREATED; a voucher's channel values are set by `voucherChannelListingUpdate`, which
fires VOUCHER_UPDATED; `voucherUpdate` fires VOUCHER_UPDATED only when its input names a voucher
field (`if cleaned_input:` after `addCodes` is popped), so adding codes alone fires
VOUCHER_CODES_CREATED only; `voucherCodeBulkDelete` VOUCHER_CODES_DELETED only (even for no
codes); `voucherDelete` VOUCHER_DELETED, rendered after the delete cascaded (no codes, no
listings); metadata changes VOUCHER_METADATA_UPDATED.

Orders (saleor/checkout/utils.py `get_voucher_for_checkout`, saleor/discount/utils/voucher.py
`validate_voucher`, `increase_voucher_usage`): the code must be active and its voucher active in
the channel (started, not ended, under its usage limit) and valid for the order (minimum spend
and quantity, once per customer, staff only), else "Voucher not applicable". An ENTIRE_ORDER
voucher is one OrderDiscount (type VOUCHER) off the subtotal; a SHIPPING voucher's lowers the
shipping price; a SPECIFIC_PRODUCT (or apply-once-per-order) voucher lowers the unit prices of
the lines it applies to, which carry its `voucherCode`, and shows in `order.discounts` only with
the channel's legacy propagation. A code's `used` grows only for a voucher with a usage limit; a
single-use code is deactivated; no voucher webhook fires for either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .checkout_vouchers import placed_line_voucher, placed_voucher_fields
from .models import utcnow
from .money import currency_places
from .order_models import DiscountValueType, Order, OrderDiscount, OrderDiscountType, OrderLine
from .voucher_input import (
    UNSET,
    Unset,
    VoucherRefused,
    camel,
    channel_listing,
    check_dates,
    new_codes,
    validated,
)
from .voucher_models import (
    VOUCHER_INPUT_FIELDS,
    Voucher,
    VoucherChannelListing,
    VoucherCode,
    VoucherType,
    apply_line_level,
    discount_amount,
)

if TYPE_CHECKING:
    from .sandbox import SaleorSandbox


class VoucherDeleteCrashed(RuntimeError):
    """`voucherDelete` of a voucher without codes: Saleor reads `instance.codes.first().code`
    before deleting (voucher_delete.py), so it fails with an internal error, voucher kept."""


def _not_applicable() -> VoucherRefused:
    # checkoutComplete (saleor/checkout/complete_checkout.py): any NotApplicable ends as this.
    return VoucherRefused("voucherCode", "VOUCHER_NOT_APPLICABLE", "Voucher not applicable")


class SandboxVouchers:
    def __init__(self, sandbox: SaleorSandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    # -- lookups ---------------------------------------------------------------------------

    def voucher_of(self, code: str) -> Voucher:
        for voucher in self.store.vouchers.values():
            if voucher.code_named(code) is not None:
                return voucher
        raise VoucherRefused("code", "NOT_FOUND", f"Voucher with code {code!r} does not exist.")

    def _used(self, voucher: Voucher) -> bool:
        """voucher_update.py `is_voucher_used`: a code on an order of this voucher or on a line."""
        codes = {c.code for c in voucher.codes}
        return any(
            order.voucher_code in codes or any(ln.voucher_code in codes for ln in order.lines)
            for order in self.store.orders.values()
        )

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
        """`voucherCreate(input: {addCodes})`, then `voucherChannelListingUpdate` (channel slug
        → discount value) when `channels` is not empty. `fields`: other `VoucherInput` fields."""
        if unknown := set(fields) - VOUCHER_INPUT_FIELDS:
            raise TypeError(f"VoucherInput has no field {sorted(unknown)}")
        if not codes:  # voucher_create.py `clean_codes`: `validate_one_of_args_is_in_mutation`
            raise VoucherRefused(
                None, "GRAPHQL_ERROR", "At least one of arguments is required: 'code', 'addCodes'."
            )
        voucher = validated(
            {
                "id": self.store.next_id(),
                "name": name,
                "type": type,
                "discount_value_type": value_type,
                "metadata": dict(metadata or {}),
                **fields,
            }
        )
        check_dates(voucher)
        voucher.codes = new_codes(self.store, voucher, codes)
        voucher.channel_listings = [
            channel_listing(
                self.store, voucher, slug, Decimal(str(value)), (min_spent or {}).get(slug)
            )
            for slug, value in channels.items()
        ]
        self.store.vouchers[voucher.id] = voucher
        await self.sandbox.emit("VOUCHER_CODES_CREATED", list(voucher.codes))
        await self.sandbox.emit("VOUCHER_CREATED", voucher)
        if voucher.channel_listings:
            await self.sandbox.emit("VOUCHER_UPDATED", voucher)
        return voucher

    async def update(self, voucher: Voucher, **changes: Any) -> Voucher:
        """`voucherUpdate` of the voucher's own fields (name, dates, value type, ...)."""
        if unknown := set(changes) - VOUCHER_INPUT_FIELDS:
            raise TypeError(f"VoucherInput has no field {sorted(unknown)}")
        current = self.store.vouchers[voucher.id]
        # voucher_update.py `clean_voucher_usage_setting`: fixed once a code was used.
        for field in ("single_use", "usage_limit"):
            if (
                field in changes
                and changes[field] != getattr(current, field)
                and self._used(current)
            ):
                setting = field.replace("_", " ")
                raise VoucherRefused(
                    camel(field),
                    "VOUCHER_ALREADY_USED",
                    f"Cannot change {setting} setting when any voucher code has already been used.",
                )
        check_dates(validated({**current.model_dump(), **changes}))
        for key, value in changes.items():
            setattr(current, key, value)
        if changes:  # voucher_update.py `post_save_action`: `if cleaned_input:`
            await self.sandbox.emit("VOUCHER_UPDATED", current)
        return current

    async def set_channel(
        self,
        voucher: Voucher,
        channel: str,
        value: Decimal | int | str | None,
        min_spent: Decimal | Unset | None = UNSET,
    ) -> Voucher:
        """`voucherChannelListingUpdate`: add or change a channel's value (its minimum spend
        kept unless given); None removes the channel."""
        current = self.store.vouchers[voucher.id]
        chan = self.store.channel_by_slug(channel)
        kept = [lst for lst in current.channel_listings if lst.channel_id != chan.id]
        if value is not None:
            kept.append(
                channel_listing(self.store, current, channel, Decimal(str(value)), min_spent)
            )
        current.channel_listings = kept
        await self.sandbox.emit("VOUCHER_UPDATED", current)
        return current

    async def add_codes(self, voucher: Voucher, codes: Sequence[str]) -> list[VoucherCode]:
        """`voucherUpdate(input: {addCodes})`: VOUCHER_CODES_CREATED only (nothing else in the
        input, so no VOUCHER_UPDATED)."""
        current = self.store.vouchers[voucher.id]
        added = new_codes(self.store, current, codes)
        current.codes = [*current.codes, *added]
        if added:
            await self.sandbox.emit("VOUCHER_CODES_CREATED", added)
        return added

    async def delete_codes(self, codes: Sequence[VoucherCode]) -> None:
        """`voucherCodeBulkDelete`: VOUCHER_CODES_DELETED only (no VOUCHER_UPDATED), fired even
        when none of the codes still existed (`post_save_actions` is unconditional)."""
        gone = {c.id for c in codes}
        deleted = []
        for voucher in self.store.vouchers.values():
            deleted += [c for c in voucher.codes if c.id in gone]
            voucher.codes = [c for c in voucher.codes if c.id not in gone]
        await self.sandbox.emit("VOUCHER_CODES_DELETED", deleted)

    async def delete(self, voucher: Voucher) -> Voucher:
        """`voucherDelete`: VOUCHER_DELETED, rendered from the deleted voucher, whose codes and
        channel listings went with it (CASCADE; the payload is generated after the delete)."""
        current = self.store.vouchers[voucher.id]
        if not current.codes:
            raise VoucherDeleteCrashed("'NoneType' object has no attribute 'code'")
        removed = self.store.vouchers.pop(voucher.id)
        removed = removed.model_copy(update={"codes": [], "channel_listings": []})
        await self.sandbox.emit("VOUCHER_DELETED", removed)
        return removed

    async def update_metadata(self, voucher: Voucher, metadata: dict[str, str]) -> Voucher:
        """`updateMetadata` on a voucher: VOUCHER_METADATA_UPDATED (not VOUCHER_UPDATED), only
        when the metadata changed (saleor/graphql/meta/mutations/base.py `mutate`:
        `has_changed`)."""
        current = self.store.vouchers[voucher.id]
        before = dict(current.metadata)
        current.metadata = {**current.metadata, **metadata}
        if current.metadata != before:
            await self.sandbox.emit("VOUCHER_METADATA_UPDATED", current)
        return current

    # -- orders ----------------------------------------------------------------------------

    def _check_applicable(
        self,
        voucher: Voucher,
        code: VoucherCode,
        lines: Sequence[OrderLine],
        fields: dict[str, Any],
    ) -> tuple[VoucherChannelListing, str | None]:
        """`get_voucher_for_checkout` (code active, voucher `active_in_channel`) and
        `validate_voucher` (min spent, min quantity, once per customer, staff only)."""
        chan = self.store.channel_by_slug(fields["channel"])
        listing = voucher.listing_for(chan.id)
        if not code.is_active or listing is None or not chan.is_active:
            raise _not_applicable()
        if not voucher.is_active_at(utcnow()):
            raise _not_applicable()
        subtotal = sum((ln.unit_price_gross * ln.quantity for ln in lines), Decimal(0))
        if listing.min_spent and subtotal < listing.min_spent:
            raise _not_applicable()
        quantity = sum(ln.quantity for ln in lines)
        if voucher.min_checkout_items_quantity and voucher.min_checkout_items_quantity > quantity:
            raise _not_applicable()
        user = fields.get("user")
        # `get_customer_email_for_voucher_usage`: the user's e-mail before the order's.
        email = user.email if user is not None else fields.get("email")
        if voucher.apply_once_per_customer and (
            not email or any(email in c.customer_emails for c in voucher.codes)
        ):
            raise _not_applicable()
        if voucher.only_for_staff and (user is None or not user.is_staff):
            raise _not_applicable()
        return listing, email

    async def create_order(
        self,
        code: str,
        channel: str | None = None,
        lines: Sequence[OrderLine] = (),
        *,
        shipping_price: Decimal = Decimal("0"),
        product_ids: Iterable[int] | None = None,
        legacy_propagation: bool | None = None,
        discounts: Sequence[OrderDiscount] = (),
        **fields: Any,
    ) -> Order:
        """An order placed with `code` (`checkoutComplete`): the voucher's discount applied as
        Saleor records it, the code's usage counted, ORDER_CREATED etc. emitted.
        `product_ids`: the products a SPECIFIC_PRODUCT voucher applies to (all if None);
        `discounts`: the order's other discounts (a manual order discount drops an order-level
        voucher's, as `create_or_update_discount_object_from_order_level_voucher` does);
        `legacy_propagation`: the channel's (default) or this. Recorded as
        `checkout_vouchers.order_voucher` records it: an order-level voucher FIXED of the amount,
        a line-level one per `placed_line_voucher`."""
        voucher = self.voucher_of(code)
        voucher_code = voucher.code_named(code)
        assert voucher_code is not None
        chan = self.store.channel_by_slug(channel) if channel else self.store.default_channel()
        listing, email = self._check_applicable(
            voucher, voucher_code, lines, {**fields, "channel": chan.slug}
        )
        places = currency_places(chan.currency_code)
        value, kind = listing.discount_value, voucher.discount_value_type
        others = list(discounts)
        discounts = []
        manual = any(d.type is OrderDiscountType.MANUAL for d in others)
        lines = [line.model_copy() for line in lines]
        common = placed_voucher_fields(voucher, code)
        if voucher.type is VoucherType.ENTIRE_ORDER and not voucher.apply_once_per_order:
            subtotal = sum((ln.unit_price_gross * ln.quantity for ln in lines), Decimal(0))
            if not manual:  # a manual order discount replaces the voucher's
                amount = discount_amount(kind, value, subtotal, places)
                discounts.append(self.store.new_discount(amount, **common))
        elif voucher.type is VoucherType.SHIPPING:
            amount = discount_amount(kind, value, shipping_price, places)
            shipping_price -= amount
            discounts.append(
                self.store.new_discount(amount, in_prices=True, shipping_part=amount, **common)
            )
        else:
            apply_line_level(voucher, code, kind, value, lines, product_ids, places)
            if legacy_propagation is None:
                legacy_propagation = chan.use_legacy_line_discount_propagation_for_order
            discounts += placed_line_voucher(
                self.store, voucher, code, lines, self.sandbox.version, legacy_propagation, places
            )
        voucher.count_use(voucher_code, email)
        return await self.sandbox.create_order(
            chan.slug,
            lines,
            shipping_price=shipping_price,
            discounts=[*others, *discounts],
            voucher_code=code,
            **fields,
        )
