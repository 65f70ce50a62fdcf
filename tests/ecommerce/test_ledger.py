"""What the sync ledger holds of a request body: fingerprints, part by part, as each part's own
body gives it (one path for live and initial sync alike), and the order lines Mailchimp can
reference. The ledger repository's reads and writes: tests/ecommerce/test_ledger_repository.py."""

from __future__ import annotations

import base64
from typing import Any

from addon.ecommerce.fingerprints import Fingerprint, fingerprint, order_body, usable_order
from addon.ecommerce.payloads import OptInPolicy, content_hash, customer_ref, top_level
from addon.ecommerce.saleor_schemas import GrossOnly, SaleorOrder, SaleorUser, TaxedAmount
from addon.mailchimp import (
    CartInput,
    CartLineInput,
    CustomerRef,
    ProductInput,
    ProductVariantInput,
)
from tests.ecommerce.conftest import CHANNEL


def gid(kind: str, pk: int) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def product(**changes: Any) -> ProductInput:
    variants = [
        ProductVariantInput(id="11", title="S", price=10.0),
        ProductVariantInput(id="12", title="M", price=10.0),
    ]
    return ProductInput(id="1", title="Shirt", variants=variants).model_copy(update=changes)


def cart(**changes: Any) -> CartInput:
    return CartInput(
        id="tok",
        customer=CustomerRef(id="c1", email_address="ann@example.com", opt_in_status=False),
        currency_code="USD",
        order_total=10.0,
        lines=[
            CartLineInput(id="11", product_id="1", product_variant_id="11", quantity=1, price=10.0)
        ],
    ).model_copy(update=changes)


def test_a_product_fingerprint_hashes_its_fields_and_each_variant_apart() -> None:
    before = fingerprint(product())
    renamed = fingerprint(product(title="Shirt 2"))
    assert set(before.children) == {"11", "12"}
    assert renamed.content_hash != before.content_hash
    assert renamed.children == before.children
    repriced = product()
    repriced.variants[1] = repriced.variants[1].model_copy(update={"price": 12.0})
    after = fingerprint(repriced)
    assert after.content_hash == before.content_hash
    assert after.children["11"] == before.children["11"]
    assert after.children["12"] != before.children["12"]
    assert fingerprint(product()) == before  # the same body, the same fingerprint


def test_a_fingerprint_is_the_hash_of_each_part_as_its_own_body_gives_it() -> None:
    # The ledger holds fingerprints computed this way part by part: a fingerprint computed
    # otherwise must give the same hashes, or every record would look changed.
    shirt = product()
    assert fingerprint(shirt) == Fingerprint(
        content_hash(top_level(shirt, "variants")),
        {v.id: content_hash(v.body()) for v in shirt.variants},
    )
    basket = cart(campaign_id="c-1")
    buyer = {"id": basket.customer.id, "email": basket.customer.email_address}
    assert fingerprint(basket) == Fingerprint(
        content_hash(top_level(basket, "lines", "customer", "campaign_id")),
        {
            "lines": content_hash([line.body() for line in basket.lines]),
            "customer": content_hash(buyer),
        },
    )


def test_a_cart_fingerprint_holds_apart_what_a_patch_cannot_change() -> None:
    before = fingerprint(cart())
    # The campaign is set on creation only: it never makes a push.
    assert fingerprint(cart(campaign_id="c-9")) == before
    more = cart()
    more.lines[0] = more.lines[0].model_copy(update={"quantity": 2})
    after = fingerprint(more)
    assert after.content_hash == before.content_hash
    assert after.children["lines"] != before.children["lines"]
    # Nor can a PATCH change whom the cart is for: the customer is a part of its own.
    other = cart()
    other.customer = other.customer.model_copy(update={"email_address": "bea@example.com"})
    moved = fingerprint(other)
    assert moved.content_hash == before.content_hash
    assert moved.children["customer"] != before.children["customer"]
    assert moved.children["lines"] == before.children["lines"]


def order(lines: list[tuple[int, int | None]], status: str = "UNFULFILLED") -> SaleorOrder:
    money = {"amount": "10.00", "currency": "USD"}
    taxed = {"gross": money, "net": money, "tax": {"amount": "0", "currency": "USD"}}
    return SaleorOrder.model_validate(
        {
            "id": gid("Order", 7),
            "number": "7",
            "created": "2026-01-01T00:00:00+00:00",
            "updatedAt": "2026-01-01T00:00:00+00:00",
            "status": status,
            "origin": "CHECKOUT",
            "paymentStatus": "NOT_CHARGED",
            "chargeStatus": "NONE",
            "totalCharged": money,
            "totalRefunded": {"amount": "0", "currency": "USD"},
            "totalRefundPending": {"amount": "0", "currency": "USD"},
            "userEmail": "ann@example.com",
            "channel": {"slug": CHANNEL, "currencyCode": "USD"},
            "total": taxed,
            "undiscountedTotal": {"gross": money},
            "subtotal": taxed,
            "shippingPrice": {"gross": {"amount": "0", "currency": "USD"}},
            "attribution": {"mailchimp_campaign_id": "camp-1"},
            "lines": [
                {
                    "id": gid("OrderLine", line),
                    "quantity": 1,
                    "totalPrice": {"gross": money},
                    "undiscountedTotalPrice": {"gross": money},
                    "variant": None
                    if variant is None
                    else {
                        "id": gid("ProductVariant", variant),
                        "product": {"id": gid("Product", 1)},
                    },
                }
                for line, variant in lines
            ],
        }
    )


def test_usable_order_lines_are_those_whose_variant_mailchimp_holds() -> None:
    placed = order([(1, 11), (2, 12), (3, None)])
    assert [ln.id for ln in usable_order(placed, {"11"}).lines] == [gid("OrderLine", 1)]
    policy = OptInPolicy(list_id="list")
    body = order_body(placed, {"11", "12"}, policy, order_id="1")
    assert body is not None and [ln.id for ln in body.lines] == ["1", "2"]
    assert body.campaign_id == "camp-1"
    assert (
        order_body(placed, set(), policy, order_id="1") is None
    )  # no line Mailchimp can reference
    assert order_body(order([(1, 11)], status="DRAFT"), {"11"}, policy, order_id="1") is None


def test_a_line_left_out_is_no_discount() -> None:
    """Fails before the fix: with a line Mailchimp holds no product of left out, its price
    counted as a shipping discount (the undiscounted total less the lines sent)."""
    money = {"amount": "20.00", "currency": "USD"}
    taxed = {"gross": money, "net": money, "tax": {"amount": "0", "currency": "USD"}}
    placed = order([(1, 11), (2, 12)]).model_copy(
        update={
            "subtotal": TaxedAmount.model_validate(taxed),
            "total": TaxedAmount.model_validate(taxed),
            "undiscounted_total": GrossOnly.model_validate({"gross": money}),
        }
    )
    body = order_body(placed, {"11"}, OptInPolicy(list_id="list"), order_id="1")
    assert body is not None and [ln.id for ln in body.lines] == ["1"]
    assert (body.discount_total, body.order_total) == (0, 20)


def test_a_checkout_s_consent_for_another_address_is_not_the_account_s() -> None:
    """Fails before the fix: signed in as work@, the shopper typed home@ and ticked the box;
    the cart (and its order) went for work@ opted in, which Mailchimp subscribes when new."""
    work = SaleorUser(id=gid("User", 1), email="work@example.com")
    policy = OptInPolicy(list_id="list", default_list_id="list", confirmation_required=False)
    ticked = {"mailchimp.consent.subscribe": "true"}
    other = customer_ref(work, "work@example.com", None, policy, ticked, consent_for="home@x.org")
    assert (other.email_address, other.opt_in_status) == ("work@example.com", False)
    own = customer_ref(
        work, "work@example.com", None, policy, ticked, consent_for="Work@Example.com"
    )
    assert own.opt_in_status is True
