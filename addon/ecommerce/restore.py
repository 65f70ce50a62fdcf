"""Exchanging a cart restore link (`restore_tokens.py`) for a new checkout holding its cart.

The storefront exchanges a link through `POST /api/storefront/cart/restore` (`storefront_api.py`)
for a NEW checkout, never the original's token: Saleor gives anyone holding a checkout's token
the checkout of an active channel, signed in or not, and its mutations (addresses, e-mail,
completing it) ask for nothing more (saleor/graphql/checkout/resolvers.py `resolve_checkout`,
since saleor/saleor#16010, so in every Saleor the app supports). So the app copies the
original's lines and e-mail into a checkout of the same channel made with its own token
(`checkoutCreate`: no addresses, no customer, since an app is no user) and hands out that one:
the link grants the cart, not the customer's checkout. The original's voucher code is added to
the copy after (`restore_voucher.py`); one Saleor refuses now is left out and named in the answer.

One copy per cart: the exchange is recorded (`RestoredCheckout`), and from then on the cart is
the copy's (the original's leaves Mailchimp, `CartPusher.push_cart`). The same link (or another
link of the cart) exchanged again returns that copy while Saleor has it, whatever the shopper
did to it since; once it is gone (ordered: Saleor deletes a checkout it turns into an order; or
deleted), the link is refused as `CART_GONE`. A second copy would be a second cart in
Mailchimp, so a second abandoned-cart series for one cart, or one for a shopper who bought; so
two first exchanges at once make one copy too (`restore_claims.py`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy.exc import IntegrityError

from addon.db.types import utcnow
from addon.ecommerce.cart_models import RestoredCheckout
from addon.ecommerce.models import EntityKind
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.restore_claims import claim, release
from addon.ecommerce.restore_lines import (
    QUANTITY_REFUSALS,
    CartToRestore,
    LineInput,
    fit,
    lines_of,
)
from addon.ecommerce.restore_tokens import RestoredCart, key_for, read_link_token
from addon.ecommerce.restore_voucher import VoucherLeftOut, carry_voucher
from addon.errors import ErrorCode, NotFound, UpstreamUnavailable
from addon.installations.models import Installation
from addon.saleor.client import SaleorError
from addon.services import Services


@dataclass(frozen=True)
class NewCheckout:
    """What the storefront gets: the restored checkout, how many lines could not come, and the
    cart's voucher code when Saleor refused it on the copy (told again by later exchanges while
    the copy has no code: not once the shopper applied one)."""

    checkout_id: str
    checkout_token: str
    channel: str
    dropped_lines: int
    reduced_lines: int
    dropped_voucher_code: str | None = None
    dropped_voucher_reason: str | None = None


class _CheckoutError(BaseModel):
    field: str | None = None
    code: str
    message: str | None = None
    variants: list[str] | None = None


class _CreatedCheckout(BaseModel):
    id: str
    token: str


class _CheckoutCreate(BaseModel):
    errors: list[_CheckoutError]
    checkout: _CreatedCheckout | None = None


class _MetadataWritten(BaseModel):
    errors: list[_CheckoutError]  # MetadataError: field, code, message


def _global_id(token: str) -> str:
    return base64.b64encode(f"Checkout:{token}".encode()).decode("ascii")


def _gone() -> NotFound:
    return NotFound(
        "This cart is no longer there: it was ordered or emptied.", code=ErrorCode.CART_GONE
    )


def _copy_gone() -> NotFound:
    return NotFound(
        "This cart was already opened from its link and has since been ordered or closed. "
        "Your cart in the shop shows what is in it now.",
        code=ErrorCode.CART_GONE,
    )


async def _saleor(
    services: Services, installation: Installation, document: str, variables: dict[str, object]
) -> dict[str, object]:
    try:
        return await services.saleor.execute(
            installation.saleor_api_url, installation.app_token, document, variables
        )
    except SaleorError as exc:
        raise UpstreamUnavailable(
            f"Could not restore the cart in Saleor: {exc}", code=ErrorCode.SALEOR_ERROR
        ) from exc


async def _read(
    services: Services, installation: Installation, checkout_id: str
) -> CartToRestore | None:
    data = await _saleor(
        services, installation, "ecommerce_checkout_to_restore", {"id": checkout_id}
    )
    raw = data.get("checkout")
    return CartToRestore.model_validate(raw) if raw else None


async def was_restored(services: Services, installation_id: int, checkout_id: str) -> bool:
    """Whether a restore link of this checkout's cart was exchanged for a copy: the copy's cart
    is the shopper's from then on (`CartPusher.push_cart`)."""
    async with services.db.session() as session:
        found = await session.scalar(
            RestoredCheckout.of_installation(installation_id)
            .where(RestoredCheckout.checkout_id == checkout_id)
            .with_only_columns(RestoredCheckout.id)
        )
    return found is not None


async def read_link(services: Services, installation: Installation, token: str) -> RestoredCart:
    """The cart a restore link names (refused when changed, foreign or expired)."""
    lifetime = services.settings.cart_restore_link_hours * 3600
    return read_link_token(await key_for(services, installation.id), token, lifetime)


async def restore(
    services: Services, installation: Installation, cart: RestoredCart
) -> NewCheckout:
    """The checkout a restore link is exchanged for: the copy made before while Saleor has it,
    else, the first time, a new copy of the original cart (refused when the original is gone,
    and once the copy made is gone: it was ordered or deleted). The first exchange claims the
    cart while it makes the copy: another meanwhile is asked to try again (`restore_claims`)."""
    known = await _known(services, installation.id, cart.checkout_id)
    if known is None:
        claimed_at = await claim(services, installation.id, cart.checkout_id)
        try:
            # Recorded by an exchange that ended between the read above and the claim.
            known = await _known(services, installation.id, cart.checkout_id)
            if known is None:
                return await _first(services, installation, cart)
        finally:
            await release(services, installation.id, cart.checkout_id, claimed_at)
    data = await _saleor(
        services,
        installation,
        "ecommerce_restored_checkout",
        {"id": _global_id(known.restored_token.get_secret_value())},
    )
    # Emptied, given addresses or an account: still the shopper's cart, theirs to go on with.
    # Gone (ordered, or deleted by Saleor): nothing to bring back; a new copy would be a new
    # cart Mailchimp chases, for a shopper who may have bought it already.
    copy = data.get("checkout")
    if isinstance(copy, dict):
        # A code the shopper applied since (the one refused, or another) is theirs now.
        return _answer(known, voucher_left_out=not copy.get("voucherCode"))
    raise _copy_gone()


async def _known(
    services: Services, installation_id: int, checkout_id: str
) -> RestoredCheckout | None:
    async with services.db.session() as session:
        found: RestoredCheckout | None = await session.scalar(
            RestoredCheckout.of_installation(installation_id).where(
                RestoredCheckout.checkout_id == checkout_id
            )
        )
        return found


async def _first(services: Services, installation: Installation, cart: RestoredCart) -> NewCheckout:
    """The first exchange: a copy of the original cart, recorded."""
    original = await _read(services, installation, cart.checkout_id)
    if original is None or not original.lines:
        raise _gone()
    created, counts = await _copy(services, installation, original)
    await _carry(services, installation, original, created)

    async def run(document: str, variables: dict[str, object]) -> dict[str, object]:
        return await _saleor(services, installation, document, variables)

    dropped = await carry_voucher(run, created.id, original.voucher_code)
    # A copy recorded meanwhile by another exchange wins (`_record`), with its own voucher.
    return await _record(
        services, installation.id, cart.checkout_id, created, original, counts, dropped
    )


@dataclass(frozen=True)
class _Counts:
    dropped: int = 0
    reduced: int = 0


async def _copy(
    services: Services, installation: Installation, original: CartToRestore
) -> tuple[_CreatedCheckout, _Counts]:
    """`checkoutCreate` with the original's lines and e-mail. A line Saleor refuses naming its
    variant (no longer listed, available or published in the channel) is dropped and counted;
    a line whose variant was deleted is already gone from the original (Saleor deletes it with
    the variant). Refused for stock or a quantity limit (naming no variant), the lines are cut
    to what one checkout may hold now (`restore_lines.fit`), once."""
    lines = lines_of(original)
    counts = _Counts()
    fitted = False
    while lines:
        answer = await _create(services, installation, original, lines)
        if answer.checkout is not None and not answer.errors:
            return answer.checkout, counts
        refused = {variant for error in answer.errors for variant in error.variants or []}
        kept = [line for line in lines if line.variant_id not in refused]
        if refused and len(kept) < len(lines):
            counts = _Counts(counts.dropped + len(lines) - len(kept), counts.reduced)
            lines = kept
            continue
        if not fitted and {error.code for error in answer.errors} & QUANTITY_REFUSALS:
            fitted = True
            cut = fit(lines, original)
            counts = _Counts(counts.dropped + cut.dropped, counts.reduced + cut.reduced)
            if cut.lines != lines:
                lines = cut.lines
                continue
        # The channel, or stock sold since the cart was read: nothing the copy can leave out.
        reasons = "; ".join(f"{e.code}: {e.message}" for e in answer.errors) or "no checkout"
        raise UpstreamUnavailable(
            f"Saleor refused to restore the cart ({reasons}).", code=ErrorCode.SALEOR_ERROR
        )
    raise _gone()  # none of its products can be bought any more


async def _create(
    services: Services,
    installation: Installation,
    original: CartToRestore,
    lines: list[LineInput],
) -> _CheckoutCreate:
    variables: dict[str, object] = {
        "channel": original.channel.slug,
        "email": original.contact,
        "lines": [line.model_dump(by_alias=True) for line in lines],
    }
    data = await _saleor(services, installation, "ecommerce_checkout_restore", variables)
    try:
        return _CheckoutCreate.model_validate(data.get("checkoutCreate"))
    except ValidationError as exc:
        raise UpstreamUnavailable(
            f"Saleor's answer to checkoutCreate is not understood: {exc}",
            code=ErrorCode.SALEOR_ERROR,
        ) from exc


async def _carry(
    services: Services,
    installation: Installation,
    original: CartToRestore,
    created: _CreatedCheckout,
) -> None:
    """Write the original's consent and campaign attribution on the copy, which Saleor copies
    to the order made of it (`checkoutCreate`'s input has no metadata in 3.20). Refused, the
    exchange fails rather than hand out a copy whose order would lose the consent."""
    if not original.carried:
        return
    items = [{"key": key, "value": value} for key, value in original.carried.items()]
    variables: dict[str, object] = {"id": created.id, "input": items}
    # The generic `updateMetadata` document (one for every object the app writes metadata on).
    data = await _saleor(services, installation, "subscriptions_update_metadata", variables)
    try:
        answer = _MetadataWritten.model_validate(data.get("updateMetadata"))
    except ValidationError as exc:
        raise UpstreamUnavailable(
            f"Saleor's answer to updateMetadata is not understood: {exc}",
            code=ErrorCode.SALEOR_ERROR,
        ) from exc
    if answer.errors:
        reasons = "; ".join(f"{e.code}: {e.message}" for e in answer.errors)
        raise UpstreamUnavailable(
            f"Saleor refused the restored cart's consent ({reasons}).",
            code=ErrorCode.SALEOR_ERROR,
        )


async def _record(
    services: Services,
    installation_id: int,
    checkout_id: str,
    created: _CreatedCheckout,
    original: CartToRestore,
    counts: _Counts,
    dropped: VoucherLeftOut | None,
) -> NewCheckout:
    """Remember the new checkout for this cart. Two exchanges racing (past a claim that expired,
    `restore_claims`): the first one recorded wins and both storefronts get it."""
    query = RestoredCheckout.of_installation(installation_id).where(
        RestoredCheckout.checkout_id == checkout_id
    )
    try:
        async with services.db.transaction() as session:
            row = await session.scalar(query)
            if row is None:
                row = RestoredCheckout(
                    installation_id=installation_id,
                    checkout_id=checkout_id,
                    restored_token=SecretStr(created.token),
                    channel_slug=original.channel.slug,
                    dropped_lines=counts.dropped,
                    reduced_lines=counts.reduced,
                    dropped_voucher_code=dropped.code if dropped else None,
                    dropped_voucher_reason=dropped.reason if dropped else None,
                    created_at=utcnow(),
                )
                session.add(row)
                # The original's cart gives way to the copy's (`CartPusher.push_cart`).
                await enqueue_push(
                    session, installation_id, original.channel.slug, EntityKind.CART, checkout_id
                )
            return _answer(row)  # the new copy, or one recorded meanwhile
    except IntegrityError:
        async with services.db.session() as session:
            winner = await session.scalar(query)
            assert winner is not None
            return _answer(winner)


def _answer(row: RestoredCheckout, *, voucher_left_out: bool = True) -> NewCheckout:
    """The recorded copy; with the voucher code Saleor refused on it unless `voucher_left_out`
    is False (the copy has a code now)."""
    token = row.restored_token.get_secret_value()
    return NewCheckout(
        checkout_id=_global_id(token),
        checkout_token=token,
        channel=row.channel_slug,
        dropped_lines=row.dropped_lines,
        reduced_lines=row.reduced_lines,
        dropped_voucher_code=row.dropped_voucher_code if voucher_left_out else None,
        dropped_voucher_reason=row.dropped_voucher_reason if voucher_left_out else None,
    )
