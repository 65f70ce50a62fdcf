"""``checkoutCreate`` as Saleor runs it (saleor/graphql/checkout/mutations/checkout_create.py,
``CheckoutCreate.perform_mutation``), for the part a storefront or an app uses: a channel, lines
and an e-mail. Read in Saleor's source (commit 723cd4e; the same checks at tag 3.20.119):

* No permission: anyone may create a checkout. It belongs to the signed-in customer calling
  (``get_instance``: ``instance.user = info.context.user``), whose e-mail is the default
  (``clean_input``); an app's call (``info.context.user`` is None) attaches no customer.
* The channel (``clean_channel``, saleor/graphql/channel/utils.py): an unknown slug is
  ``NOT_FOUND``, an inactive channel ``CHANNEL_INACTIVE`` (both on ``channel``); none given
  takes the default channel, which exists only when the store has one channel
  (``get_default_channel``), else ``MISSING_CHANNEL_SLUG``.
* The lines (``clean_checkout_lines``), in this order: an id that names no variant is
  ``GRAPHQL_ERROR`` on ``variantId`` (``get_nodes_or_error``); lines of one variant are added up
  (``group_lines_input_on_add``); a product not available for purchase in the channel is
  ``PRODUCT_UNAVAILABLE_FOR_PURCHASE``, a variant without a channel listing
  ``UNAVAILABLE_VARIANT_IN_CHANNEL``, a product not published ``PRODUCT_NOT_PUBLISHED`` (each on
  ``lines``, naming the ``variants``); then ``check_lines_quantity``
  (saleor/graphql/checkout/mutations/utils.py, saleor/warehouse/availability.py): a quantity
  below 1 is ``ZERO_QUANTITY``, more than the variant's ``quantity_limit_per_customer`` (else
  the site's ``limit_quantity_per_checkout``, default 50, saleor/site/models.py)
  ``QUANTITY_GREATER_THAN_LIMIT`` (the first such line), more than the stock of a tracked
  variant (or any, without a stock row), or than a preorder's thresholds leave,
  ``INSUFFICIENT_STOCK`` (every such line, one error each: stock_checks.py). All on
  ``quantity``, none naming ``variants``.
* The e-mail is the model's ``EmailField``, checked by ``full_clean`` after the lines: a malformed
  one is ``INVALID`` on ``email``.
* ``CHECKOUT_CREATED`` is sent (``call_checkout_event``); ``created`` is always true.

* Lines are checked as ``clean_checkout_lines`` does, in its order: a product not listed in the
  channel or not yet available for purchase there ``PRODUCT_UNAVAILABLE_FOR_PURCHASE``, a variant
  without a price there ``UNAVAILABLE_VARIANT_IN_CHANNEL``, a product not published there
  ``PRODUCT_NOT_PUBLISHED`` (``is_published`` alone: its publication date is not checked,
  saleor/graphql/checkout/mutations/utils.py ``get_not_published_variants``).
``lines`` is required in Saleor 3.20 (``[CheckoutLineInput!]!`` in
shared/contracts/saleor-schema-3.20.graphql) and optional now; the sandbox serves the current
type and refuses an omitted ``lines`` when it plays 3.20, as that schema's validation would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from graphql import GraphQLError

from .context import api_context
from .ids import InvalidGlobalId, from_global_id, to_global_id
from .models import Channel, ProductPublication, ProductVariant, utcnow
from .stock_checks import InsufficientStock, QuantityOverLimit, check_checkout_lines, variant_label
from .store import SaleorStore
from .store_base import NotFound
from .store_checkouts import LineSpec
from .versions import version_tuple

LINES_OPTIONAL_AFTER = (3, 20)  # the 3.20 schema requires `lines`; the current one does not
# Django's EmailField accepts local@domain with a dotted domain (validators.EmailValidator).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CheckoutInputError(Exception):
    """One CheckoutError, as Saleor returns it in ``errors`` and ``checkoutErrors``."""

    def __init__(
        self, field: str, message: str, code: str, variants: Sequence[str] | None = None
    ) -> None:
        super().__init__(message)
        self.error: dict[str, Any] = {
            "field": field,
            "message": message,
            "code": code,
            "variants": list(variants) if variants is not None else None,
            "lines": None,
        }


class CheckoutInputErrors(Exception):
    """Several CheckoutErrors raised together, as one ``ValidationError`` listing them."""

    def __init__(self, errors: Sequence[CheckoutInputError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = [error.error for error in errors]


def resolve_checkout_create(root: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    context = api_context(info)
    store = context.store
    lines = input.get("lines")
    if lines is None and version_tuple(context.saleor_version)[:2] <= LINES_OPTIONAL_AFTER:
        raise GraphQLError(
            "Field 'CheckoutCreateInput.lines' of required type '[CheckoutLineInput!]!' was "
            "not provided."
        )
    customer = context.viewer.user
    try:
        channel = _channel(store, input.get("channel"))
        specs = _lines(store, channel, lines or [])
        email = input.get("email") or (customer.email if customer is not None else None)
        if email is not None and not _EMAIL.match(email):
            raise CheckoutInputError("email", "Enter a valid email address.", "INVALID")
    except CheckoutInputError as exc:
        return {"errors": [exc.error], "checkoutErrors": [exc.error], "checkout": None}
    except CheckoutInputErrors as exc:
        return {"errors": exc.errors, "checkoutErrors": exc.errors, "checkout": None}
    checkout = store.create_checkout(channel.slug, specs, email, customer)
    context.pending_events.append(("CHECKOUT_CREATED", checkout))
    return {"errors": [], "checkoutErrors": [], "checkout": checkout, "created": True}


def _channel(store: SaleorStore, slug: str | None) -> Channel:
    if slug is None:
        if len(store.channels) != 1:
            raise CheckoutInputError(
                "channel", "You need to provide channel slug.", "MISSING_CHANNEL_SLUG"
            )
        return store.default_channel()
    try:
        channel = store.channel_by_slug(slug)
    except NotFound:
        raise CheckoutInputError(
            "channel", f"Channel with '{slug}' slug does not exist.", "NOT_FOUND"
        ) from None
    if not channel.is_active:
        raise CheckoutInputError(
            "channel", f"Channel with '{slug}' is inactive.", "CHANNEL_INACTIVE"
        )
    return channel


def _lines(store: SaleorStore, channel: Channel, lines: list[dict[str, Any]]) -> list[LineSpec]:
    variants: dict[int, ProductVariant] = {}
    quantities: dict[int, int] = {}
    unknown: list[str] = []
    for line in lines:
        variant = _variant(store, str(line["variantId"]))
        if variant is None:
            unknown.append(str(line["variantId"]))
            continue
        variants[variant.id] = variant
        quantities[variant.id] = quantities.get(variant.id, 0) + int(line["quantity"])
    if unknown:
        raise CheckoutInputError(
            "variantId",
            f"Could not resolve to a node with the global id list of '{unknown}'.",
            "GRAPHQL_ERROR",
        )
    now = utcnow()

    def offered(variant: ProductVariant, ask: Callable[[ProductPublication], bool]) -> bool:
        product = store.products[variant.product_id]
        return channel.id in product.channel_ids and ask(product.publication_in(channel.id))

    unlisted = [
        v for v in variants.values() if not offered(v, lambda p: p.is_available_for_purchase(now))
    ]
    if unlisted:
        raise CheckoutInputError(
            "lines",
            "Cannot add lines for unavailable for purchase variants.",
            "PRODUCT_UNAVAILABLE_FOR_PURCHASE",
            [to_global_id("ProductVariant", v.id) for v in unlisted],
        )
    unpriced = [v for v in variants.values() if v.listing_for(channel.id) is None]
    if unpriced:
        raise CheckoutInputError(
            "lines",
            "Cannot add lines with unavailable variants.",
            "UNAVAILABLE_VARIANT_IN_CHANNEL",
            [to_global_id("ProductVariant", v.id) for v in unpriced],
        )
    unpublished = [v for v in variants.values() if not offered(v, lambda p: p.is_published)]
    if unpublished:
        raise CheckoutInputError(
            "lines",
            "Cannot add lines for unpublished variants.",
            "PRODUCT_NOT_PUBLISHED",
            [to_global_id("ProductVariant", v.id) for v in unpublished],
        )
    if any(quantity <= 0 for quantity in quantities.values()):
        raise CheckoutInputError(
            "quantity", "The quantity should be higher than zero.", "ZERO_QUANTITY"
        )
    try:  # the variant's limit, then its stock or preorder thresholds (stock_checks.py)
        check_checkout_lines(store.get_variant, channel.id, {}, list(quantities.items()))
    except QuantityOverLimit as exc:
        raise CheckoutInputError("quantity", str(exc), exc.code) from None
    except InsufficientStock as exc:
        # Every line short reported, one error each (`check_lines_quantity`).
        raise CheckoutInputErrors(
            [
                CheckoutInputError(
                    "quantity",
                    f"Could not add items {variant_label(variant)}. Only {left} remaining in "
                    "stock.",
                    exc.code,
                )
                for variant, left in zip(exc.variants, exc.available, strict=True)
            ]
        ) from None
    return [LineSpec(pk, quantity) for pk, quantity in quantities.items()]


def _variant(store: SaleorStore, global_id: str) -> ProductVariant | None:
    try:
        type_name, pk = from_global_id(global_id)
    except InvalidGlobalId:
        return None
    if type_name != "ProductVariant" or not pk.isdigit():
        return None
    try:
        return store.get_variant(int(pk))
    except NotFound:
        return None
