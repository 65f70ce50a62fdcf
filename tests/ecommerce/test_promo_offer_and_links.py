"""The admin's choice of vouchers and the codes' redemption links, as docs/promo-codes.md
words them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from addon.ecommerce.links import full_url
from addon.ecommerce.promo_payloads import redemption_url
from tests.ecommerce.conftest import CHANNEL, Shop, choose, codes, rules, run_all


async def test_every_voucher_sends_a_flagged_staff_only_voucher(shop: Shop) -> None:
    """docs/promo-codes.md: "Every voucher ... (not one Saleor keeps for staff, *Only for
    staff*: flag it to send it anyway)". Before, "Every voucher" left it out, flag or not."""
    await choose(shop, "all")
    staff = await shop.saleor.vouchers.create(
        "Staff",
        ["STAFF50"],
        channels={CHANNEL: 50},
        only_for_staff=True,
        metadata={"mailchimp_promo": "true"},
    )
    unflagged = await shop.saleor.vouchers.create(
        "Staff only", ["STAFF10"], channels={CHANNEL: 10}, only_for_staff=True
    )
    await run_all(shop)
    held = await rules(shop)
    assert str(staff.id) in held
    assert str(unflagged.id) not in held


async def test_the_fallback_redemption_url_has_no_placeholder(shop: Shop) -> None:
    """No redemption template: the code links to the storefront's address, as the store's own
    domain has it (addon/ecommerce/store_domain.py fills in `{channel}`). Before, the product
    URL template's raw host was taken, `https://{channel}.grocer.example/`."""
    response = await shop.api(
        "PATCH",
        "/api/ecommerce/settings",
        {"product_url_template": "https://{channel}.grocer.example/products/{slug}"},
    )
    assert response.status_code == 200, response.text
    await choose(shop, "all", redemption_url_template=None)
    voucher = await shop.saleor.vouchers.create("Spring", ["SPRING"], channels={CHANNEL: 5})
    await run_all(shop)
    url = (await codes(shop, voucher))["SPRING"]["redemption_url"]
    assert url == f"https://{CHANNEL}.grocer.example/"


FALLBACK = "https://shop.example/"


@pytest.mark.parametrize(
    ("code", "encoded"),
    [
        ("SPRING 10", "SPRING%2010"),
        ("A&B=1", "A%26B%3D1"),
        ("A#1", "A%231"),
        ("A/B", "A%2FB"),
        ("10%", "10%25"),
        ("ŻÓŁW-ÉTÉ", "%C5%BB%C3%93%C5%81W-%C3%89T%C3%89"),
        ("A+B?", "A%2BB%3F"),
    ],
)
def test_a_code_of_any_characters_makes_a_full_redemption_link(code: str, encoded: str) -> None:
    """Each value percent-encoded as UTF-8 (`links.fill_url`), in a path and a query alike:
    a full URL, as Mailchimp takes one, that gives the code back as it is."""
    template = "https://shop.example/{channel}/cart?promo={code}&c={channel}"
    url = redemption_url(template, code, "pl pl", FALLBACK)
    assert url == f"https://shop.example/pl%20pl/cart?promo={encoded}&c=pl%20pl"
    assert full_url(url) == url
    assert parse_qs(urlsplit(url).query) == {"promo": [code], "c": ["pl pl"]}


@pytest.mark.parametrize(
    "template",
    [
        None,
        "",
        # Saved before the settings checked a template: no full link, left out for the store's
        # address (Mailchimp requires a code's `redemption_url`).
        "shop.example/cart?promo={code}",
        "https://shop.example/cart?promo={code} now",
        # Filled, longer than Mailchimp's 2,000 characters: cut, it would carry half a code.
        "https://shop.example/?" + "&".join(f"p{i}={{code}}" for i in range(5)),
    ],
)
def test_a_template_that_makes_no_full_link_gives_the_stores_address(
    template: str | None,
) -> None:
    assert redemption_url(template, "🍐" * 50, "default", FALLBACK) == FALLBACK
