"""The admin's choice of vouchers and the codes' redemption links, as docs/promo-codes.md
words them."""

from __future__ import annotations

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
